"""Host aggregates (and the zones they name), server groups, instance actions."""

import pytest
import sqlalchemy as sa
from compute_helpers import (
    add_compute_host,
    admin,
    admin_project_id,
    cell,
    create_server,
    demo,
    demo_project_id,
    ensure_flavor,
    fault,
    land_in_cell,
)

from stratus.cells import mappings
from stratus.cells.schema_api import aggregates, instance_group_member, instance_groups, utcnow


@pytest.fixture(scope="module", autouse=True)
def setup(cloud):
    ensure_flavor(admin(cloud), "tiny")
    for project in (demo_project_id(cloud), admin_project_id(cloud)):
        admin(cloud).put(f"/os-quota-sets/{project}", {"quota_set": {"instances": -1,
                                                                     "cores": -1, "ram": -1}})
    cell1 = cell(cloud)
    for host in ("agg-host-1", "agg-host-2"):
        add_compute_host(cloud, host)
        with cloud.aio.compute.api_engine.begin() as conn:
            conn.execute(sa.insert(mappings.api.host_mappings).values(
                host=host, cell_id=cell1.id, created_at=utcnow()))


def _aggregate_count(cloud) -> int:
    with cloud.aio.compute.api_engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(aggregates)).scalar_one()


def test_aggregate_lifecycle_and_zone(cloud):
    compute = admin(cloud)
    created = compute.post("/os-aggregates", {"aggregate": {"name": "rack-a",
                                                            "availability_zone": "zone-a"}})
    assert created.status_code == 200
    agg = created.json()["aggregate"]
    assert agg["name"] == "rack-a" and agg["availability_zone"] == "zone-a"
    assert "hosts" not in agg
    agg_id = agg["id"]
    added = compute.post(f"/os-aggregates/{agg_id}/action", {"add_host": {"host": "agg-host-1"}})
    assert added.json()["aggregate"]["hosts"] == ["agg-host-1"]
    fault(compute.post(f"/os-aggregates/{agg_id}/action", {"add_host": {"host": "agg-host-1"}}),
          409)
    fault(compute.post(f"/os-aggregates/{agg_id}/action", {"add_host": {"host": "ghost"}}), 404)
    zones = {z["zoneName"] for z in
             demo(cloud).get("/os-availability-zone").json()["availabilityZoneInfo"]}
    assert "zone-a" in zones
    # The zone is usable at server create now.
    server = create_server(demo(cloud), "in-zone-a", availability_zone="zone-a")
    assert demo(cloud).get(f"/servers/{server}").json()["server"][
        "OS-EXT-AZ:availability_zone"] == "zone-a"
    meta = compute.post(f"/os-aggregates/{agg_id}/action",
                        {"set_metadata": {"metadata": {"ssd": "true"}}})
    assert meta.json()["aggregate"]["metadata"] == {"availability_zone": "zone-a",
                                                    "ssd": "true"}
    meta = compute.post(f"/os-aggregates/{agg_id}/action",
                        {"set_metadata": {"metadata": {"ssd": None}}})
    assert meta.json()["aggregate"]["metadata"] == {"availability_zone": "zone-a"}
    updated = compute.put(f"/os-aggregates/{agg_id}", {"aggregate": {"name": "rack-a2"}})
    assert updated.json()["aggregate"]["name"] == "rack-a2"
    assert compute.get(f"/os-aggregates/{agg_id}").json()["aggregate"]["hosts"] == [
        "agg-host-1"]
    assert agg_id in {a["id"] for a in compute.get("/os-aggregates").json()["aggregates"]}
    fault(compute.delete(f"/os-aggregates/{agg_id}"), 400)  # not empty
    compute.post(f"/os-aggregates/{agg_id}/action", {"remove_host": {"host": "agg-host-1"}})
    fault(compute.post(f"/os-aggregates/{agg_id}/action",
                       {"remove_host": {"host": "agg-host-1"}}), 404)
    assert compute.delete(f"/os-aggregates/{agg_id}").status_code == 200
    fault(compute.get(f"/os-aggregates/{agg_id}"), 404)


def test_a_host_cannot_be_in_two_zones(cloud):
    compute = admin(cloud)
    first = compute.post("/os-aggregates", {"aggregate": {"name": "z1",
                                                          "availability_zone": "z1"}}).json()
    second = compute.post("/os-aggregates", {"aggregate": {"name": "z2",
                                                           "availability_zone": "z2"}}).json()
    plain = compute.post("/os-aggregates", {"aggregate": {"name": "plain"}}).json()
    one, two, three = (a["aggregate"]["id"] for a in (first, second, plain))
    compute.post(f"/os-aggregates/{one}/action", {"add_host": {"host": "agg-host-2"}})
    fault(compute.post(f"/os-aggregates/{two}/action", {"add_host": {"host": "agg-host-2"}}),
          409)
    assert compute.post(f"/os-aggregates/{three}/action",
                        {"add_host": {"host": "agg-host-2"}}).status_code == 200
    fault(compute.post(f"/os-aggregates/{three}/action",
                       {"set_metadata": {"metadata": {"availability_zone": "z2"}}}), 400)
    fault(compute.put(f"/os-aggregates/{three}", {"aggregate": {"availability_zone": "z2"}}),
          400)
    assert compute.put(f"/os-aggregates/{three}", {"aggregate": {"availability_zone": "z1"}}
                       ).status_code == 200


def test_aggregate_bad_input_and_policy(cloud):
    compute = admin(cloud)
    compute.post("/os-aggregates", {"aggregate": {"name": "dup"}})
    before = _aggregate_count(cloud)
    fault(compute.post("/os-aggregates", {"aggregate": {"name": "dup"}}), 409)
    for bad in ({"name": ""}, {"name": "x", "availability_zone": "a:b"}, {"name": "x",
                                                                         "extra": 1}, {}):
        fault(compute.post("/os-aggregates", {"aggregate": bad}), 400)
    fault(compute.post("/os-aggregates", {"aggregate": {"name": "x",
                                                        "availability_zone": "internal"}}),
          400)
    fault(compute.put("/os-aggregates/1", {"aggregate": {}}), 400)
    fault(compute.get("/os-aggregates/abc"), 400)
    fault(compute.get("/os-aggregates/424242"), 404)
    fault(compute.post("/os-aggregates/424242/action", {"bogus": {}}), 400)
    fault(demo(cloud).get("/os-aggregates"), 403)
    fault(demo(cloud).post("/os-aggregates", {"aggregate": {"name": "mine"}}), 403)
    assert _aggregate_count(cloud) == before


def test_server_groups_and_membership(cloud):
    member = demo(cloud)
    created = member.post("/os-server-groups", {"server_group": {
        "name": "web", "policies": ["anti-affinity"]}})
    assert created.status_code == 200
    group = created.json()["server_group"]
    assert group["policies"] == ["anti-affinity"] and group["members"] == []
    assert group["project_id"] == demo_project_id(cloud)
    fault(member.at("2.14").post("/os-server-groups", {"server_group": {
        "name": "soft", "policies": ["soft-affinity"]}}), 400)
    assert member.post("/os-server-groups", {"server_group": {
        "name": "soft", "policies": ["soft-affinity"]}}).status_code == 200
    fault(member.post("/os-server-groups", {"server_group": {
        "name": "two", "policies": ["affinity", "anti-affinity"]}}), 400)
    fault(member.post("/os-server-groups", {"server_group": {"name": "x",
                                                             "policies": ["nope"]}}), 400)
    server = create_server(member, "grouped")
    body = {"server": {"name": "grouped-2", "imageRef": "6b0e2f4e-5c1b-4c7e-9a51-0f6b0e2f4e5c",
                       "flavorRef": "tiny", "networks": "none"},
            "os:scheduler_hints": {"group": group["id"]}}
    resp = member.post("/servers", body)
    assert resp.status_code == 202
    in_group = resp.json()["server"]["id"]
    assert member.get(f"/os-server-groups/{group['id']}").json()["server_group"][
        "members"] == [in_group]
    assert server not in member.get(f"/os-server-groups/{group['id']}").json()[
        "server_group"]["members"]
    missing = {**body, "os:scheduler_hints": {"group": "1c9f0a56-7d0e-4f8b-9f44-3a7b2a9c1e11"}}
    fault(member.post("/servers", missing), 400)
    member.delete(f"/servers/{in_group}")
    assert member.get(f"/os-server-groups/{group['id']}").json()["server_group"][
        "members"] == []
    # The admin's own list is its project's; all_projects lists every project's.
    assert group["id"] not in {g["id"] for g in
                               admin(cloud).get("/os-server-groups").json()["server_groups"]}
    assert group["id"] in {g["id"] for g in admin(cloud).get(
        "/os-server-groups?all_projects=true").json()["server_groups"]}
    fault(member.get("/os-server-groups?all_projects=true"), 403)
    assert member.delete(f"/os-server-groups/{group['id']}").status_code == 204
    fault(member.get(f"/os-server-groups/{group['id']}"), 404)
    with cloud.aio.compute.api_engine.connect() as conn:
        assert conn.execute(sa.select(instance_groups)
                            .where(instance_groups.c.uuid == group["id"])).first() is None
        assert conn.execute(sa.select(instance_group_member).where(
            instance_group_member.c.instance_uuid == in_group)).first() is None


def test_server_group_quota(cloud):
    root, member = admin(cloud), demo(cloud)
    project = demo_project_id(cloud)
    used = len(member.get("/os-server-groups").json()["server_groups"])
    root.put(f"/os-quota-sets/{project}", {"quota_set": {"server_groups": used + 1}})
    try:
        assert member.post("/os-server-groups", {"server_group": {
            "name": "q1", "policies": ["affinity"]}}).status_code == 200
        assert "too many server groups" in fault(member.post("/os-server-groups", {
            "server_group": {"name": "q2", "policies": ["affinity"]}}), 403)
        assert len(member.get("/os-server-groups").json()["server_groups"]) == used + 1
    finally:
        root.put(f"/os-quota-sets/{project}", {"quota_set": {"server_groups": 10}})


def test_instance_actions_record_delete_with_events_for_admins(cloud):
    member = demo(cloud)
    pending = create_server(member, "actions-pending")
    assert member.get(f"/servers/{pending}/os-instance-actions").json() == {
        "instanceActions": []}
    server = create_server(member, "actions")
    land_in_cell(cloud, server)
    assert member.get(f"/servers/{server}/os-instance-actions").json() == {
        "instanceActions": []}
    deleted = member.delete(f"/servers/{server}")
    request_id = deleted.headers["x-openstack-request-id"]
    actions = member.get(f"/servers/{server}/os-instance-actions").json()["instanceActions"]
    assert [(a["action"], a["request_id"]) for a in actions] == [("delete", request_id)]
    shown = member.get(f"/servers/{server}/os-instance-actions/{request_id}").json()
    assert shown["instanceAction"]["action"] == "delete" and "events" not in shown[
        "instanceAction"]
    as_admin = admin(cloud).get(f"/servers/{server}/os-instance-actions/{request_id}").json()
    assert as_admin["instanceAction"]["events"] == []
    fault(member.get(f"/servers/{server}/os-instance-actions/req-none"), 404)
    # Before 2.21 a deleted server's actions cannot be read.
    fault(member.at("2.20").get(f"/servers/{server}/os-instance-actions"), 404)
