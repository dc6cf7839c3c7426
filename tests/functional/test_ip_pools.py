"""IP pools as generic resource pools: each IPv4 subnet is a shared Placement provider of
IPV4_ADDRESS (reserved: what non-instance ports hold), in its network's aggregate and the
fabric's, which compute hosts join; booting onto the network claims one address there,
so a full subnet fails at scheduling (NoValidHost) rather than at port creation."""

from __future__ import annotations

import pytest
from boot_helpers import Placement, wait_for, wait_gone
from compute_helpers import IMAGE, admin, ensure_flavor
from harness import start_cloud, stop_cloud
from test_network_api import Network


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("ippools"), fake_hosts=1)
    ensure_flavor(admin(running))
    yield running
    stop_cloud(running)


def _boot(compute, name: str, network_id: str) -> str:
    resp = compute.post("/servers", {"server": {
        "name": name, "imageRef": IMAGE, "flavorRef": "tiny",
        "networks": [{"uuid": network_id}]}})
    assert resp.status_code == 202, resp.text
    return resp.json()["server"]["id"]


def test_a_nearly_full_subnet_refuses_hosts_behind_it(cloud):
    compute = admin(cloud)
    network = Network(cloud, cloud.admin_token())
    placement = Placement(cloud, cloud.admin_token())
    fabric = cloud.conf.network.fabric_aggregate
    net = network.create("network", name="small")
    subnet = network.create("subnet", network_id=net["id"], ip_version=4,
                            cidr="10.99.0.0/29", gateway_ip="10.99.0.1",
                            allocation_pools=[{"start": "10.99.0.2", "end": "10.99.0.4"}])

    # The subnet is a sharing provider of its 3 pool addresses, in both aggregates.
    pool = placement.get(f"/resource_providers/{subnet['id']}")
    assert pool["name"] == f"ipv4-pool-{subnet['id']}"
    inventory = placement.inventories(subnet["id"])["IPV4_ADDRESS"]
    assert (inventory["total"], inventory["reserved"]) == (3, 0)
    assert set(placement.get(f"/resource_providers/{subnet['id']}/aggregates")
               ["aggregates"]) == {net["id"], fabric}
    assert "MISC_SHARES_VIA_AGGREGATE" in placement.get(
        f"/resource_providers/{subnet['id']}/traits")["traits"]
    [host] = [rp for rp in placement.providers() if rp["uuid"] != subnet["id"]
              and "VCPU" in placement.inventories(rp["uuid"])]
    assert fabric in placement.get(f"/resource_providers/{host['uuid']}/aggregates")[
        "aggregates"]

    # Two ports that are no instance's (a router's, an unbound one) are reserved.
    held = [network.create("port", network_id=net["id"], name=f"held-{i}")["id"]
            for i in range(2)]
    assert placement.inventories(subnet["id"])["IPV4_ADDRESS"]["reserved"] == 2

    # One address left: the first server claims it through the scheduler ...
    first = _boot(compute, "pool-1", net["id"])
    wait_for(compute, first, "ACTIVE")
    claimed = placement.allocations(first)
    assert claimed[subnet["id"]]["resources"] == {"IPV4_ADDRESS": 1}
    assert host["uuid"] in claimed
    assert placement.usages(subnet["id"]) == {"IPV4_ADDRESS": 1}
    # ... and its port, an instance's, is not counted as reserved as well.
    assert placement.inventories(subnet["id"])["IPV4_ADDRESS"]["reserved"] == 2

    # The subnet is full: the next boot fails to schedule, and no port is made for it.
    second = _boot(compute, "pool-2", net["id"])
    failed = wait_for(compute, second, "ERROR")
    assert "No valid host" in failed["fault"]["message"], failed["fault"]
    assert network.get("/ports", params={"device_id": second}).json()["ports"] == []
    assert placement.usages(subnet["id"]) == {"IPV4_ADDRESS": 1}

    # Freeing a held address makes room again.
    assert network.delete(f"/ports/{held[0]}").status_code == 204
    assert placement.inventories(subnet["id"])["IPV4_ADDRESS"]["reserved"] == 1
    third = _boot(compute, "pool-3", net["id"])
    wait_for(compute, third, "ACTIVE")
    assert placement.usages(subnet["id"]) == {"IPV4_ADDRESS": 2}

    for server in (first, second, third):
        assert compute.delete(f"/servers/{server}").status_code == 204
        wait_gone(compute, server)
    assert placement.usages(subnet["id"]) == {"IPV4_ADDRESS": 0}
    assert network.delete(f"/ports/{held[1]}").status_code == 204
    assert network.delete(f"/subnets/{subnet['id']}").status_code == 204
    resp = placement.get("/resource_providers", member_of=net["id"])
    assert resp["resource_providers"] == [], "the pool goes with its subnet"
    again = network.create("subnet", network_id=net["id"], ip_version=4, cidr="10.99.1.0/28")
    assert placement.inventories(again["id"])["IPV4_ADDRESS"]["total"] == 13
    assert network.delete(f"/networks/{net['id']}").status_code == 204
    resp = placement.get("/resource_providers", member_of=net["id"])
    assert resp["resource_providers"] == [], "and with its network"


def test_a_network_without_pools_schedules_as_before(cloud):
    """IPv6-only: no pool provider, so no address group is asked of Placement."""
    compute = admin(cloud)
    network = Network(cloud, cloud.admin_token())
    net = network.create("network", name="v6only")
    network.create("subnet", network_id=net["id"], ip_version=6, cidr="fd00:99::/64")
    server = _boot(compute, "v6-1", net["id"])
    shown = wait_for(compute, server, "ACTIVE")
    assert shown["addresses"]["v6only"][0]["version"] == 6
    assert compute.delete(f"/servers/{server}").status_code == 204
    wait_gone(compute, server)
