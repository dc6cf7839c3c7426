"""The image API (Glance v2 subset) over real HTTP: lifecycle, data, sharing, errors."""

from __future__ import annotations

import hashlib
import html
import os
import socket
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests
import sqlalchemy as sa

from stratus.imagesvc import schema

PATCH = "application/openstack-images-v2.1-json-patch"


@pytest.fixture(scope="module")
def admin(cloud):
    return {"X-Auth-Token": cloud.admin_token()}


@pytest.fixture(scope="module")
def demo(cloud):
    return {"X-Auth-Token": cloud.demo_token()}


def url(cloud, path: str = "") -> str:
    return f"{cloud.url}/image/v2{path}"


def create(cloud, headers, **body) -> dict:
    body.setdefault("name", f"img-{uuid.uuid4().hex[:8]}")
    resp = requests.post(url(cloud, "/images"), json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def upload(cloud, headers, image_id: str, data) -> requests.Response:
    return requests.put(url(cloud, f"/images/{image_id}/file"), data=data,
                        headers={**headers, "Content-Type": "application/octet-stream"})


def show(cloud, headers, image_id: str) -> dict:
    resp = requests.get(url(cloud, f"/images/{image_id}"), headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def patch(cloud, headers, image_id: str, ops, content_type: str = PATCH):
    return requests.patch(url(cloud, f"/images/{image_id}"), json=ops,
                          headers={**headers, "Content-Type": content_type})


def glance_error(resp: requests.Response, status: int, text: str | None = None) -> None:
    """Glance's error page: webob's HTML unless JSON was asked for."""
    assert resp.status_code == status, resp.text
    if resp.headers["Content-Type"].startswith("application/json"):
        body = resp.json()
        assert body["code"].startswith(f"{status} ") and body["title"] and body["message"]
        page = body["message"]
    else:
        assert resp.headers["Content-Type"].startswith("text/html")
        assert f"<h1>{status} " in resp.text
        page = html.unescape(resp.text)
    if text is not None:
        assert text in page, page


def image_count(cloud) -> int:
    with cloud.aio.databases.engine("image").connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.images)).scalar_one()


def data_files(cloud) -> list[str]:
    return sorted(os.listdir(cloud.conf.image.filesystem_store_datadir))


# --- discovery and schemas -----------------------------------------------------------------

def test_version_discovery_offers_v2_current_and_links_to_it(cloud):
    resp = requests.get(f"{cloud.url}/image")
    assert resp.status_code == 300
    versions = resp.json()["versions"]
    current = [v for v in versions if v["status"] == "CURRENT"]
    assert len(current) == 1 and current[0]["id"].startswith("v2.")
    assert current[0]["links"][0]["href"] == f"{cloud.url}/image/v2/"
    assert {v["id"] for v in versions} >= {"v2.0", "v2.1", "v2.2"}
    again = requests.get(f"{cloud.url}/image/versions")
    assert again.status_code == 200 and again.json() == resp.json()


def test_schemas_describe_image_and_collections(cloud):
    image = requests.get(url(cloud, "/schemas/image")).json()
    assert image["name"] == "image"
    assert "qcow2" in image["properties"]["disk_format"]["enum"]
    assert image["additionalProperties"] == {"type": "string"}
    images = requests.get(url(cloud, "/schemas/images")).json()
    assert images["properties"]["images"]["items"]["name"] == "image"
    assert requests.get(url(cloud, "/schemas/member")).json()["name"] == "member"
    glance_error(requests.get(url(cloud, "/schemas/nope")), 404)


def test_default_image_is_active_public_and_downloadable(cloud, demo):
    images = requests.get(url(cloud, "/images?name=stratus-tiny"), headers=demo).json()
    (image,) = images["images"]
    assert image["status"] == "active" and image["visibility"] == "public"
    data = requests.get(url(cloud, f"/images/{image['id']}/file"), headers=demo).content
    assert len(data) == image["size"] > 0
    assert hashlib.md5(data).hexdigest() == image["checksum"]


# --- create, show, update, delete ----------------------------------------------------------

def test_create_defaults_to_queued_shared_owned_by_caller(cloud, demo):
    resp = requests.post(url(cloud, "/images"), json={"name": "a", "disk_format": "qcow2",
                                                      "container_format": "bare",
                                                      "hw_qemu_guest_agent": "yes"},
                         headers=demo)
    assert resp.status_code == 201
    image = resp.json()
    assert resp.headers["Location"] == url(cloud, f"/images/{image['id']}")
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["size"] is None and image["checksum"] is None
    assert image["hw_qemu_guest_agent"] == "yes" and image["protected"] is False
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    token = requests.get(f"{cloud.identity}/v3/auth/tokens", headers={
        **demo, "X-Subject-Token": demo["X-Auth-Token"]}).json()["token"]
    assert image["owner"] == token["project"]["id"]
    assert show(cloud, demo, image["id"]) == image


def test_create_with_given_id_and_duplicate_id_conflicts(cloud, admin):
    image_id = str(uuid.uuid4())
    assert create(cloud, admin, id=image_id)["id"] == image_id
    before = image_count(cloud)
    resp = requests.post(url(cloud, "/images"), json={"id": image_id}, headers=admin)
    glance_error(resp, 409)
    assert image_count(cloud) == before


@pytest.mark.parametrize("body,status,text", [
    ({"disk_format": "floppy"}, 400, "does not match schema"),
    ({"container_format": "crate"}, 400, "does not match schema"),
    ({"min_ram": -1}, 400, "does not match schema"),
    ({"visibility": "everyone"}, 400, "does not match schema"),
    ({"custom": 5}, 400, "does not match schema"),
    ({"status": "active"}, 403, "Attribute 'status' is read-only."),
    ({"checksum": "0" * 32}, 403, "read-only"),
    ({"deleted": "true"}, 403, "Attribute 'deleted' is reserved."),
    ({"os_glance_import_task": "x"}, 403, "reserved"),
])
def test_create_with_bad_attribute_is_refused_and_writes_nothing(cloud, admin, body, status,
                                                                 text):
    before = image_count(cloud)
    resp = requests.post(url(cloud, "/images"), json={"name": "bad", **body}, headers=admin)
    glance_error(resp, status, text)
    assert image_count(cloud) == before


def test_create_public_needs_admin(cloud, demo):
    before = image_count(cloud)
    resp = requests.post(url(cloud, "/images"), json={"visibility": "public"}, headers=demo)
    glance_error(resp, 403, "publicize_image")
    assert image_count(cloud) == before


def test_create_with_non_json_media_type_is_415(cloud, admin):
    before = image_count(cloud)
    resp = requests.post(url(cloud, "/images"), data='{"name": "x"}',
                         headers={**admin, "Content-Type": "text/plain"})
    glance_error(resp, 415)
    assert image_count(cloud) == before


def test_patch_adds_replaces_and_removes_core_and_custom_attributes(cloud, demo):
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    resp = patch(cloud, demo, image["id"], [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/min_ram", "value": 512},
        {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
        {"op": "add", "path": "/os_distro", "value": "debian"},
        {"op": "replace", "path": "/tags", "value": ["a", "b"]},
        {"op": "replace", "path": "/disk_format", "value": "qcow2"},
    ])
    assert resp.status_code == 200, resp.text
    patched = resp.json()
    assert patched["name"] == "renamed" and patched["min_ram"] == 512
    assert patched["hw_disk_bus"] == "virtio" and sorted(patched["tags"]) == ["a", "b"]
    assert patched["disk_format"] == "qcow2"
    resp = patch(cloud, demo, image["id"], [
        {"op": "remove", "path": "/os_distro"},
        {"op": "replace", "path": "/hw_disk_bus", "value": "scsi"}])
    assert resp.status_code == 200
    after = show(cloud, demo, image["id"])
    assert "os_distro" not in after and after["hw_disk_bus"] == "scsi"


@pytest.mark.parametrize("ops,status,text", [
    ([{"op": "replace", "path": "/status", "value": "active"}], 403, "read-only"),
    ([{"op": "replace", "path": "/size", "value": 1}], 403, "read-only"),
    ([{"op": "replace", "path": "/id", "value": str(uuid.uuid4())}], 403, "read-only"),
    ([{"op": "add", "path": "/deleted", "value": "x"}], 403, "reserved"),
    ([{"op": "replace", "path": "/disk_format", "value": "floppy"}], 400, "schema"),
    ([{"op": "add", "path": "/prop", "value": "dup"}], 409, "already present"),
    ([{"op": "replace", "path": "/missing", "value": "x"}], 409, "does not exist"),
    ([{"op": "remove", "path": "/missing"}], 409, "does not exist"),
    ([{"op": "move", "path": "/name"}], 400, "Invalid operation"),
    ([{"op": "replace", "path": "name", "value": "x"}], 400, "does not start with"),
    ([{"op": "replace", "path": "/name"}], 400, "requires a member named"),
    # A valid change before a refused one: nothing of the request is applied.
    ([{"op": "replace", "path": "/name", "value": "changed"},
      {"op": "replace", "path": "/checksum", "value": "x"}], 403, "read-only"),
])
def test_patch_refusals_change_nothing(cloud, demo, ops, status, text):
    image = create(cloud, demo, prop="orig")
    resp = patch(cloud, demo, image["id"], ops)
    glance_error(resp, status, text)
    assert show(cloud, demo, image["id"]) == image


def test_patch_with_wrong_media_type_is_415_with_accept_patch(cloud, demo):
    image = create(cloud, demo)
    resp = patch(cloud, demo, image["id"], [{"op": "replace", "path": "/name", "value": "x"}],
                 content_type="application/json")
    glance_error(resp, 415, "Image PATCH expects Content-Type")
    assert PATCH in resp.headers["Accept-Patch"]
    assert show(cloud, demo, image["id"]) == image


def test_patch_disk_format_of_active_image_is_refused(cloud, demo):
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    assert upload(cloud, demo, image["id"], b"x" * 10).status_code == 204
    before = show(cloud, demo, image["id"])
    resp = patch(cloud, demo, image["id"],
                 [{"op": "replace", "path": "/disk_format", "value": "qcow2"}])
    glance_error(resp, 403, "queued")
    assert show(cloud, demo, image["id"]) == before


def test_other_project_cannot_see_or_change_a_private_image(cloud, admin, demo):
    image = create(cloud, admin, visibility="private")
    glance_error(requests.get(url(cloud, f"/images/{image['id']}"), headers=demo), 404,
                 "No image found")
    glance_error(patch(cloud, demo, image["id"], [
        {"op": "replace", "path": "/name", "value": "x"}]), 404)
    glance_error(requests.delete(url(cloud, f"/images/{image['id']}"), headers=demo), 404)
    assert show(cloud, admin, image["id"]) == image


def test_public_image_is_visible_but_not_writable_by_other_projects(cloud, admin, demo):
    image = create(cloud, admin, visibility="public")
    assert show(cloud, demo, image["id"])["id"] == image["id"]
    glance_error(patch(cloud, demo, image["id"], [
        {"op": "replace", "path": "/name", "value": "x"}]), 403)
    glance_error(requests.delete(url(cloud, f"/images/{image['id']}"), headers=demo), 403)
    assert show(cloud, admin, image["id"]) == image


def test_delete_protected_image_is_403_and_keeps_it(cloud, demo):
    image = create(cloud, demo, protected=True)
    assert upload(cloud, demo, image["id"], b"keep me").status_code == 204
    resp = requests.delete(url(cloud, f"/images/{image['id']}"), headers=demo)
    glance_error(resp, 403, "is protected and cannot be deleted")
    assert show(cloud, demo, image["id"])["status"] == "active"
    assert image["id"] in data_files(cloud)
    assert patch(cloud, demo, image["id"], [
        {"op": "replace", "path": "/protected", "value": False}]).status_code == 200
    assert requests.delete(url(cloud, f"/images/{image['id']}"), headers=demo).status_code \
        == 204
    glance_error(requests.get(url(cloud, f"/images/{image['id']}"), headers=demo), 404)
    assert image["id"] not in data_files(cloud)


# --- data ------------------------------------------------------------------------------------

def test_upload_and_download_round_trip_with_checksum_and_hash(cloud, demo):
    data = os.urandom(3 * 1024 * 1024 + 17)
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    resp = upload(cloud, demo, image["id"], data)
    assert resp.status_code == 204, resp.text
    active = show(cloud, demo, image["id"])
    assert active["status"] == "active" and active["size"] == len(data)
    assert active["checksum"] == hashlib.md5(data).hexdigest()
    assert active["os_hash_algo"] == "sha512"
    assert active["os_hash_value"] == hashlib.sha512(data).hexdigest()
    resp = requests.get(url(cloud, f"/images/{image['id']}/file"), headers=demo)
    assert resp.status_code == 200 and resp.content == data
    assert resp.headers["Content-MD5"] == active["checksum"]
    assert resp.headers["Content-Type"] == "application/octet-stream"


def test_chunked_upload_without_content_length(cloud, demo):
    parts = [os.urandom(100_000) for _ in range(5)]
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    assert upload(cloud, demo, image["id"], iter(parts)).status_code == 204
    active = show(cloud, demo, image["id"])
    assert active["size"] == 500_000
    assert active["checksum"] == hashlib.md5(b"".join(parts)).hexdigest()


def test_upload_to_active_image_is_409_and_keeps_data(cloud, demo):
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    assert upload(cloud, demo, image["id"], b"first").status_code == 204
    before = show(cloud, demo, image["id"])
    glance_error(upload(cloud, demo, image["id"], b"second"), 409,
                 "transition from active to saving")
    assert show(cloud, demo, image["id"]) == before
    assert requests.get(url(cloud, f"/images/{image['id']}/file"),
                        headers=demo).content == b"first"


def test_interrupted_upload_returns_image_to_queued_without_data(cloud, demo):
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    address = urlparse(cloud.url)
    with socket.create_connection((address.hostname, address.port)) as sock:
        sock.sendall((f"PUT /image/v2/images/{image['id']}/file HTTP/1.1\r\n"
                      f"Host: {address.netloc}\r\nX-Auth-Token: {demo['X-Auth-Token']}\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      "Content-Length: 10000000\r\n\r\n").encode() + b"x" * 200_000)
        deadline = time.monotonic() + 10
        while show(cloud, demo, image["id"])["status"] != "saving":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    deadline = time.monotonic() + 10
    while (current := show(cloud, demo, image["id"]))["status"] != "queued":
        assert time.monotonic() < deadline, current
        time.sleep(0.05)
    assert current["size"] is None and current["checksum"] is None
    assert not [f for f in data_files(cloud) if image["id"] in f]
    # And the image still takes a complete upload afterwards.
    assert upload(cloud, demo, image["id"], b"complete").status_code == 204


def test_download_of_queued_image_is_204(cloud, demo):
    image = create(cloud, demo)
    resp = requests.get(url(cloud, f"/images/{image['id']}/file"), headers=demo)
    assert resp.status_code == 204 and resp.content == b""


@pytest.mark.parametrize("header,status,expected", [
    ("bytes=0-9", 206, (0, 9)),
    ("bytes=10-", 206, (10, 99)),
    ("bytes=-5", 206, (95, 99)),
    ("bytes=90-200", 206, (90, 99)),
    ("bytes=100-", 416, None),
    ("bytes=5-2", 416, None),
    ("pages=1-2", 416, None),
])
def test_range_requests(cloud, demo, header, status, expected):
    data = bytes(range(100))
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    assert upload(cloud, demo, image["id"], data).status_code == 204
    resp = requests.get(url(cloud, f"/images/{image['id']}/file"),
                        headers={**demo, "Range": header})
    assert resp.status_code == status, resp.text
    if expected is None:
        assert resp.headers["Content-Range"] == "bytes */100"
        return
    first, last = expected
    assert resp.content == data[first:last + 1]
    assert resp.headers["Content-Range"] == f"bytes {first}-{last}/100"


def test_deactivated_image_download_is_forbidden_to_non_admins(cloud, admin, demo):
    image = create(cloud, demo, disk_format="raw", container_format="bare")
    data_path = url(cloud, f"/images/{image['id']}/file")
    glance_error(requests.post(url(cloud, f"/images/{image['id']}/actions/deactivate"),
                               headers=demo), 403, "status 'queued'")
    assert upload(cloud, demo, image["id"], b"abc").status_code == 204
    assert requests.post(url(cloud, f"/images/{image['id']}/actions/deactivate"),
                         headers=demo).status_code == 204
    assert show(cloud, demo, image["id"])["status"] == "deactivated"
    glance_error(requests.get(data_path, headers=demo), 403, "deactivated")
    assert requests.get(data_path, headers=admin).content == b"abc"
    glance_error(upload(cloud, demo, image["id"], b"new"), 403)
    assert requests.post(url(cloud, f"/images/{image['id']}/actions/reactivate"),
                         headers=demo).status_code == 204
    assert requests.get(data_path, headers=demo).content == b"abc"


# --- tags, members, visibility ---------------------------------------------------------------

def test_tags_are_added_removed_and_filter_the_list(cloud, demo):
    image = create(cloud, demo)
    tag = f"t-{uuid.uuid4().hex[:6]}"
    base = url(cloud, f"/images/{image['id']}/tags")
    assert requests.put(f"{base}/{tag}", headers=demo).status_code == 204
    assert requests.put(f"{base}/{tag}", headers=demo).status_code == 204
    assert requests.put(f"{base}/other", headers=demo).status_code == 204
    assert sorted(show(cloud, demo, image["id"])["tags"]) == sorted([tag, "other"])
    listed = requests.get(url(cloud, f"/images?tag={tag}&tag=other"), headers=demo).json()
    assert [i["id"] for i in listed["images"]] == [image["id"]]
    assert requests.delete(f"{base}/{tag}", headers=demo).status_code == 204
    glance_error(requests.delete(f"{base}/{tag}", headers=demo), 404)
    assert requests.get(url(cloud, f"/images?tag={tag}"), headers=demo).json()["images"] == []


def _project_id(cloud, headers) -> str:
    token = requests.get(f"{cloud.identity}/v3/auth/tokens", headers={
        **headers, "X-Subject-Token": headers["X-Auth-Token"]}).json()["token"]
    return token["project"]["id"]


def _listed(cloud, headers, query: str = "") -> set[str]:
    resp = requests.get(url(cloud, f"/images?limit=1000{query}"), headers=headers)
    assert resp.status_code == 200, resp.text
    return {i["id"] for i in resp.json()["images"]}


def test_sharing_lifecycle_pending_accepted_rejected(cloud, admin, demo):
    demo_project = _project_id(cloud, demo)
    image = create(cloud, admin, visibility="shared")
    members = url(cloud, f"/images/{image['id']}/members")
    glance_error(requests.get(url(cloud, f"/images/{image['id']}"), headers=demo), 404)
    resp = requests.post(members, json={"member": demo_project}, headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "pending" and resp.json()["member_id"] == demo_project
    glance_error(requests.post(members, json={"member": demo_project}, headers=admin), 409)
    # Pending: readable by id, absent from the default list, present when asked for.
    assert show(cloud, demo, image["id"])["id"] == image["id"]
    assert image["id"] not in _listed(cloud, demo)
    assert image["id"] in _listed(cloud, demo, "&member_status=pending")
    # Only the member decides its status.
    glance_error(requests.put(f"{members}/{demo_project}", json={"status": "accepted"},
                              headers=admin), 403)
    glance_error(requests.put(f"{members}/{demo_project}", json={"status": "maybe"},
                              headers=demo), 400)
    resp = requests.put(f"{members}/{demo_project}", json={"status": "accepted"}, headers=demo)
    assert resp.status_code == 200 and resp.json()["status"] == "accepted"
    assert image["id"] in _listed(cloud, demo)
    assert image["id"] in _listed(cloud, demo, "&visibility=shared")
    listed = requests.get(members, headers=demo).json()["members"]
    assert [m["member_id"] for m in listed] == [demo_project]
    requests.put(f"{members}/{demo_project}", json={"status": "rejected"}, headers=demo)
    assert image["id"] not in _listed(cloud, demo)
    assert image["id"] in _listed(cloud, demo, "&member_status=rejected&visibility=shared")
    # The member cannot remove itself or others; the owner can.
    glance_error(requests.delete(f"{members}/{demo_project}", headers=demo), 403)
    assert requests.delete(f"{members}/{demo_project}", headers=admin).status_code == 204
    glance_error(requests.get(url(cloud, f"/images/{image['id']}"), headers=demo), 404)


def test_only_shared_images_take_members(cloud, admin, demo):
    image = create(cloud, admin, visibility="private")
    resp = requests.post(url(cloud, f"/images/{image['id']}/members"),
                         json={"member": _project_id(cloud, demo)}, headers=admin)
    glance_error(resp, 403, "only shared images have members")
    assert requests.get(url(cloud, f"/images/{image['id']}/members"),
                        headers=admin).json()["members"] == []


def test_visibility_listing_rules(cloud, admin, demo):
    public = create(cloud, admin, visibility="public")["id"]
    private = create(cloud, admin, visibility="private")["id"]
    community = create(cloud, admin, visibility="community")["id"]
    own = create(cloud, demo, visibility="private")["id"]
    default = _listed(cloud, demo)
    assert public in default and own in default
    assert private not in default and community not in default
    assert community in _listed(cloud, demo, "&visibility=community")
    assert community in _listed(cloud, demo, "&visibility=all")
    assert show(cloud, demo, community)["visibility"] == "community"
    assert _listed(cloud, demo, "&visibility=private") >= {own}
    assert private not in _listed(cloud, demo, "&visibility=private")
    assert {public, private, community, own} <= _listed(cloud, admin)
    glance_error(requests.get(url(cloud, "/images?visibility=everyone"), headers=demo), 400)


def test_hidden_images_are_listed_only_on_request(cloud, demo):
    hidden = create(cloud, demo, os_hidden=True)["id"]
    assert hidden not in _listed(cloud, demo)
    assert hidden in _listed(cloud, demo, "&os_hidden=true")


# --- listing -----------------------------------------------------------------------------

def test_paging_follows_next_links_in_sort_order(cloud, demo):
    prefix = uuid.uuid4().hex[:6]
    made = [create(cloud, demo, name=f"{prefix}-{n}", paging=prefix)["id"] for n in range(5)]
    seen, names = [], []
    link = f"/v2/images?paging={prefix}&limit=2&sort_key=name&sort_dir=asc"
    while link:
        resp = requests.get(f"{cloud.url}/image{link}", headers=demo)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert len(body["images"]) <= 2
        seen += [i["id"] for i in body["images"]]
        names += [i["name"] for i in body["images"]]
        link = body.get("next")
    assert seen == made and names == sorted(names)
    newest_first = requests.get(url(cloud, f"/images?paging={prefix}&sort=name:desc"),
                                headers=demo).json()["images"]
    assert [i["id"] for i in newest_first] == made[::-1]


def test_default_order_is_newest_first(cloud, demo):
    prefix = uuid.uuid4().hex[:6]
    made = [create(cloud, demo, order=prefix)["id"] for _ in range(3)]
    listed = requests.get(url(cloud, f"/images?order={prefix}"), headers=demo).json()
    assert [i["id"] for i in listed["images"]] == made[::-1]


def test_filters_on_core_attributes_size_and_properties(cloud, demo):
    prefix = uuid.uuid4().hex[:6]
    small = create(cloud, demo, name=f"{prefix}-s", disk_format="raw", container_format="bare",
                   flavour=prefix)
    big = create(cloud, demo, name=f"{prefix}-b", disk_format="qcow2", container_format="bare",
                 flavour=prefix)
    upload(cloud, demo, small["id"], b"x" * 10)
    upload(cloud, demo, big["id"], b"x" * 1000)
    q = f"&flavour={prefix}"
    assert _listed(cloud, demo, q) == {small["id"], big["id"]}
    assert _listed(cloud, demo, f"{q}&disk_format=qcow2") == {big["id"]}
    assert _listed(cloud, demo, f"{q}&size_min=100") == {big["id"]}
    assert _listed(cloud, demo, f"{q}&size_max=100") == {small["id"]}
    assert _listed(cloud, demo, f"&name={prefix}-s") == {small["id"]}
    assert _listed(cloud, demo, f"{q}&name=in:{prefix}-s,{prefix}-b") == {small["id"], big["id"]}
    assert _listed(cloud, demo, f"{q}&status=queued") == set()


@pytest.mark.parametrize("query,text", [
    ("sort_key=colour", "Invalid sort key"),
    ("sort_dir=sideways", "Invalid sort direction"),
    ("sort=name:asc&sort_key=name", "cannot be combined"),
    ("limit=-1", "must be positive"),
    ("limit=many", "integer"),
    ("marker=" + "0" * 36, "Invalid marker"),
    ("member_status=maybe", "Invalid status"),
    ("size_min=big", "integer"),
])
def test_bad_list_queries_are_400(cloud, demo, query, text):
    glance_error(requests.get(url(cloud, f"/images?{query}"), headers=demo), 400, text)


def test_errors_are_json_when_json_is_accepted(cloud, demo):
    resp = requests.get(url(cloud, f"/images/{uuid.uuid4()}"),
                        headers={**demo, "Accept": "application/json"})
    glance_error(resp, 404, "No image found")
    assert resp.json()["title"] == "Not Found"


# --- limits ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_cloud(tmp_path_factory):
    from harness import start_cloud, stop_cloud

    running = start_cloud(tmp_path_factory.mktemp("small"), **{
        "image.image_size_cap": 1000, "image.user_storage_quota": 1500,
        "image.create_default_image": False})
    yield running
    stop_cloud(running)


def test_image_over_size_cap_is_413_and_leaves_image_queued(small_cloud):
    headers = {"X-Auth-Token": small_cloud.demo_token()}
    image = create(small_cloud, headers)
    glance_error(upload(small_cloud, headers, image["id"], b"x" * 1001), 413, "too large")
    glance_error(upload(small_cloud, headers, image["id"], iter([b"x" * 600, b"x" * 401])),
                 413)
    assert show(small_cloud, headers, image["id"])["status"] == "queued"
    assert data_files(small_cloud) == []
    assert upload(small_cloud, headers, image["id"], b"x" * 1000).status_code == 204


def test_project_storage_quota_counts_every_image_of_the_project(small_cloud):
    headers = {"X-Auth-Token": small_cloud.admin_token()}
    first, second = create(small_cloud, headers), create(small_cloud, headers)
    assert upload(small_cloud, headers, first["id"], b"x" * 900).status_code == 204
    glance_error(upload(small_cloud, headers, second["id"], b"x" * 700), 413, "quota")
    glance_error(upload(small_cloud, headers, second["id"], iter([b"x" * 700])), 413, "quota")
    assert show(small_cloud, headers, second["id"])["status"] == "queued"
    assert upload(small_cloud, headers, second["id"], b"x" * 600).status_code == 204
