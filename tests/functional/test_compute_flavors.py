"""Flavors: list/detail/show, admin create/delete, extra specs, private flavors and access."""

import sqlalchemy as sa
from compute_helpers import admin, demo, demo_project_id, fault

from stratus.cells.schema_api import flavors


def _count_flavors(cloud) -> int:
    with cloud.aio.compute.api_engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(flavors)).scalar_one()


def test_create_show_list_delete(cloud):
    compute = admin(cloud)
    resp = compute.post("/flavors", {"flavor": {
        "name": "f.small", "id": "small", "ram": "2048", "vcpus": 2, "disk": 20,
        "OS-FLV-EXT-DATA:ephemeral": 5, "swap": 512, "rxtx_factor": 1.5}})
    assert resp.status_code == 200, resp.text
    flavor = resp.json()["flavor"]
    assert flavor["ram"] == 2048 and flavor["vcpus"] == 2 and flavor["disk"] == 20
    assert flavor["OS-FLV-EXT-DATA:ephemeral"] == 5 and flavor["swap"] == 512
    assert flavor["rxtx_factor"] == 1.5 and flavor["os-flavor-access:is_public"] is True
    assert flavor["links"][0]["href"].endswith("/compute/v2.1/flavors/small")
    assert compute.get("/flavors/small").json()["flavor"] == flavor
    listed = compute.get("/flavors").json()["flavors"]
    assert {"id": "small", "name": "f.small", "links": flavor["links"]} in listed
    assert flavor in compute.get("/flavors/detail").json()["flavors"]
    assert demo(cloud).get("/flavors/small").status_code == 200
    assert compute.delete("/flavors/small").status_code == 202
    fault(compute.get("/flavors/small"), 404)
    fault(compute.delete("/flavors/small"), 404)


def test_generated_id_and_zero_swap_shown_as_empty_string(cloud):
    resp = admin(cloud).post("/flavors", {"flavor": {"name": "f.gen", "ram": 64, "vcpus": 1,
                                                     "disk": 0}})
    flavor = resp.json()["flavor"]
    assert len(flavor["id"]) == 36 and flavor["swap"] == ""


def test_duplicates_conflict_and_write_nothing(cloud):
    compute = admin(cloud)
    compute.post("/flavors", {"flavor": {"name": "f.dup", "id": "dup", "ram": 64, "vcpus": 1,
                                         "disk": 0}})
    before = _count_flavors(cloud)
    assert "name f.dup" in fault(compute.post("/flavors", {"flavor": {
        "name": "f.dup", "id": "other", "ram": 64, "vcpus": 1, "disk": 0}}), 409)
    assert "ID dup" in fault(compute.post("/flavors", {"flavor": {
        "name": "f.other", "id": "dup", "ram": 64, "vcpus": 1, "disk": 0}}), 409)
    assert _count_flavors(cloud) == before


def test_bad_bodies_are_400_and_write_nothing(cloud):
    compute = admin(cloud)
    before = _count_flavors(cloud)
    good = {"name": "f.bad", "ram": 64, "vcpus": 1, "disk": 0}
    for bad in ({**good, "ram": 0}, {**good, "vcpus": "two"}, {**good, "disk": -1},
                {**good, "unknown": 1}, {"name": "f.bad", "ram": 64}, {**good, "name": " x"},
                {**good, "id": "bad/id"}, {**good, "rxtx_factor": 0},
                {**good, "os-flavor-access:is_public": "maybe"}):
        fault(compute.post("/flavors", {"flavor": bad}), 400)
    fault(compute.post("/flavors", {"flavour": good}), 400)
    resp = compute.post("/flavors", data=b"{not json",
                        headers={"Content-Type": "application/json"})
    fault(resp, 400)
    assert _count_flavors(cloud) == before


def test_members_cannot_manage_flavors(cloud):
    member = demo(cloud)
    fault(member.post("/flavors", {"flavor": {"name": "f.x", "ram": 64, "vcpus": 1,
                                              "disk": 0}}), 403)
    admin(cloud).post("/flavors", {"flavor": {"name": "f.keep", "id": "keep", "ram": 64,
                                              "vcpus": 1, "disk": 0}})
    fault(member.delete("/flavors/keep"), 403)
    fault(member.post("/flavors/keep/os-extra_specs", {"extra_specs": {"a": "b"}}), 403)


def test_paging_sorting_and_filters(cloud):
    compute = admin(cloud)
    for index in range(3):
        compute.post("/flavors", {"flavor": {"name": f"f.page{index}", "id": f"page{index}",
                                             "ram": 100 + index, "vcpus": 1, "disk": index}})
    first = compute.get("/flavors?limit=2&sort_key=name&sort_dir=asc").json()
    names = [f["name"] for f in first["flavors"]]
    assert names == sorted(names) and len(names) == 2
    next_href = first["flavors_links"][0]["href"]
    assert "marker=" in next_href
    big = compute.get("/flavors/detail?minRam=101&minDisk=1").json()["flavors"]
    assert {f["id"] for f in big} >= {"page1", "page2"}
    assert all(f["ram"] >= 101 and f["disk"] >= 1 for f in big)
    assert "marker [nope] not found" in fault(compute.get("/flavors?marker=nope"), 400)
    fault(compute.get("/flavors?sort_key=bogus"), 400)
    fault(compute.get("/flavors?limit=-1"), 400)


def test_extra_specs_lifecycle(cloud):
    compute = admin(cloud)
    compute.post("/flavors", {"flavor": {"name": "f.specs", "id": "specs", "ram": 64,
                                         "vcpus": 1, "disk": 0}})
    resp = compute.post("/flavors/specs/os-extra_specs",
                        {"extra_specs": {"hw:cpu_policy": "dedicated", "quota:x": 5}})
    assert resp.status_code == 200
    assert resp.json() == {"extra_specs": {"hw:cpu_policy": "dedicated", "quota:x": "5"}}
    assert compute.get("/flavors/specs/os-extra_specs").json()["extra_specs"] == {
        "hw:cpu_policy": "dedicated", "quota:x": "5"}
    assert demo(cloud).get("/flavors/specs/os-extra_specs").status_code == 200
    put = compute.put("/flavors/specs/os-extra_specs/quota:x", {"quota:x": "6"})
    assert put.status_code == 200 and put.json() == {"quota:x": "6"}
    assert compute.get("/flavors/specs/os-extra_specs/quota:x").json() == {"quota:x": "6"}
    fault(compute.put("/flavors/specs/os-extra_specs/quota:x", {"other": "6"}), 400)
    fault(compute.post("/flavors/specs/os-extra_specs", {"extra_specs": {"bad/key": "v"}}),
          400)
    assert compute.delete("/flavors/specs/os-extra_specs/quota:x").status_code == 200
    fault(compute.get("/flavors/specs/os-extra_specs/quota:x"), 404)
    fault(compute.delete("/flavors/specs/os-extra_specs/quota:x"), 404)
    fault(compute.get("/flavors/missing/os-extra_specs"), 404)


def test_private_flavor_access(cloud):
    compute = admin(cloud)
    member = demo(cloud)
    compute.post("/flavors", {"flavor": {"name": "f.private", "id": "private", "ram": 64,
                                         "vcpus": 1, "disk": 0,
                                         "os-flavor-access:is_public": False}})
    fault(member.get("/flavors/private"), 404)
    assert "private" not in {f["id"] for f in member.get("/flavors").json()["flavors"]}
    assert "private" not in {f["id"] for f in compute.get("/flavors").json()["flavors"]}
    assert "private" in {f["id"] for f in
                         compute.get("/flavors?is_public=none").json()["flavors"]}
    assert compute.get("/flavors/private/os-flavor-access").json() == {"flavor_access": []}

    project_id = demo_project_id(cloud)
    added = compute.post("/flavors/private/action",
                         {"addTenantAccess": {"tenant": project_id}})
    assert added.status_code == 200
    assert added.json() == {"flavor_access": [{"flavor_id": "private",
                                               "tenant_id": project_id}]}
    fault(compute.post("/flavors/private/action", {"addTenantAccess": {"tenant": project_id}}),
          409)
    assert member.get("/flavors/private").status_code == 200
    assert "private" in {f["id"] for f in member.get("/flavors").json()["flavors"]}
    removed = compute.post("/flavors/private/action",
                           {"removeTenantAccess": {"tenant": project_id}})
    assert removed.json() == {"flavor_access": []}
    fault(compute.post("/flavors/private/action",
                       {"removeTenantAccess": {"tenant": project_id}}), 404)
    fault(member.get("/flavors/private"), 404)
    fault(compute.post("/flavors/private/action", {"bogus": {}}), 400)


def test_access_list_and_add_on_public_flavor(cloud):
    compute = admin(cloud)
    compute.post("/flavors", {"flavor": {"name": "f.pub", "id": "pub", "ram": 64, "vcpus": 1,
                                         "disk": 0}})
    fault(compute.get("/flavors/pub/os-flavor-access"), 404)
    fault(compute.post("/flavors/pub/action", {"addTenantAccess": {"tenant": "p1"}}), 409)
    # Before 2.7 adding access to a public flavor was allowed.
    old = compute.at("2.6").post("/flavors/pub/action", {"addTenantAccess": {"tenant": "p1"}})
    assert old.status_code == 200

