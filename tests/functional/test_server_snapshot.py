"""Acceptance: createImage snapshots a server into the image service, as Nova does it
through Glance v2, on an all-in-one with one fake compute host (real HTTP, in-process RPC).

The API creates the image queued as the caller and moves the server into
image_snapshot_pending; the agent saves the fake disk and uploads it with the user's
token; the image service computes size and checksums. Every refusal leaves no image.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from boot_helpers import boot, make_flavor, show, wait_for, wait_gone
from compute_helpers import Compute, admin, cell_engine, ensure_image, fault
from harness import start_cloud, stop_cloud
from personas import make_world

from stratus.cells.schema_cell import instance_faults

BASE_IMAGE = "0c6f4a5e-2b8d-4f6e-9a3c-7d1e5b2f8a90"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("snapshot"), fake_hosts=1)
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def world(cloud):
    """Personas, a flavor, and a public base image with properties a snapshot inherits
    (hw_disk_bus) and one it must not (cache_in_nova)."""
    personas = make_world(cloud)
    flavor = make_flavor(admin(cloud), "snap.small", ram=128, vcpus=1, disk=1)
    ensure_image(cloud, BASE_IMAGE, name="snap-base", min_ram=64, min_disk=1,
                 hw_disk_bus="scsi", cache_in_nova="True")
    return {"personas": personas, "flavor": flavor["id"]}


def _as(cloud, world, persona: str) -> Compute:
    return Compute(cloud, world["personas"].tokens[persona])


def _server(cloud, world) -> tuple[Compute, str]:
    """An ACTIVE server of the owning project, booted by its member."""
    member = _as(cloud, world, "member")
    server_id = boot(member, f"snap-{uuid.uuid4().hex[:6]}", world["flavor"], BASE_IMAGE)["id"]
    wait_for(member, server_id, "ACTIVE")
    return member, server_id


def _images(cloud, server_id: str) -> list[dict]:
    """Every image (any owner, any status) made from ``server_id``, as the cloud admin."""
    resp = requests.get(f"{cloud.url}/image/v2/images",
                        params={"instance_uuid": server_id},
                        headers={"X-Auth-Token": cloud.admin_token()})
    assert resp.status_code == 200, resp.text
    return resp.json()["images"]


def _image(cloud, token: str, image_id: str) -> requests.Response:
    return requests.get(f"{cloud.url}/image/v2/images/{image_id}",
                        headers={"X-Auth-Token": token})


def _wait_image(cloud, token: str, image_id: str, *statuses: str,
                timeout: float = 30) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        resp = _image(cloud, token, image_id)
        state = resp.json()["status"] if resp.status_code == 200 else resp.status_code
        if state in statuses:
            return resp
        assert time.monotonic() < deadline, f"image {image_id}: {resp.status_code} {resp.text}"
        time.sleep(0.05)


def _create_image(compute: Compute, server_id: str, body: dict) -> requests.Response:
    return compute.post(f"/servers/{server_id}/action", {"createImage": body})


def _delete(compute: Compute, server_id: str) -> None:
    compute.delete(f"/servers/{server_id}")
    wait_gone(compute, server_id)


def test_create_image_of_an_active_server_uploads_an_active_snapshot_of_its_disk(
        cloud, world, caplog):
    caplog.set_level(logging.DEBUG)
    member, server_id = _server(cloud, world)
    resp = _create_image(member, server_id, {"name": "snap1", "metadata": {
        "purpose": "backup", "hw_disk_bus": "virtio"}})
    assert resp.status_code == 202, resp.text
    assert resp.content == b""
    location = resp.headers["Location"]
    assert location.startswith(f"{cloud.url}/image/images/")
    image_id = location.rsplit("/", 1)[1]

    image = _wait_image(cloud, member.token, image_id, "active").json()
    project = world["personas"].values["project_id"]
    assert image["name"] == "snap1" and image["visibility"] == "private"
    assert image["owner"] == project
    assert image["image_type"] == "snapshot" and image["instance_uuid"] == server_id
    assert image["base_image_ref"] == BASE_IMAGE
    assert image["user_id"] == world["personas"].user_ids["member"]
    assert image["purpose"] == "backup"
    assert image["hw_disk_bus"] == "virtio"  # the request's metadata beats the base image's
    assert "cache_in_nova" not in image  # Nova's non-inheritable properties stay behind
    assert image["min_ram"] == 64 and image["min_disk"] == 1
    assert (image["disk_format"], image["container_format"]) == ("raw", "bare")
    data = requests.get(f"{cloud.url}/image/v2/images/{image_id}/file",
                        headers={"X-Auth-Token": member.token})
    assert data.status_code == 200
    assert image["size"] == len(data.content) > 0
    assert hashlib.md5(data.content).hexdigest() == image["checksum"]
    assert hashlib.new(image["os_hash_algo"], data.content).hexdigest() == \
        image["os_hash_value"]
    assert server_id.encode() in data.content  # the fake disk describes its guest

    server = wait_for(member, server_id, "ACTIVE")
    assert server["OS-EXT-STS:task_state"] is None
    actions = member.get(f"/servers/{server_id}/os-instance-actions").json()
    snapshot = next(a for a in actions["instanceActions"] if a["action"] == "createImage")
    events = admin(cloud).get(f"/servers/{server_id}/os-instance-actions/"
                              f"{snapshot['request_id']}").json()["instanceAction"]["events"]
    assert [(e["event"], e["result"]) for e in events] == [
        ("compute_snapshot_instance", "Success")]
    # The agent uploaded with the member's token, which RPC carried and nothing logged.
    assert caplog.records  # the services' logs were captured, down to DEBUG
    assert not [r for r in caplog.records if member.token in r.getMessage()]
    _delete(member, server_id)


def test_a_stopped_server_is_snapshotted_and_stays_shutoff(cloud, world):
    member, server_id = _server(cloud, world)
    assert member.post(f"/servers/{server_id}/action", {"os-stop": None}).status_code == 202
    wait_for(member, server_id, "SHUTOFF")
    resp = _create_image(member, server_id, {"name": "stopped-snap"})
    assert resp.status_code == 202, resp.text
    image_id = resp.headers["Location"].rsplit("/", 1)[1]
    _wait_image(cloud, member.token, image_id, "active")
    assert wait_for(member, server_id, "SHUTOFF")["OS-EXT-STS:task_state"] is None
    _delete(member, server_id)


@pytest.mark.parametrize("body", [
    {},
    {"metadata": {"a": "b"}},
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 256},
    {"name": "snap", "extra": "key"},
    {"name": "snap", "metadata": {"count": 1}},
    {"name": "snap", "metadata": {"k": "v" * 256}},
    {"name": "snap", "metadata": "not an object"},
    {"name": "snap", "metadata": {"visibility": "public"}},  # an attribute, not metadata
], ids=["empty", "no-name", "empty-name", "blank-name", "long-name", "extra-key",
        "integer-value", "long-value", "metadata-string", "attribute-as-metadata"])
def test_a_bad_body_is_400_and_creates_no_image(cloud, world, body):
    member, server_id = _server(cloud, world)
    fault(_create_image(member, server_id, body), 400)
    assert _images(cloud, server_id) == []
    assert show(member, server_id)["OS-EXT-STS:task_state"] is None
    _delete(member, server_id)


def test_a_server_in_error_or_locked_is_409_and_creates_no_image(cloud, world):
    member, server_id = _server(cloud, world)
    cloud_admin = admin(cloud)
    assert cloud_admin.post(f"/servers/{server_id}/action",
                            {"os-resetState": {"state": "error"}}).status_code == 202
    message = fault(_create_image(member, server_id, {"name": "nope"}), 409)
    assert message == (f"Cannot 'createImage' instance {server_id} while it is in "
                       "vm_state error")
    cloud_admin.post(f"/servers/{server_id}/action", {"os-resetState": {"state": "active"}})
    assert cloud_admin.post(f"/servers/{server_id}/action", {"lock": None}).status_code == 202
    assert fault(_create_image(member, server_id, {"name": "nope"}), 409) == \
        f"Instance {server_id} is locked"
    assert _images(cloud, server_id) == []
    cloud_admin.post(f"/servers/{server_id}/action", {"unlock": None})
    _delete(member, server_id)


def test_another_projects_member_gets_404_and_a_reader_403_and_nothing_is_made(cloud, world):
    member, server_id = _server(cloud, world)
    fault(_create_image(_as(cloud, world, "other_member"), server_id, {"name": "x"}), 404)
    fault(_create_image(_as(cloud, world, "reader"), server_id, {"name": "x"}), 403)
    assert _images(cloud, server_id) == []
    _delete(member, server_id)


def test_an_admin_snapshot_of_another_projects_server_is_shared_with_its_owner(cloud, world):
    """Nova makes the image ``shared`` and adds the server's project as a member."""
    member, server_id = _server(cloud, world)
    cloud_admin = admin(cloud)
    resp = _create_image(cloud_admin, server_id, {"name": "admin-snap"})
    assert resp.status_code == 202, resp.text
    image_id = resp.headers["Location"].rsplit("/", 1)[1]
    image = _wait_image(cloud, cloud_admin.token, image_id, "active").json()
    project = world["personas"].values["project_id"]
    assert image["visibility"] == "shared" and image["instance_owner"] == project
    members = requests.get(f"{cloud.url}/image/v2/images/{image_id}/members",
                           headers={"X-Auth-Token": cloud_admin.token}).json()["members"]
    assert [m["member_id"] for m in members] == [project]
    assert _image(cloud, member.token, image_id).status_code == 200
    _delete(member, server_id)


@pytest.mark.parametrize("metadata,status", [
    ({"os_glance_mine": "x"}, 403),  # a property the image service reserves for itself
    ({f"key{n}": "v" for n in range(140)}, 413),  # over the image property quota
], ids=["reserved-property", "property-quota"])
def test_an_image_service_refusal_is_mapped_and_leaves_the_server_alone(
        cloud, world, metadata, status):
    member, server_id = _server(cloud, world)
    resp = _create_image(member, server_id, {"name": "refused", "metadata": metadata})
    assert resp.status_code == status, resp.text
    assert list(resp.json()) == [{403: "forbidden", 413: "overLimit"}[status]]
    assert _images(cloud, server_id) == []
    server = show(member, server_id)
    assert server["status"] == "ACTIVE" and server["OS-EXT-STS:task_state"] is None
    actions = member.get(f"/servers/{server_id}/os-instance-actions").json()
    assert "createImage" not in {a["action"] for a in actions["instanceActions"]}
    _delete(member, server_id)


def test_a_snapshot_that_fails_on_the_host_deletes_its_image_and_records_the_fault(
        cloud, world):
    member, server_id = _server(cloud, world)
    (agent,) = cloud.aio.rpc_services.agents.agents.values()
    agent.driver.fail_next_snapshots(1, reason="Injected snapshot failure")
    resp = _create_image(member, server_id, {"name": "doomed"})
    assert resp.status_code == 202, resp.text
    image_id = resp.headers["Location"].rsplit("/", 1)[1]
    _wait_image(cloud, cloud.admin_token(), image_id, 404)
    server = wait_for(member, server_id, "ACTIVE")
    assert server["OS-EXT-STS:task_state"] is None
    actions = member.get(f"/servers/{server_id}/os-instance-actions").json()
    snapshot = next(a for a in actions["instanceActions"] if a["action"] == "createImage")
    action = admin(cloud).get(f"/servers/{server_id}/os-instance-actions/"
                              f"{snapshot['request_id']}").json()["instanceAction"]
    assert [(e["event"], e["result"]) for e in action["events"]] == [
        ("compute_snapshot_instance", "Error")]
    assert action["message"] == "Error"
    with cell_engine(cloud).connect() as conn:
        messages = conn.execute(sa.select(instance_faults.c.message).where(
            instance_faults.c.instance_uuid == server_id)).scalars().all()
    assert any("Injected snapshot failure" in m for m in messages), messages
    assert _images(cloud, server_id) == []
    _delete(member, server_id)
