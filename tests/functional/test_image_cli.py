"""Acceptance: the openstack CLI and openstacksdk drive the image service of a real
`stratus all-in-one` process unchanged."""

from __future__ import annotations

import hashlib
import os
import uuid

import openstack
import pytest
import yaml
from harness import free_port
from test_all_in_one_cli import AllInOneProcess, osc

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def aio(tmp_path_factory):
    proc = AllInOneProcess(tmp_path_factory.mktemp("aio-image"), free_port())
    proc.start()
    yield proc
    proc.stop()


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_cli_image_create_list_show_set_save_share_delete(aio, tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 3)
    source = tmp_path / "disk.qcow2"
    source.write_bytes(data)
    name = "cli-" + uuid.uuid4().hex[:6]
    created = yaml.safe_load(ok(osc(
        aio, "stratus", "image", "create", "--file", str(source), "--disk-format", "qcow2",
        "--container-format", "bare", name, "-f", "yaml")))
    assert created["status"] == "active" and created["size"] == len(data)
    assert created["checksum"] == hashlib.md5(data).hexdigest()

    listed = yaml.safe_load(ok(osc(aio, "stratus", "image", "list", "-f", "yaml")))
    assert {"stratus-tiny", name} <= {i["Name"] for i in listed}

    ok(osc(aio, "stratus", "image", "set", "--property", "hw_disk_bus=virtio",
           "--property", "os_distro=debian", name))
    shown = yaml.safe_load(ok(osc(aio, "stratus", "image", "show", name, "-f", "yaml")))
    assert shown["properties"]["hw_disk_bus"] == "virtio"
    assert shown["properties"]["os_distro"] == "debian"

    saved = tmp_path / "saved"
    ok(osc(aio, "stratus", "image", "save", "--file", str(saved), name))
    assert saved.read_bytes() == data

    # Sharing: the demo project is added, accepts, and then lists the image.
    image_id = created["id"]
    member = yaml.safe_load(ok(osc(aio, "stratus", "image", "add", "project", name, "demo",
                                   "-f", "yaml")))
    assert member["status"] == "pending"
    ok(osc(aio, "stratus-demo", "image", "set", "--accept", image_id))
    demo_list = yaml.safe_load(ok(osc(aio, "stratus-demo", "image", "list", "-f", "yaml")))
    assert image_id in {i["ID"] for i in demo_list}
    refused = osc(aio, "stratus-demo", "image", "delete", image_id)
    assert refused.returncode != 0 and "403" in refused.stderr

    ok(osc(aio, "stratus", "image", "delete", name))
    gone = osc(aio, "stratus", "image", "show", image_id)
    assert gone.returncode != 0


def test_sdk_create_and_download_round_trip_checksum_and_hash(aio, tmp_path):
    data = os.urandom(1024 * 1024 + 5)
    source = tmp_path / "disk.raw"
    source.write_bytes(data)
    os.environ["OS_CLIENT_CONFIG_FILE"] = os.path.join(aio.state_dir, "clouds.yaml")
    try:
        conn = openstack.connect(cloud="stratus-demo")
        image = conn.image.create_image(name="sdk-" + uuid.uuid4().hex[:6],
                                        filename=str(source), disk_format="raw",
                                        container_format="bare", wait=True)
        image = conn.image.get_image(image.id)
        assert image.status == "active" and image.size == len(data)
        assert image.checksum == hashlib.md5(data).hexdigest()
        assert image.hash_algo == "sha512"
        assert image.hash_value == hashlib.sha512(data).hexdigest()
        downloaded = conn.image.download_image(image)
        assert downloaded.content == data
        target = tmp_path / "out"
        conn.image.download_image(image, output=str(target))
        assert target.read_bytes() == data
        conn.image.delete_image(image)
        assert conn.image.find_image(image.id) is None
    finally:
        del os.environ["OS_CLIENT_CONFIG_FILE"]
