"""Hypervisors, compute services and availability zones, read from the cell databases."""

import pytest
import sqlalchemy as sa
from compute_helpers import add_compute_host, admin, cell, demo, fault

from stratus.cells import mappings
from stratus.cells.schema_api import aggregate_hosts, aggregate_metadata, aggregates, utcnow


@pytest.fixture(scope="module", autouse=True)
def hosts(cloud):
    """Two compute hosts in cell1, mapped as discover_hosts would map them."""
    ids = {host: add_compute_host(cloud, host) for host in ("compute-1", "compute-2")}
    with cloud.aio.compute.api_engine.begin() as conn:
        cell1 = cell(cloud)
        for host in ids:
            conn.execute(sa.insert(mappings.api.host_mappings).values(
                host=host, cell_id=cell1.id, created_at=utcnow()))
    return ids


def test_hypervisor_list_detail_show_and_statistics(cloud, hosts):
    compute = admin(cloud)
    listed = compute.get("/os-hypervisors").json()["hypervisors"]
    by_name = {h["hypervisor_hostname"]: h for h in listed}
    assert set(by_name) >= {"compute-1.example.org", "compute-2.example.org"}
    assert by_name["compute-1.example.org"]["state"] == "up"
    assert by_name["compute-1.example.org"]["status"] == "enabled"
    detail = compute.get("/os-hypervisors/detail").json()["hypervisors"]
    one = next(h for h in detail if h["hypervisor_hostname"] == "compute-1.example.org")
    assert one["vcpus"] == 8 and one["memory_mb"] == 16384 and one["free_ram_mb"] == 15872
    assert one["cpu_info"] == {"arch": "x86_64", "model": "qemu64"}  # an object from 2.28
    assert one["service"]["host"] == "compute-1"
    old = compute.at("2.27").get(f"/os-hypervisors/{one['id']}").json()["hypervisor"]
    assert isinstance(old["cpu_info"], str)
    assert compute.get(f"/os-hypervisors/{one['id']}").json()["hypervisor"] == one
    fault(compute.get("/os-hypervisors/99999"), 404)
    stats = compute.get("/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert stats["count"] == len(detail)
    assert stats["vcpus"] == sum(h["vcpus"] for h in detail)


def test_hypervisor_search_servers_and_paging(cloud, hosts):
    compute = admin(cloud)
    found = compute.get("/os-hypervisors/compute-2/search").json()["hypervisors"]
    assert [h["hypervisor_hostname"] for h in found] == ["compute-2.example.org"]
    fault(compute.get("/os-hypervisors/nothing-like-this/search"), 404)
    assert compute.get("/os-hypervisors/compute-1/servers").status_code == 200
    page = compute.get("/os-hypervisors?limit=1").json()
    assert len(page["hypervisors"]) == 1 and "hypervisors_links" in page
    marker = page["hypervisors"][0]["id"]
    rest = compute.get(f"/os-hypervisors?marker={marker}").json()["hypervisors"]
    assert marker not in {h["id"] for h in rest} and rest
    fault(compute.get("/os-hypervisors?marker=424242"), 400)


def test_hosts_apis_are_admin_only(cloud):
    member = demo(cloud)
    for path in ("/os-hypervisors", "/os-hypervisors/detail", "/os-hypervisors/statistics",
                 "/os-services", "/os-availability-zone/detail"):
        fault(member.get(path), 403)


def test_service_list_disable_enable_force_down(cloud, hosts):
    compute = admin(cloud)
    services = compute.get("/os-services?binary=nova-compute").json()["services"]
    one = next(s for s in services if s["host"] == "compute-1")
    assert one["state"] == "up" and one["status"] == "enabled" and one["zone"] == "nova"
    assert one["forced_down"] is False
    assert "forced_down" not in compute.at("2.10").get("/os-services").json()["services"][0]
    resp = compute.put("/os-services/disable-log-reason", {
        "host": "compute-1", "binary": "nova-compute", "disabled_reason": "maintenance"})
    assert resp.json() == {"service": {"host": "compute-1", "binary": "nova-compute",
                                       "status": "disabled", "disabled_reason": "maintenance"}}
    shown = compute.get("/os-services?host=compute-1").json()["services"][0]
    assert shown["status"] == "disabled" and shown["disabled_reason"] == "maintenance"
    hyper = next(h for h in compute.get("/os-hypervisors").json()["hypervisors"]
                 if h["hypervisor_hostname"] == "compute-1.example.org")
    assert hyper["status"] == "disabled"
    assert compute.put("/os-services/enable", {"host": "compute-1", "binary": "nova-compute"}
                       ).json()["service"]["status"] == "enabled"
    down = compute.put("/os-services/force-down", {"host": "compute-1",
                                                   "binary": "nova-compute",
                                                   "forced_down": True})
    assert down.json()["service"]["forced_down"] is True
    assert compute.get("/os-services?host=compute-1").json()["services"][0]["state"] == "down"
    compute.put("/os-services/force-down", {"host": "compute-1", "binary": "nova-compute",
                                            "forced_down": False})
    fault(compute.at("2.10").put("/os-services/force-down", {
        "host": "compute-1", "binary": "nova-compute", "forced_down": True}), 404)
    fault(compute.put("/os-services/enable", {"host": "nope", "binary": "nova-compute"}), 404)
    fault(compute.put("/os-services/enable", {"host": "compute-1"}), 400)
    fault(compute.put("/os-services/disable", {"host": "compute-1", "binary": "nova-compute",
                                               "bogus": 1}), 400)
    fault(compute.put("/os-services/explode", {"host": "compute-1",
                                               "binary": "nova-compute"}), 404)


def test_service_delete_removes_service_nodes_and_host_mapping(cloud, hosts):
    compute = admin(cloud)
    add_compute_host(cloud, "compute-doomed")
    doomed = next(s for s in compute.get("/os-services").json()["services"]
                  if s["host"] == "compute-doomed")
    assert compute.delete(f"/os-services/{doomed['id']}").status_code == 204
    assert "compute-doomed" not in {s["host"] for s in
                                    compute.get("/os-services").json()["services"]}
    assert "compute-doomed.example.org" not in {
        h["hypervisor_hostname"] for h in compute.get("/os-hypervisors").json()["hypervisors"]}
    fault(compute.delete(f"/os-services/{doomed['id']}"), 404)
    fault(compute.delete("/os-services/abc"), 400)


def test_availability_zones_come_from_aggregates(cloud, hosts):
    compute = admin(cloud)
    zones = compute.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None} in zones
    with cloud.aio.compute.api_engine.begin() as conn:
        agg_id = conn.execute(sa.insert(aggregates).values(
            uuid="1c9f0a56-7d0e-4f8b-9f44-3a7b2a9c1e10", name="rack-2",
            created_at=utcnow())).inserted_primary_key[0]
        conn.execute(sa.insert(aggregate_hosts).values(aggregate_id=agg_id, host="compute-2",
                                                       created_at=utcnow()))
        conn.execute(sa.insert(aggregate_metadata).values(
            aggregate_id=agg_id, key="availability_zone", value="az-2", created_at=utcnow()))
    names = {z["zoneName"] for z in
             demo(cloud).get("/os-availability-zone").json()["availabilityZoneInfo"]}
    assert {"nova", "az-2"} <= names
    detail = compute.get("/os-availability-zone/detail").json()["availabilityZoneInfo"]
    az2 = next(z for z in detail if z["zoneName"] == "az-2")
    assert list(az2["hosts"]) == ["compute-2"]
    assert az2["hosts"]["compute-2"]["nova-compute"]["available"] is True
    assert next(s for s in compute.get("/os-services").json()["services"]
                if s["host"] == "compute-2")["zone"] == "az-2"
