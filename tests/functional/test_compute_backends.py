"""The compute API's SQL on every backend: one tour of the main paths on SQLite,
PostgreSQL and MySQL (fresh databases per backend)."""

import pytest
from compute_helpers import (
    add_compute_host,
    admin,
    create_server,
    demo,
    ensure_flavor,
    fault,
    land_in_cell,
)
from harness import start_cloud, stop_cloud

from stratus.conf.database import group_name


@pytest.fixture
def backend_cloud(backend_urls, tmp_path):
    overrides = {f"{group_name(name)}.connection": url for name, url in backend_urls.items()}
    cloud = start_cloud(tmp_path, **overrides)
    yield cloud
    stop_cloud(cloud)


def test_main_compute_paths_on_every_backend(backend_cloud):
    cloud = backend_cloud
    root, member = admin(cloud), demo(cloud)
    ensure_flavor(root, "tiny")
    fault(root.post("/flavors", {"flavor": {"name": "flavor-tiny", "ram": 1, "vcpus": 1,
                                            "disk": 0}}), 409)
    assert root.get("/flavors?sort_key=memory_mb&limit=1&marker=tiny").status_code == 200
    ensure_flavor(root, "gone")
    root.post("/flavors/gone/os-extra_specs", {"extra_specs": {"a": "b"}})
    assert root.delete("/flavors/gone").status_code == 202
    fault(root.delete("/flavors/gone"), 404)
    assert member.post("/os-keypairs", {"keypair": {"name": "k"}}).status_code == 201
    fault(member.post("/os-keypairs", {"keypair": {"name": "k"}}), 409)

    ids = {name: create_server(member, f"tour-{name}") for name in "dcba"}
    for name in "db":
        land_in_cell(cloud, ids[name])
    member.put(f"/servers/{ids['d']}/tags", {"tags": ["x"]})
    names = []
    url = "/servers?sort_key=display_name&sort_dir=asc&limit=3&name=^tour-"
    while url:
        page = member.get(url).json()
        names += [s["name"] for s in page["servers"]]
        links = page.get("servers_links")
        url = links[0]["href"].split("/compute/v2.1", 1)[1] if links else None
    assert names == ["tour-a", "tour-b", "tour-c", "tour-d"]
    assert [s["name"] for s in member.get("/servers?tags=x").json()["servers"]] == ["tour-d"]
    assert member.delete(f"/servers/{ids['d']}").status_code == 204
    assert member.delete(f"/servers/{ids['a']}").status_code == 204
    assert {s["name"] for s in member.get("/servers").json()["servers"]} == {"tour-b",
                                                                             "tour-c"}
    usage = member.get("/limits").json()["limits"]["absolute"]
    assert usage["totalInstancesUsed"] == 2 and usage["totalRAMUsed"] == 1024

    add_compute_host(cloud, "tour-host")
    assert [h["hypervisor_hostname"] for h in root.get("/os-hypervisors").json()[
        "hypervisors"]] == ["tour-host.example.org"]
    agg = root.post("/os-aggregates", {"aggregate": {"name": "a", "availability_zone": "z"}})
    assert agg.status_code == 200
    fault(root.post("/os-aggregates", {"aggregate": {"name": "a"}}), 409)
    group = member.post("/os-server-groups", {"server_group": {"name": "g",
                                                               "policies": ["affinity"]}})
    assert group.status_code == 200
