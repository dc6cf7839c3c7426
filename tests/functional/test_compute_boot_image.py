"""Boot checks the image through the image API, as the caller, before anything is written.

Each refusal is a 400 (or 403/503) in Nova's words and leaves no server, build request or
request spec behind; an accepted image's properties travel in the request spec for the
scheduler.
"""

import uuid

import orjson
import pytest
import requests
import sqlalchemy as sa
from compute_helpers import (
    admin,
    admin_project_id,
    demo,
    demo_project_id,
    ensure_flavor,
    ensure_image,
    fault,
)
from harness import free_port, start_cloud, stop_cloud

from stratus.cells.schema_api import build_requests, instance_mappings, request_specs

UNLIMITED = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}


@pytest.fixture(scope="module", autouse=True)
def flavor(cloud):
    ensure_flavor(admin(cloud), "tiny", ram=512, vcpus=1)
    for project in (demo_project_id(cloud), admin_project_id(cloud)):
        admin(cloud).put(f"/os-quota-sets/{project}", UNLIMITED)


def _image_api(cloud, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"X-Auth-Token": cloud.admin_token(), **kwargs.pop("headers", {})}
    return requests.request(method, f"{cloud.url}/image/v2{path}", headers=headers, **kwargs)


def _rows(cloud) -> dict[str, int]:
    with cloud.aio.compute.api_engine.connect() as conn:
        return {table.name: conn.execute(
            sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (build_requests, request_specs, instance_mappings)}


def _boot(compute, image_ref: str, flavor: str = "tiny", name: str = "img-boot"):
    return compute.post("/servers", {"server": {"name": name, "imageRef": image_ref,
                                                "flavorRef": flavor, "networks": "none"}})


def _assert_refused(cloud, resp, status: int, message: str) -> None:
    before = _rows(cloud)
    assert fault(resp, status) == message
    assert _rows(cloud) == before
    names = [s["name"] for s in admin(cloud).get("/servers?all_tenants=1").json()["servers"]]
    assert "img-boot" not in names


def test_missing_and_invisible_images_are_400_not_found_and_create_nothing(cloud):
    missing = str(uuid.uuid4())
    before = _rows(cloud)
    assert fault(_boot(demo(cloud), missing), 400) == f"Image {missing} could not be found."
    private = ensure_image(cloud, str(uuid.uuid4()), visibility="private")
    assert private["owner"] == admin_project_id(cloud)
    assert fault(_boot(demo(cloud), private["id"]), 400) == (
        f"Image {private['id']} could not be found.")
    assert _rows(cloud) == before
    # The owner may boot it: visibility is the image service's call, made with the token.
    assert _boot(admin(cloud), private["id"], name="owner-boot").status_code == 202


def test_queued_and_deactivated_images_are_400_not_active(cloud):
    queued = ensure_image(cloud, str(uuid.uuid4()), data=None)
    assert queued["status"] == "queued"
    before = _rows(cloud)
    assert fault(_boot(demo(cloud), queued["id"]), 400) == (
        f"Image {queued['id']} is not active.")
    deactivated = ensure_image(cloud, str(uuid.uuid4()))
    resp = _image_api(cloud, "POST", f"/images/{deactivated['id']}/actions/deactivate")
    assert resp.status_code == 204, resp.text
    assert fault(_boot(admin(cloud), deactivated["id"]), 400) == (
        f"Image {deactivated['id']} is not active.")
    assert _rows(cloud) == before


def test_flavor_too_small_for_min_ram_or_min_disk_is_400(cloud):
    needs_ram = ensure_image(cloud, str(uuid.uuid4()), min_ram=1024)
    needs_disk = ensure_image(cloud, str(uuid.uuid4()), min_disk=5)
    _assert_refused(cloud, _boot(demo(cloud), needs_ram["id"]), 400,
                    "Flavor's memory is too small for requested image.")
    before = _rows(cloud)
    message = fault(_boot(demo(cloud), needs_disk["id"]), 400)
    assert message.startswith("Flavor's disk is too small for requested image.")
    assert _rows(cloud) == before
    # Enough memory, and a flavor whose root disk comes from the image (0 GB) is not checked.
    created = admin(cloud).post("/flavors", {"flavor": {
        "name": "roomy-zero-disk", "id": "roomy", "ram": 2048, "vcpus": 1, "disk": 0}})
    assert created.status_code == 200, created.text
    assert _boot(demo(cloud), needs_ram["id"], "roomy", name="fits").status_code == 202
    assert _boot(demo(cloud), needs_disk["id"], "roomy", name="fits").status_code == 202


def test_image_properties_reach_the_request_spec(cloud):
    image = ensure_image(cloud, str(uuid.uuid4()), min_ram=256, min_disk=1,
                         architecture="x86_64", hw_disk_bus="virtio",
                         **{"trait:CUSTOM_FAST_DISK": "required"})
    resp = _boot(demo(cloud), f"{cloud.url}/image/v2/images/{image['id']}", name="spec")
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    with cloud.aio.compute.api_engine.connect() as conn:
        spec = orjson.loads(conn.execute(sa.select(request_specs.c.spec).where(
            request_specs.c.instance_uuid == server_id)).scalar_one())
    assert spec["image"]["id"] == image["id"]
    assert spec["image"]["properties"] == {"architecture": "x86_64", "hw_disk_bus": "virtio",
                                           "trait:CUSTOM_FAST_DISK": "required"}
    assert (spec["image"]["min_ram"], spec["image"]["min_disk"]) == (256, 1)
    assert spec["image"]["size"] == image["size"] and image["size"] > 0
    assert (spec["image"]["disk_format"], spec["image"]["container_format"]) == ("raw", "bare")
    assert spec["image"]["status"] == "active"


def test_boot_from_volume_is_still_refused_before_any_image_lookup(cloud):
    volume = {"uuid": str(uuid.uuid4()), "source_type": "volume",
              "destination_type": "volume", "boot_index": 0}
    before = _rows(cloud)
    message = fault(demo(cloud).post("/servers", {"server": {
        "name": "img-boot", "imageRef": "", "flavorRef": "tiny", "networks": "none",
        "block_device_mapping_v2": [volume]}}), 400)
    assert "block storage service" in message
    assert _rows(cloud) == before


def test_image_service_down_is_503_and_creates_nothing(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    down = start_cloud(tmp_path, **{"glance.endpoint_override": dead})
    try:
        ensure_flavor(admin(down), "tiny")
        before = _rows(down)
        resp = _boot(demo(down), str(uuid.uuid4()))
        assert resp.status_code == 503, resp.text
        message = resp.json()["serviceUnavailable"]["message"]
        assert message.startswith(f"Connection to glance host {dead} failed")
        assert _rows(down) == before
    finally:
        stop_cloud(down)
