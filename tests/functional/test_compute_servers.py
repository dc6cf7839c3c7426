"""Servers: create as build requests (Cells v2), list across build requests and cells,
show, update, delete at every stage, with Nova's validation and quota errors."""

import datetime

import pytest
import sqlalchemy as sa
from compute_helpers import (
    IMAGE,
    admin,
    admin_project_id,
    cell_engine,
    create_server,
    demo,
    demo_project_id,
    ensure_flavor,
    fault,
    land_in_cell,
)

from stratus.cells import mappings
from stratus.cells.schema_api import build_requests, instance_mappings, request_specs
from stratus.cells.schema_cell import instances

UNLIMITED = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}


@pytest.fixture(scope="module", autouse=True)
def flavor(cloud):
    ensure_flavor(admin(cloud), "tiny", ram=512, vcpus=1)
    ensure_flavor(admin(cloud), "big", ram=4096, vcpus=4)
    # Tests here create many servers; the quota test sets its own limits.
    for project in (demo_project_id(cloud), admin_project_id(cloud)):
        admin(cloud).put(f"/os-quota-sets/{project}", UNLIMITED)


def _api_rows(cloud, server_id: str) -> dict:
    with cloud.aio.compute.api_engine.connect() as conn:
        return {table.name: conn.execute(sa.select(sa.func.count()).select_from(table).where(
            table.c.instance_uuid == server_id)).scalar_one()
            for table in (build_requests, request_specs, instance_mappings)}


def _build_request_count(cloud) -> int:
    with cloud.aio.compute.api_engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(build_requests)).scalar_one()


def test_create_writes_build_request_spec_and_unmapped_mapping(cloud):
    compute = demo(cloud)
    resp = compute.post("/servers", {"server": {
        "name": "web", "imageRef": IMAGE, "flavorRef": "tiny", "networks": "none",
        "metadata": {"role": "web"}, "description": "first"}})
    assert resp.status_code == 202, resp.text
    server = resp.json()["server"]
    assert set(server) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert server["security_groups"] == [{"name": "default"}]
    assert resp.headers["Location"].endswith(f"/compute/v2.1/servers/{server['id']}")
    assert _api_rows(cloud, server["id"]) == {"build_requests": 1, "request_specs": 1,
                                              "instance_mappings": 1}
    with cloud.aio.compute.api_engine.connect() as conn:
        mapping = mappings.get_instance_mapping(conn, server["id"])
    assert mapping.cell is None and mapping.project_id == demo_project_id(cloud)

    shown = compute.get(f"/servers/{server['id']}").json()["server"]
    assert shown["status"] == "BUILD" and shown["OS-EXT-STS:vm_state"] == "building"
    assert shown["OS-EXT-STS:task_state"] == "scheduling"
    assert shown["name"] == "web" and shown["description"] == "first"
    assert shown["metadata"] == {"role": "web"} and shown["tags"] == []
    assert shown["flavor"]["id"] == "tiny" and shown["image"]["id"] == IMAGE
    assert shown["tenant_id"] == demo_project_id(cloud) and shown["hostId"] == ""
    assert "OS-EXT-SRV-ATTR:host" not in shown  # admin-only attributes
    admin_view = admin(cloud).get(f"/servers/{server['id']}").json()["server"]
    assert admin_view["OS-EXT-SRV-ATTR:host"] is None
    assert admin_view["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")


def test_networks_required_from_2_37_and_strings_accepted(cloud):
    compute = demo(cloud)
    base = {"name": "net", "imageRef": IMAGE, "flavorRef": "tiny"}
    before = _build_request_count(cloud)
    assert "'networks' is a required property" in fault(
        compute.post("/servers", {"server": base}), 400)
    fault(compute.post("/servers", {"server": {**base, "networks": "some"}}), 400)
    fault(compute.post("/servers", {"server": {**base, "networks": [{"uuid": "not-a-uuid"}]}}),
          400)
    fault(compute.post("/servers", {"server": {**base, "networks": ["auto"]}}), 400)
    assert _build_request_count(cloud) == before
    assert compute.post("/servers", {"server": {**base, "networks": "auto"}}).status_code == 202
    assert compute.at("2.36").post("/servers", {"server": base}).status_code == 202
    # A tag passes the 2.32 schema; the uuid then fails Nova's own format check. At 2.37
    # the schema has no tag (restored only at 2.42).
    tagged = [{"uuid": "net-1", "tag": "nic1"}]
    assert fault(compute.at("2.32").post("/servers", {"server": {**base, "networks": tagged}}),
                 400) == "Bad networks format: network uuid is not in proper format (net-1)"
    fault(compute.at("2.37").post("/servers", {"server": {**base, "networks": tagged}}), 400)


def test_bad_create_requests_are_400_and_write_nothing(cloud):
    compute = demo(cloud)
    base = {"name": "bad", "imageRef": IMAGE, "flavorRef": "tiny", "networks": "none"}
    before = _build_request_count(cloud)
    cases = [
        ({**base, "flavorRef": "no-such-flavor"}, "Invalid flavorRef provided."),
        ({**base, "key_name": "no-such-key"}, "Invalid key_name provided."),
        ({**base, "min_count": 3, "max_count": 2}, "min_count must be <= max_count"),
        ({**base, "user_data": "not base64!"}, "User data needs to be valid base 64."),
        ({**base, "availability_zone": "nowhere"}, "availability zone is not available"),
        ({**base, "name": ""}, None), ({**base, "unknown": 1}, None),
        ({**base, "metadata": {"k": 1}}, None), ({**base, "min_count": 0}, None),
        ({**base, "accessIPv4": "300.1.1.1"}, None), ({**base, "imageRef": ""}, None),
    ]
    for body, message in cases:
        got = fault(compute.post("/servers", {"server": body}), 400)
        assert message is None or message in got, (body, got)
    fault(compute.post("/servers", {"server": base, "extra": {}}), 400)
    fault(compute.at("2.18").post("/servers", {"server": {**base, "description": "d"}}), 400)
    assert _build_request_count(cloud) == before


def test_multiple_create_and_reservation_id(cloud):
    compute = admin(cloud)
    resp = compute.post("/servers", {"server": {
        "name": "many", "imageRef": IMAGE, "flavorRef": "tiny", "networks": "none",
        "min_count": 2, "max_count": 3, "return_reservation_id": True}})
    assert resp.status_code == 202
    reservation = resp.json()["reservation_id"]
    listed = compute.get(f"/servers?reservation_id={reservation}").json()["servers"]
    assert sorted(s["name"] for s in listed) == ["many-1", "many-2", "many-3"]
    for server in listed:
        assert compute.delete(f"/servers/{server['id']}").status_code == 204


def test_quota_exceeded_is_403_in_nova_words_and_writes_nothing(cloud):
    root = admin(cloud)
    project_id = demo_project_id(cloud)
    member = demo(cloud)
    used = root.get(f"/os-quota-sets/{project_id}/detail").json()["quota_set"]["instances"]
    assert root.put(f"/os-quota-sets/{project_id}",
                    {"quota_set": {"instances": used["in_use"] + 1}}).status_code == 200
    try:
        create_server(member, "last-one")
        before = _build_request_count(cloud)
        message = fault(member.post("/servers", {"server": {
            "name": "one-too-many", "imageRef": IMAGE, "flavorRef": "tiny",
            "networks": "none"}}), 403)
        limit = used["in_use"] + 1
        assert message == (f"Quota exceeded for instances: Requested 1, but already used "
                           f"{limit} of {limit} instances")
        assert _build_request_count(cloud) == before
        # min_count/max_count: as many as fit are created when at least min_count fit.
        assert root.put(f"/os-quota-sets/{project_id}",
                        {"quota_set": {"instances": limit + 2}}).status_code == 200
        resp = member.post("/servers", {"server": {
            "name": "fit", "imageRef": IMAGE, "flavorRef": "tiny", "networks": "none",
            "min_count": 1, "max_count": 5, "return_reservation_id": True}})
        reservation = resp.json()["reservation_id"]
        assert len(member.get(f"/servers?reservation_id={reservation}").json()["servers"]) == 2
        message = fault(member.post("/servers", {"server": {
            "name": "cores", "imageRef": IMAGE, "flavorRef": "big", "networks": "none"}}), 403)
        assert message.startswith("Quota exceeded for instances")
    finally:
        root.put(f"/os-quota-sets/{project_id}", UNLIMITED)


def test_delete_of_a_build_request_leaves_nothing_behind(cloud):
    compute = demo(cloud)
    server_id = create_server(compute, "short-lived")
    assert compute.delete(f"/servers/{server_id}").status_code == 204
    assert _api_rows(cloud, server_id) == {"build_requests": 0, "request_specs": 0,
                                           "instance_mappings": 0}
    fault(compute.get(f"/servers/{server_id}"), 404)
    fault(compute.delete(f"/servers/{server_id}"), 404)


def test_server_in_a_cell_shows_lists_and_deletes(cloud):
    compute = demo(cloud)
    server_id = create_server(compute, "landed")
    land_in_cell(cloud, server_id, host="host-a", node="host-a.example.org")
    shown = compute.get(f"/servers/{server_id}").json()["server"]
    assert shown["status"] == "ACTIVE" and shown["hostId"] != ""
    assert shown["flavor"]["id"] == "tiny"
    assert server_id in {s["id"] for s in compute.get("/servers?status=ACTIVE").json()["servers"]}
    assert server_id not in {s["id"] for s in
                             compute.get("/servers?status=BUILD").json()["servers"]}
    assert compute.delete(f"/servers/{server_id}").status_code == 204
    with cell_engine(cloud).connect() as conn:
        row = conn.execute(sa.select(instances).where(instances.c.uuid == server_id)).one()
    assert row.deleted == row.id and row.vm_state == "deleted"
    with cloud.aio.compute.api_engine.connect() as conn:
        assert mappings.get_instance_mapping(conn, server_id).queued_for_delete is True
    fault(compute.get(f"/servers/{server_id}"), 404)
    assert server_id not in {s["id"] for s in compute.get("/servers").json()["servers"]}


def test_update_name_and_description(cloud):
    compute = demo(cloud)
    pending = create_server(compute, "before")
    landed = create_server(compute, "before-cell")
    land_in_cell(cloud, landed)
    for server_id in (pending, landed):
        resp = compute.put(f"/servers/{server_id}",
                           {"server": {"name": "after", "description": "changed"}})
        assert resp.status_code == 200
        assert resp.json()["server"]["name"] == "after"
        assert compute.get(f"/servers/{server_id}").json()["server"]["description"] == \
            "changed"
    fault(compute.at("2.18").put(f"/servers/{pending}", {"server": {"description": "x"}}),
          400)
    fault(compute.put(f"/servers/{pending}", {"server": {"name": ""}}), 400)
    fault(compute.put(f"/servers/{pending}", {"server": {"bogus": 1}}), 400)


def test_other_projects_servers_are_not_found_and_admins_list_all(cloud):
    root, member = admin(cloud), demo(cloud)
    mine = create_server(member, "members-own")
    theirs = create_server(root, "admins-own")
    fault(member.get(f"/servers/{theirs}"), 404)
    fault(member.delete(f"/servers/{theirs}"), 404)
    fault(member.get("/servers/not-a-uuid"), 404)
    assert theirs not in {s["id"] for s in member.get("/servers").json()["servers"]}
    fault(member.get("/servers?all_tenants=1"), 403)
    everyone = {s["id"] for s in root.get("/servers/detail?all_tenants=1").json()["servers"]}
    assert {mine, theirs} <= everyone
    only_demo = root.get(f"/servers?all_tenants=1&project_id={demo_project_id(cloud)}")
    assert theirs not in {s["id"] for s in only_demo.json()["servers"]}
    assert root.get(f"/servers/{mine}").status_code == 200


def test_listing_merges_build_requests_and_cells_in_order_with_paging(cloud):
    root = admin(cloud)
    prefix = "merge-"
    ids = {}
    for index, name in enumerate(["e", "a", "d", "b", "c", "f"]):
        ids[name] = create_server(root, f"{prefix}{name}")
        if index % 2 == 0:
            land_in_cell(cloud, ids[name])
    seen = []
    url = f"/servers/detail?name=^{prefix}&sort_key=display_name&sort_dir=asc&limit=2"
    while url:
        page = root.get(url).json()
        seen += [s["name"] for s in page["servers"]]
        links = page.get("servers_links")
        url = links[0]["href"].split("/compute/v2.1", 1)[1] if links else None
    assert seen == [f"{prefix}{n}" for n in "abcdef"]
    # A marker may be a build request or an instance in a cell.
    after_b = root.get(f"/servers?name=^{prefix}&sort_key=display_name&sort_dir=asc"
                       f"&marker={ids['b']}").json()["servers"]
    assert [s["name"] for s in after_b] == [f"{prefix}{n}" for n in "cdef"]
    after_e = root.get(f"/servers?name=^{prefix}&sort_key=display_name&sort_dir=desc"
                       f"&marker={ids['e']}").json()["servers"]
    assert [s["name"] for s in after_e] == [f"{prefix}{n}" for n in "dcba"]
    assert "marker [" in fault(root.get(f"/servers?marker={'0' * 8}-0000-0000-0000-"
                                        f"{'0' * 12}"), 400)
    fault(root.get("/servers?sort_key=bogus"), 400)
    fault(root.get("/servers?limit=abc"), 400)
    fault(demo(cloud).get("/servers?sort_key=host"), 403)


def test_filters(cloud):
    root = admin(cloud)
    first = create_server(root, "filter-x1")
    second = create_server(root, "filter-x2", flavor="big")
    land_in_cell(cloud, second)

    def names(query: str) -> set[str]:
        return {s["name"] for s in root.get(f"/servers?{query}").json()["servers"]}

    assert names("name=filter-x") >= {"filter-x1", "filter-x2"}
    assert "filter-x2" in names("flavor=big") and "filter-x1" not in names("flavor=big")
    assert names("flavor=no-such") == set()
    assert "filter-x1" in names(f"image={IMAGE}")
    assert names("image=other") == set()
    future = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()
    assert names(f"changes-since={future.replace('+00:00', 'Z')}") == set()
    past = "2000-01-01T00:00:00Z"
    assert {"filter-x1", "filter-x2"} <= names(f"changes-since={past}")
    fault(root.get("/servers?changes-since=yesterday"), 400)
    fault(root.get("/servers?name=(unclosed"), 400)
    fault(root.get("/servers?status=NOPE"), 400)
    assert root.at("2.37").get("/servers?status=NOPE").json() == {"servers": []}
    assert first in {s["id"] for s in root.get("/servers?status=build").json()["servers"]}


def test_metadata_and_tags_on_a_server_in_a_cell(cloud):
    compute = demo(cloud)
    server_id = create_server(compute, "tagged", metadata={"a": "1"})
    fault(compute.put(f"/servers/{server_id}/tags/web"), 409)  # still a build request
    fault(compute.post(f"/servers/{server_id}/metadata", {"metadata": {"b": "2"}}), 409)
    assert compute.get(f"/servers/{server_id}/metadata").json() == {"metadata": {"a": "1"}}
    land_in_cell(cloud, server_id)
    # metadata
    assert compute.get(f"/servers/{server_id}/metadata").json() == {"metadata": {"a": "1"}}
    assert compute.post(f"/servers/{server_id}/metadata", {"metadata": {"b": "2"}}).json() == \
        {"metadata": {"a": "1", "b": "2"}}
    assert compute.put(f"/servers/{server_id}/metadata/b", {"meta": {"b": "3"}}).json() == \
        {"meta": {"b": "3"}}
    assert compute.get(f"/servers/{server_id}/metadata/b").json() == {"meta": {"b": "3"}}
    fault(compute.put(f"/servers/{server_id}/metadata/b", {"meta": {"c": "3"}}), 400)
    assert compute.put(f"/servers/{server_id}/metadata", {"metadata": {"z": "9"}}).json() == \
        {"metadata": {"z": "9"}}
    assert compute.delete(f"/servers/{server_id}/metadata/z").status_code == 204
    fault(compute.delete(f"/servers/{server_id}/metadata/z"), 404)
    fault(compute.get(f"/servers/{server_id}/metadata/z"), 404)
    # tags (2.26)
    assert compute.put(f"/servers/{server_id}/tags/web").status_code == 201
    assert compute.put(f"/servers/{server_id}/tags/web").status_code == 204
    assert compute.get(f"/servers/{server_id}/tags/web").status_code == 204
    fault(compute.get(f"/servers/{server_id}/tags/db"), 404)
    assert compute.put(f"/servers/{server_id}/tags", {"tags": ["b", "a"]}).json() == \
        {"tags": ["a", "b"]}
    assert compute.get(f"/servers/{server_id}").json()["server"]["tags"] == ["a", "b"]
    ids = {s["id"] for s in compute.get("/servers?tags=a,b").json()["servers"]}
    assert server_id in ids
    assert server_id not in {s["id"] for s in compute.get("/servers?not-tags-any=a")
                             .json()["servers"]}
    assert server_id in {s["id"] for s in compute.get("/servers?tags-any=a,zz")
                         .json()["servers"]}
    fault(compute.put(f"/servers/{server_id}/tags", {"tags": ["x" * 61]}), 400)
    fault(compute.put(f"/servers/{server_id}/tags", {"tags": [str(i) for i in range(51)]}),
          400)
    fault(compute.at("2.25").get(f"/servers/{server_id}/tags"), 404)
    assert compute.delete(f"/servers/{server_id}/tags/a").status_code == 204
    fault(compute.delete(f"/servers/{server_id}/tags/a"), 404)
    assert compute.delete(f"/servers/{server_id}/tags").status_code == 204
    assert compute.get(f"/servers/{server_id}/tags").json() == {"tags": []}


def test_a_cell_that_does_not_answer_gives_partial_results_not_500(cloud):
    root = admin(cloud)
    visible = create_server(root, "survivor")
    land_in_cell(cloud, visible)
    api = cloud.aio.compute.api_engine
    with api.begin() as conn:
        broken = mappings.create_cell_mapping(
            conn, name="broken", transport_url="none:///",
            database_connection="postgresql+psycopg://nobody@127.0.0.1:1/nothing"
                                "?connect_timeout=2")
    cloud.aio.compute.cells.cells(refresh=True)
    try:
        resp = root.get("/servers/detail?all_tenants=1")
        assert resp.status_code == 200
        assert visible in {s["id"] for s in resp.json()["servers"]}
    finally:
        with api.begin() as conn:
            mappings.delete_cell_mapping(conn, broken.uuid)
        cloud.aio.compute.cells.cells(refresh=True)


def _image_disk(boot_index=0, **extra) -> dict:
    return {"uuid": IMAGE, "source_type": "image", "destination_type": "local",
            "boot_index": boot_index, "delete_on_termination": True, **extra}


def test_image_to_local_block_device_boots_that_image_and_travels_in_the_spec(cloud):
    """What `openstack server create --image` sends: imageRef plus the same image as a
    boot_index 0 local disk; a blank local disk (ephemeral) rides along."""
    compute = demo(cloud)
    blank = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
             "volume_size": 1, "guest_format": "swap"}
    for server in ({"imageRef": IMAGE, "block_device_mapping_v2": [_image_disk(), blank]},
                   {"imageRef": "", "block_device_mapping_v2": [_image_disk("0")]}):
        resp = compute.post("/servers", {"server": {"name": "bdm", "flavorRef": "tiny",
                                                    "networks": "none", **server}})
        assert resp.status_code == 202, resp.text
        server_id = resp.json()["server"]["id"]
        assert compute.get(f"/servers/{server_id}").json()["server"]["image"]["id"] == IMAGE
        with cloud.aio.compute.api_engine.connect() as conn:
            spec = conn.execute(sa.select(request_specs.c.spec).where(
                request_specs.c.instance_uuid == server_id)).scalar_one()
        assert '"boot_index":0' in spec and '"source_type":"image"' in spec


def test_block_devices_this_cloud_cannot_build_are_400_and_write_nothing(cloud):
    compute = demo(cloud)
    before = _build_request_count(cloud)
    volume = {"uuid": IMAGE, "source_type": "volume", "destination_type": "volume",
              "boot_index": 0}
    cases = {
        "volumes need a block storage service": [volume],
        "combination is not valid": [_image_disk(), _image_disk()],
        "Mapping image to local is not supported": [_image_disk(boot_index=1)],
        "source_type is required": [{"uuid": IMAGE, "boot_index": 0}],
        "different images": [{**_image_disk(), "uuid": "another-image"}],
        "was unexpected": [{**_image_disk(), "volume_type": "fast"}],
    }
    for message, devices in cases.items():
        resp = compute.post("/servers", {"server": {
            "name": "bad-bdm", "imageRef": IMAGE, "flavorRef": "tiny", "networks": "none",
            "block_device_mapping_v2": devices}})
        assert message in fault(resp, 400), message
    assert _build_request_count(cloud) == before
