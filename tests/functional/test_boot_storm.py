"""Acceptance: 200 concurrent boots onto 20 fake hosts never over-commit a host and leave
every ACTIVE server with exactly one allocation (20 requests of min_count=10 at once)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from boot_helpers import Placement, boot, capacity, default_image, make_flavor
from compute_helpers import admin, admin_project_id
from harness import start_cloud, stop_cloud

HOSTS = 20
REQUESTS = 20
PER_REQUEST = 10


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("storm"), fake_hosts=HOSTS)
    yield running
    stop_cloud(running)


def _settled(compute, reservation_ids: list[str], timeout: float) -> list[dict]:
    """Every server of these reservations, once none is building any more."""
    deadline = time.monotonic() + timeout
    while True:
        servers = [s for rid in reservation_ids for s in compute.get(
            "/servers/detail", params={"reservation_id": rid}).json()["servers"]]
        if len(servers) == REQUESTS * PER_REQUEST and \
                all(s["status"] in ("ACTIVE", "ERROR") for s in servers):
            return servers
        assert time.monotonic() < deadline, sorted({s["status"] for s in servers})
        time.sleep(0.5)


def test_200_concurrent_boots_on_20_hosts_one_allocation_each_no_host_over_capacity(cloud):
    compute = admin(cloud)
    quota = compute.put(f"/os-quota-sets/{admin_project_id(cloud)}", {"quota_set": {
        "instances": -1, "cores": -1, "ram": -1}})
    assert quota.status_code == 200, quota.text
    flavor = make_flavor(compute, "storm.small", ram=512, vcpus=1, disk=1)
    image = default_image(cloud, compute.token)
    placement = Placement(cloud, compute.token)
    providers = placement.providers()
    assert len(providers) == HOSTS

    def one_request(index: int) -> str:
        return boot(compute, f"storm-{index}", flavor["id"], image, server={
            "min_count": PER_REQUEST, "max_count": PER_REQUEST,
            "return_reservation_id": True})["reservation_id"]

    with ThreadPoolExecutor(REQUESTS) as pool:
        reservations = list(pool.map(one_request, range(REQUESTS)))
    servers = _settled(compute, reservations, timeout=240)

    active = [s for s in servers if s["status"] == "ACTIVE"]
    assert active, "no server became ACTIVE"
    for server in active:
        allocations = placement.allocations(server["id"])
        assert len(allocations) == 1, (server["id"], allocations)
    for server in servers:
        if server["status"] == "ERROR":
            assert placement.allocations(server["id"]) == {}
    for provider in providers:
        inventories = placement.inventories(provider["uuid"])
        for rc, used in placement.usages(provider["uuid"]).items():
            assert used <= capacity(inventories[rc]), (provider["name"], rc, used)
    # 200 small servers fit in 20 hosts many times over: none should fail to find one.
    assert len(active) == REQUESTS * PER_REQUEST, \
        [s.get("fault") for s in servers if s["status"] == "ERROR"][:3]
