"""The compute API's image proxy, served from the real image service below 2.36 (Nova's
view of Glance v2 images), and 404 from 2.36 (/images) and 2.39 (metadata) as in Nova."""

import re
import uuid

import pytest
import requests
from compute_helpers import admin, demo, demo_project_id, ensure_image, fault

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _glance(cloud, method: str, path: str, token: str | None = None, **kwargs):
    headers = {"X-Auth-Token": token or cloud.admin_token(), **kwargs.pop("headers", {})}
    return requests.request(method, f"{cloud.url}/image/v2{path}", headers=headers, **kwargs)


def _new_image(cloud, **attributes) -> dict:
    return ensure_image(cloud, str(uuid.uuid4()), **attributes)


@pytest.fixture(scope="module")
def snapshot(cloud):
    """A snapshot-like image: made from a server, with the properties Nova reads."""
    return _new_image(cloud, name=f"snap-{uuid.uuid4().hex[:6]}", min_ram=128, min_disk=2,
                      instance_uuid="0b0e2f4e-5c1b-4c7e-9a51-0f6b0e2f4e5d",
                      image_type="snapshot", auto_disk_config="true", color="blue")


def test_show_translates_a_glance_v2_image_into_novas_view(cloud, snapshot):
    compute = admin(cloud, "2.35")
    image = compute.get(f"/images/{snapshot['id']}").json()["image"]
    assert image["id"] == snapshot["id"] and image["name"] == snapshot["name"]
    assert (image["status"], image["progress"]) == ("ACTIVE", 100)
    assert (image["minRam"], image["minDisk"]) == (128, 2)
    assert image["OS-EXT-IMG-SIZE:size"] == snapshot["size"] > 0
    assert image["metadata"] == {"instance_uuid": snapshot["instance_uuid"],
                                 "image_type": "snapshot", "auto_disk_config": "true",
                                 "color": "blue"}
    assert image["OS-DCF:diskConfig"] == "AUTO"
    assert TIMESTAMP.match(image["created"]) and TIMESTAMP.match(image["updated"])
    assert image["server"]["id"] == snapshot["instance_uuid"]
    assert image["server"]["links"][0]["href"].endswith(
        f"/compute/v2.1/servers/{snapshot['instance_uuid']}")
    rels = {link["rel"]: link["href"] for link in image["links"]}
    assert rels["self"] == f"{cloud.url}/compute/v2.1/images/{snapshot['id']}"
    assert rels["alternate"] == f"{cloud.url}/image/images/{snapshot['id']}"
    queued = _new_image(cloud, data=None)
    shown = compute.get(f"/images/{queued['id']}").json()["image"]
    assert (shown["status"], shown["progress"], shown["OS-EXT-IMG-SIZE:size"]) == (
        "SAVING", 25, None)
    missing = str(uuid.uuid4())
    assert fault(compute.get(f"/images/{missing}"), 404) == "Image not found."


def test_list_and_detail_show_what_the_image_service_lets_the_caller_see(cloud, snapshot):
    private = _new_image(cloud, visibility="private")
    for path in ("/images", "/images/detail"):
        seen = {i["id"] for i in admin(cloud, "2.35").get(path).json()["images"]}
        assert {snapshot["id"], private["id"]} <= seen
        demo_seen = {i["id"] for i in demo(cloud, "2.35").get(path).json()["images"]}
        assert snapshot["id"] in demo_seen and private["id"] not in demo_seen
    summary = next(i for i in admin(cloud, "2.35").get("/images").json()["images"]
                   if i["id"] == snapshot["id"])
    assert set(summary) == {"id", "name", "links"}
    detail = next(i for i in admin(cloud, "2.35").get("/images/detail").json()["images"]
                  if i["id"] == snapshot["id"])
    assert detail == admin(cloud, "2.35").get(f"/images/{snapshot['id']}").json()["image"]


def test_list_filters(cloud, snapshot):
    compute = admin(cloud, "2.35")

    def ids(query: str) -> set[str]:
        resp = compute.get(f"/images/detail?{query}")
        assert resp.status_code == 200, resp.text
        return {i["id"] for i in resp.json()["images"]}

    queued = _new_image(cloud, data=None)
    assert ids(f"name={snapshot['name']}") == {snapshot["id"]}
    assert snapshot["id"] in ids("status=ACTIVE") and queued["id"] not in ids("status=ACTIVE")
    assert queued["id"] in ids("status=queued")
    assert ids(f"server={cloud.url}/compute/v2.1/servers/{snapshot['instance_uuid']}") == {
        snapshot["id"]}
    assert snapshot["id"] in ids("type=snapshot") and queued["id"] not in ids("type=snapshot")
    assert snapshot["id"] in ids("minRam=128") and snapshot["id"] not in ids("minRam=129")
    assert snapshot["id"] in ids("minDisk=2") and snapshot["id"] not in ids("minDisk=3")
    assert ids("property-color=blue") == {snapshot["id"]}
    assert snapshot["id"] in ids("changes-since=2000-01-01T00:00:00Z")
    assert ids("changes-since=2999-01-01T00:00:00Z") == set()
    assert compute.get("/images?status=active&status=queued").status_code == 200
    fault(compute.get("/images?changes-since=yesterday"), 400)
    fault(compute.get("/images?minRam=lots"), 400)


def test_limit_and_marker_page_through_every_image_once(cloud):
    compute = admin(cloud, "2.35")
    batch = uuid.uuid4().hex[:8]
    made = {_new_image(cloud, batch=batch)["id"] for _ in range(5)}
    seen: list[str] = []
    path = f"/images?property-batch={batch}&limit=2"
    while True:
        body = compute.get(path).json()
        seen += [i["id"] for i in body["images"]]
        links = body.get("images_links")
        if not links:
            break
        assert len(body["images"]) == 2
        path = links[0]["href"].split("/compute/v2.1", 1)[1]
    assert sorted(seen) == sorted(made)
    assert compute.get(f"/images?property-batch={batch}&limit=0").json()["images"] == []
    assert fault(compute.get(f"/images?marker={uuid.uuid4()}"), 400).startswith(
        "Invalid marker.")


def test_metadata_round_trip_lands_in_the_image_service(cloud):
    image = _new_image(cloud, color="red")
    compute = admin(cloud, "2.35")
    base = f"/images/{image['id']}/metadata"

    def properties() -> dict:
        shown = _glance(cloud, "GET", f"/images/{image['id']}").json()
        return {k: shown[k] for k in ("color", "size_hint", "os") if k in shown}

    assert compute.get(base).json() == {"metadata": {"color": "red"}}
    resp = compute.post(base, {"metadata": {"size_hint": "small", "os": "linux"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["metadata"] == {"color": "red", "size_hint": "small", "os": "linux"}
    assert properties() == {"color": "red", "size_hint": "small", "os": "linux"}
    assert compute.get(f"{base}/os").json() == {"meta": {"os": "linux"}}
    assert compute.put(f"{base}/os", {"meta": {"os": "bsd"}}).json() == {"meta": {"os": "bsd"}}
    assert properties()["os"] == "bsd"
    replaced = compute.put(base, {"metadata": {"color": "green"}})
    assert replaced.json() == {"metadata": {"color": "green"}}
    assert properties() == {"color": "green"}
    assert compute.delete(f"{base}/color").status_code == 204
    assert properties() == {} and compute.get(base).json() == {"metadata": {}}
    assert fault(compute.get(f"{base}/color"), 404) == "Metadata item was not found"
    assert fault(compute.delete(f"{base}/color"), 404) == "Invalid metadata key"
    assert fault(compute.put(f"{base}/a", {"meta": {"b": "1"}}), 400) == (
        "Request body and URI mismatch")
    fault(compute.post(base, {"metadata": {"name": "renamed"}}), 400)
    fault(compute.post(base, {"metadata": {"k": 1}}), 400)
    assert _glance(cloud, "GET", f"/images/{image['id']}").json()["name"] == image["name"]
    assert fault(compute.get(f"/images/{uuid.uuid4()}/metadata"), 404) == "Image not found."
    # Nova serves the metadata proxy up to 2.38.
    assert compute.at("2.38").get(base).status_code == 200


def test_metadata_over_quota_or_on_anothers_image_is_refused_and_changes_nothing(cloud):
    image = _new_image(cloud, color="red")
    base = f"/images/{image['id']}/metadata"
    before = _glance(cloud, "GET", f"/images/{image['id']}").json()
    assert fault(demo(cloud, "2.35").post(base, {"metadata": {"x": "1"}}), 403) == (
        f"Not authorized for image {image['id']}.")
    project = demo_project_id(cloud)
    admin(cloud).put(f"/os-quota-sets/{project}", {"quota_set": {"metadata_items": 1}})
    mine = _new_image(cloud, visibility="private", owner=project)
    try:
        mine_base = f"/images/{mine['id']}/metadata"
        member = demo(cloud, "2.35")
        assert member.post(mine_base, {"metadata": {"one": "1"}}).status_code == 200
        assert fault(member.post(mine_base, {"metadata": {"two": "2"}}), 403) == (
            "Image metadata limit exceeded")
        assert member.get(mine_base).json() == {"metadata": {"one": "1"}}
    finally:
        admin(cloud).put(f"/os-quota-sets/{project}", {"quota_set": {"metadata_items": 128}})
    assert _glance(cloud, "GET", f"/images/{image['id']}").json() == before


def test_removing_metadata_is_allowed_over_a_lowered_quota(cloud):
    """A project whose metadata_items quota was lowered below what an image already has
    can still remove items (Nova checks the quota only when items are added)."""
    project = demo_project_id(cloud)
    mine = _new_image(cloud, visibility="private", owner=project, one="1", two="2", three="3")
    base = f"/images/{mine['id']}/metadata"
    admin(cloud).put(f"/os-quota-sets/{project}", {"quota_set": {"metadata_items": 1}})
    try:
        member = demo(cloud, "2.35")
        assert member.delete(f"{base}/three").status_code == 204
        assert member.get(base).json() == {"metadata": {"one": "1", "two": "2"}}
        fault(member.post(base, {"metadata": {"four": "4"}}), 403)
    finally:
        admin(cloud).put(f"/os-quota-sets/{project}", {"quota_set": {"metadata_items": 128}})


def test_delete_through_the_proxy_deletes_in_the_image_service(cloud):
    compute = admin(cloud, "2.35")
    image = _new_image(cloud)
    public = _new_image(cloud)
    assert fault(demo(cloud, "2.35").delete(f"/images/{public['id']}"), 403) == (
        "You are not allowed to delete the image.")
    protected = _new_image(cloud, protected=True)
    fault(compute.delete(f"/images/{protected['id']}"), 403)
    for kept in (public, protected):
        assert _glance(cloud, "GET", f"/images/{kept['id']}").status_code == 200
    assert compute.delete(f"/images/{image['id']}").status_code == 204
    assert _glance(cloud, "GET", f"/images/{image['id']}").status_code == 404
    assert fault(compute.get(f"/images/{image['id']}"), 404) == "Image not found."
    assert fault(compute.delete(f"/images/{image['id']}"), 404) == "Image not found."
    _glance(cloud, "PATCH", f"/images/{protected['id']}",
            json=[{"op": "replace", "path": "/protected", "value": False}],
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})


def test_images_are_404_from_2_36_and_nothing_is_deleted(cloud, snapshot):
    image = _new_image(cloud)
    for version in ("2.36", "2.38"):
        compute = admin(cloud, version)
        for path in ("/images", "/images/detail", f"/images/{image['id']}"):
            assert fault(compute.get(path), 404) == "The resource could not be found."
        fault(compute.delete(f"/images/{image['id']}"), 404)
    assert _glance(cloud, "GET", f"/images/{image['id']}").status_code == 200
    assert admin(cloud, None).get("/images").status_code == 200  # no header: 2.1
    assert admin(cloud, "2.35").get("/images").status_code == 200
