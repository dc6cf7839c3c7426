"""Acceptance: the openstack CLI and openstacksdk drive the compute API of a real all-in-one."""

from __future__ import annotations

import os

import openstack
import pytest
import yaml
from harness import free_port
from openstack import utils
from test_all_in_one_cli import AllInOneProcess, osc

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def aio(tmp_path_factory):
    proc = AllInOneProcess(tmp_path_factory.mktemp("aio-compute"), free_port())
    proc.start()
    yield proc
    proc.stop()


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _sdk(aio):
    os.environ["OS_CLIENT_CONFIG_FILE"] = os.path.join(aio.state_dir, "clouds.yaml")
    try:
        return openstack.connect(cloud="stratus")
    finally:
        del os.environ["OS_CLIENT_CONFIG_FILE"]


def test_flavor_create_list_show_delete(aio):
    created = yaml.safe_load(ok(osc(aio, "stratus", "flavor", "create", "--ram", "512",
                                    "--vcpus", "1", "--disk", "1", "cli.tiny", "-f", "yaml")))
    assert created["ram"] == 512 and created["name"] == "cli.tiny"
    listed = yaml.safe_load(ok(osc(aio, "stratus", "flavor", "list", "-f", "yaml")))
    assert "cli.tiny" in {f["Name"] for f in listed}
    shown = yaml.safe_load(ok(osc(aio, "stratus", "flavor", "show", "cli.tiny", "-f", "yaml")))
    assert shown["id"] == created["id"] and shown["vcpus"] == 1
    refused = osc(aio, "stratus-demo", "flavor", "create", "--ram", "1", "--vcpus", "1",
                  "nope")
    assert refused.returncode != 0 and "403" in refused.stderr
    ok(osc(aio, "stratus", "flavor", "delete", "cli.tiny"))
    assert osc(aio, "stratus", "flavor", "show", "cli.tiny").returncode != 0


def test_keypair_create_list_delete(aio):
    private = ok(osc(aio, "stratus-demo", "keypair", "create", "cli-key"))
    assert "PRIVATE KEY" in private
    listed = yaml.safe_load(ok(osc(aio, "stratus-demo", "keypair", "list", "-f", "yaml")))
    assert [k["Name"] for k in listed] == ["cli-key"]
    ok(osc(aio, "stratus-demo", "keypair", "delete", "cli-key"))
    assert yaml.safe_load(ok(osc(aio, "stratus-demo", "keypair", "list", "-f", "yaml"))) == []


def test_sdk_negotiates_2_38_and_boots_a_server_on_the_fake_host(aio):
    ok(osc(aio, "stratus", "flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1",
           "srv.tiny"))
    conn = _sdk(aio)
    assert utils.maximum_supported_microversion(conn.compute, "2.100") == "2.38"
    flavor = conn.compute.find_flavor("srv.tiny")
    image = conn.image.find_image("stratus-tiny")
    server = conn.compute.create_server(name="sdk-server", flavor_id=flavor.id,
                                        image_id=image.id, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60)
    assert server.compute_host
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)


def test_server_create_wait_reaches_active_and_delete_wait_frees_the_host(aio):
    """The acceptance of issue 5 as a user types it: the CLI finds --image through the
    image service, sends it as imageRef and as an image-to-local block device mapping,
    waits for ACTIVE; the host's provider shows the usage until the server is deleted."""
    ok(osc(aio, "stratus", "flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1",
           "cli.small"))
    image = yaml.safe_load(ok(osc(aio, "stratus", "image", "show", "stratus-tiny",
                                  "-f", "yaml")))
    created = yaml.safe_load(ok(osc(aio, "stratus", "server", "create", "--image",
                                    "stratus-tiny", "--flavor", "cli.small", "--nic", "none",
                                    "demo", "--wait", "-f", "yaml")))
    assert created["status"] == "ACTIVE"
    shown = yaml.safe_load(ok(osc(aio, "stratus", "server", "show", "demo", "-f", "yaml")))
    assert shown["id"] == created["id"] and shown["status"] == "ACTIVE"
    assert image["id"] in str(shown["image"]) and shown["OS-EXT-SRV-ATTR:host"]
    provider = yaml.safe_load(ok(osc(
        aio, "stratus", "resource", "provider", "list",
        "--name", shown["OS-EXT-SRV-ATTR:hypervisor_hostname"], "-f", "yaml")))[0]
    usage = {row["resource_class"]: row["usage"] for row in yaml.safe_load(ok(osc(
        aio, "stratus", "resource", "provider", "usage", "show", provider["uuid"],
        "-f", "yaml")))}
    assert usage["VCPU"] == 1 and usage["MEMORY_MB"] == 256 and usage["DISK_GB"] == 1
    console = ok(osc(aio, "stratus", "console", "log", "show", "demo"))
    assert console.strip()
    ok(osc(aio, "stratus", "server", "delete", "demo", "--wait"))
    assert yaml.safe_load(ok(osc(aio, "stratus", "server", "list", "-f", "yaml"))) == []
    usage = {row["resource_class"]: row["usage"] for row in yaml.safe_load(ok(osc(
        aio, "stratus", "resource", "provider", "usage", "show", provider["uuid"],
        "-f", "yaml")))}
    assert set(usage.values()) == {0}


def test_hypervisor_service_and_quota_commands(aio):
    """The all-in-one runs one fake compute host by default: one hypervisor, one service."""
    assert len(yaml.safe_load(ok(osc(aio, "stratus", "hypervisor", "list", "-f", "yaml")))) == 1
    services = yaml.safe_load(ok(osc(aio, "stratus", "compute", "service", "list",
                                     "-f", "yaml")))
    assert [s["State"] for s in services] == ["up"]
    quota = yaml.safe_load(ok(osc(aio, "stratus", "quota", "show", "-f", "yaml")))
    limits = {row["Resource"]: row["Limit"] for row in quota} if isinstance(quota, list) \
        else quota
    assert limits["instances"] == 10 and limits["cores"] == 20 and limits["ram"] == 51200


def test_image_list_through_the_image_endpoint_and_the_compute_proxy_agree(aio):
    """`openstack image list` talks to the image service; the compute API's proxy (2.35)
    shows the same images, translated, and is gone at 2.36."""
    listed = yaml.safe_load(ok(osc(aio, "stratus", "image", "list", "-f", "yaml")))
    assert "stratus-tiny" in {image["Name"] for image in listed}
    conn = _sdk(aio)
    proxied = conn.compute.get("/images/detail", microversion="2.35")
    assert proxied.status_code == 200, proxied.text
    by_id = {image["id"]: image for image in proxied.json()["images"]}
    assert set(by_id) == {image["ID"] for image in listed}
    tiny = next(image for image in listed if image["Name"] == "stratus-tiny")
    assert by_id[tiny["ID"]]["status"] == "ACTIVE"
    gone = conn.compute.get("/images", microversion="2.36", raise_exc=False)
    assert gone.status_code == 404


def test_server_image_create_wait_snapshots_the_server_into_an_active_image(aio):
    """`openstack server image create --wait` as a user types it: createImage through the
    SDK (the image id read from Location), then the image polled in the image service."""
    ok(osc(aio, "stratus", "flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1",
           "cli.snap"))
    server = yaml.safe_load(ok(osc(aio, "stratus-demo", "server", "create", "--image",
                                   "stratus-tiny", "--flavor", "cli.snap", "--nic", "none",
                                   "snapped", "--wait", "-f", "yaml")))
    created = yaml.safe_load(ok(osc(aio, "stratus-demo", "server", "image", "create",
                                    "--name", "snap1", "--wait", "snapped", "-f", "yaml")))
    assert created["name"] == "snap1"
    image = yaml.safe_load(ok(osc(aio, "stratus-demo", "image", "show", "snap1",
                                  "-f", "yaml")))
    assert image["status"] == "active" and image["visibility"] == "private"
    assert image["size"] > 0 and image["checksum"]
    properties = image["properties"]
    assert properties["image_type"] == "snapshot"
    assert properties["instance_uuid"] == server["id"]
    shown = yaml.safe_load(ok(osc(aio, "stratus-demo", "server", "show", "snapped",
                                  "-f", "yaml")))
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-STS:task_state"] is None
    ok(osc(aio, "stratus-demo", "server", "delete", "snapped", "--wait"))
    ok(osc(aio, "stratus-demo", "image", "delete", "snap1"))
