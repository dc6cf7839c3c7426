"""Acceptance: servers get their ports from Neutron as Nova's do — ``networks`` at create
(2.37 "auto"/"none", networks, ports, fixed IPs), addresses in the server view and
/ips, the ip filters, os-interface — and no port outlives its server.

The cloud is an all-in-one with one fake compute host whose network API is a small fake
Neutron (``fake_neutron``), so each test knows exactly which ports exist.
"""

from __future__ import annotations

import time
import uuid

import pytest
from boot_helpers import show, wait_for, wait_gone
from compute_helpers import (
    IMAGE,
    admin,
    admin_project_id,
    demo,
    demo_project_id,
    ensure_flavor,
    fault,
)
from harness import start_cloud, stop_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, neutron):
    running = start_cloud(tmp_path_factory.mktemp("networks"), fake_hosts=1,
                          **{"neutron.endpoint_override": neutron.url})
    ensure_flavor(admin(running))
    yield running
    stop_cloud(running)


def _boot(compute, name: str, networks, status: int = 202, **extra):
    server = {"name": name, "imageRef": IMAGE, "flavorRef": "tiny", **extra}
    if networks is not None:
        server["networks"] = networks
    resp = compute.post("/servers", {"server": server})
    assert resp.status_code == status, resp.text
    return resp


def _active(compute, name: str, networks, **extra) -> dict:
    server_id = _boot(compute, name, networks, **extra).json()["server"]["id"]
    return wait_for(compute, server_id, "ACTIVE")


def _delete(compute, server_id: str) -> None:
    assert compute.delete(f"/servers/{server_id}").status_code == 204
    wait_gone(compute, server_id)


def _driver(cloud):
    agents = cloud.aio.rpc_services.agents.agents
    return next(iter(agents.values())).driver


def test_auto_allocates_a_network_for_a_project_without_one_and_reuses_it(cloud, neutron):
    compute = demo(cloud)
    project = demo_project_id(cloud)
    first = _active(compute, "auto-1", "auto")
    (label, [address]), = first["addresses"].items()
    assert label == "auto_allocated_network"
    assert address["version"] == 4 and address["OS-EXT-IPS:type"] == "fixed"
    [port] = neutron.ports_of(first["id"])
    assert address["addr"] == port["fixed_ips"][0]["ip_address"]
    assert address["OS-EXT-IPS-MAC:mac_addr"] == port["mac_address"]
    assert port["device_owner"] == "compute:nova" and port["tenant_id"] == project
    assert port["binding:host_id"] == first.get("OS-EXT-SRV-ATTR:host", port["binding:host_id"])
    assert port["binding:host_id"]
    # The second server finds the topology made for the first: one network, two ports.
    second = _active(compute, "auto-2", "auto")
    [again] = neutron.ports_of(second["id"])
    assert again["network_id"] == port["network_id"] and list(neutron.topologies) == [project]
    # /ips: version and address only.
    ips = compute.get(f"/servers/{first['id']}/ips").json()
    assert ips == {"addresses": {label: [{"version": 4, "addr": address["addr"]}]}}
    assert compute.get(f"/servers/{first['id']}/ips/{label}").json() == {
        label: [{"version": 4, "addr": address["addr"]}]}
    assert "not a member" in fault(compute.get(f"/servers/{first['id']}/ips/other"), 404)
    # The ip filter is a regular expression matched from the start of an address.
    listed = compute.get("/servers", params={"ip": address["addr"].replace(".", r"\.")})
    assert [s["id"] for s in listed.json()["servers"]] == [first["id"]]
    prefix = ".".join(address["addr"].split(".")[:3]) + "."
    both = {s["id"] for s in compute.get("/servers", params={"ip": prefix}).json()["servers"]}
    assert both == {first["id"], second["id"]}
    assert compute.get("/servers", params={"ip": "0.0"}).json()["servers"] == []
    # Before 2.37, no networks and one network of the project: that network.
    old = compute.at("2.36")
    third = wait_for(old, _boot(old, "pre-2.37", None).json()["server"]["id"], "ACTIVE")
    [third_port] = neutron.ports_of(third["id"])
    assert third_port["network_id"] == port["network_id"]
    for server in (first, second, third):
        _delete(compute, server["id"])
        assert neutron.ports_of(server["id"]) == []


def test_none_boots_without_ports(cloud, neutron):
    compute = demo(cloud)
    server = _active(compute, "no-net", "none")
    assert server["addresses"] == {} and neutron.ports_of(server["id"]) == []
    assert compute.get(f"/servers/{server['id']}/ips").json() == {"addresses": {}}
    _delete(compute, server["id"])


def test_requested_networks_ports_and_addresses_are_checked_before_anything_is_written(
        cloud, neutron):
    compute = admin(cloud)
    project = admin_project_id(cloud)
    net = neutron.add_network("admin-net", project, "192.168.50.0/24")
    missing = str(uuid.uuid4())
    assert fault(_boot(compute, "x", [{"uuid": missing}], 400), 400) == \
        f"Network {missing} could not be found."
    assert fault(_boot(compute, "x", [{"port": missing}], 400), 400) == \
        f"Port id {missing} could not be found."
    assert "not a valid IP for any of the subnets" in fault(
        _boot(compute, "x", [{"uuid": net["id"], "fixed_ip": "10.9.9.9"}], 400), 400)
    bare = neutron.add_network("no-subnet", project, None)
    assert fault(_boot(compute, "x", [{"uuid": bare["id"]}], 400), 400) == \
        f"Network {bare['id']} requires a subnet in order to boot instances on."
    # Two networks of the project: "auto" (and nothing, before 2.37) is ambiguous.
    assert fault(_boot(compute, "x", "auto", 409), 409) == \
        "Multiple possible networks found, use a Network ID to be more specific."
    fault(_boot(compute.at("2.36"), "x", None, 409), 409)
    # A fixed IP inside the subnet is given to the server's port.
    server = _active(compute, "fixed", [{"uuid": net["id"], "fixed_ip": "192.168.50.77"}])
    assert server["addresses"]["admin-net"][0]["addr"] == "192.168.50.77"
    assert "already in use" in fault(
        _boot(compute, "x", [{"uuid": net["id"], "fixed_ip": "192.168.50.77"}], 400), 400)
    [port] = neutron.ports_of(server["id"])
    assert fault(_boot(compute, "x", [{"port": port["id"]}], 409), 409) == \
        f"Port {port['id']} is still in use."
    _delete(compute, server["id"])
    assert neutron.ports_of(server["id"]) == [] and port["id"] not in neutron.ports
    # Nothing was written for the refused requests.
    names = {s["name"] for s in compute.get("/servers").json()["servers"]}
    assert "x" not in names


def test_auto_fails_fast_when_neutron_cannot_allocate(cloud, neutron):
    compute = demo(cloud, "2.38")
    neutron.auto_allocation = False
    topologies = dict(neutron.topologies)
    neutron.topologies.clear()
    try:
        # With the project's network forgotten, "auto" would have to allocate: it cannot.
        for network_id in topologies.values():
            neutron.networks.pop(network_id, None)
        assert fault(_boot(compute, "doomed", "auto", 400), 400) == \
            f"Unable to automatically allocate a network for project {demo_project_id(cloud)}"
    finally:
        neutron.auto_allocation = True


def test_a_users_port_is_unbound_not_deleted_and_failed_builds_leave_no_ports(cloud,
                                                                            neutron):
    compute = admin(cloud)
    project = admin_project_id(cloud)
    net = neutron.add_network("ports-net", project, "192.168.60.0/24")
    status, body = neutron._create_port({"network_id": net["id"], "tenant_id": project})
    own = body["port"]["id"]
    server = _active(compute, "own-port", [{"port": own}])
    assert neutron.ports[own]["device_id"] == server["id"]
    assert neutron.ports[own]["binding:host_id"]
    _delete(compute, server["id"])
    assert neutron.ports[own]["device_id"] == "" and not neutron.ports[own]["binding:host_id"]
    # A build that fails on the only host ends in ERROR with none of its ports left, and
    # the user's port free again.
    _driver(cloud).fail_next_spawns(1)
    failed_id = _boot(compute, "fails", [{"uuid": net["id"]}, {"port": own}]
                      ).json()["server"]["id"]
    failed = wait_for(compute, failed_id, "ERROR")
    assert neutron.ports_of(failed["id"]) == []
    assert neutron.ports[own]["device_id"] == ""
    _delete(compute, failed_id)
    neutron.ports.pop(own)


def test_os_interface_attach_list_show_detach(cloud, neutron):
    compute = admin(cloud)
    project = admin_project_id(cloud)
    net = neutron.add_network("iface-net", project, "192.168.70.0/24")
    server = _active(compute, "iface", "none")
    path = f"/servers/{server['id']}/os-interface"
    assert compute.get(path).json() == {"interfaceAttachments": []}
    resp = compute.post(path, {"interfaceAttachment": {"net_id": net["id"]}})
    assert resp.status_code == 200, resp.text
    attachment = resp.json()["interfaceAttachment"]
    assert set(attachment) == {"net_id", "port_id", "mac_addr", "port_state", "fixed_ips"}
    assert attachment["net_id"] == net["id"] and attachment["port_state"] == "ACTIVE"
    port_id = attachment["port_id"]
    assert compute.get(path).json()["interfaceAttachments"] == [attachment]
    assert compute.get(f"{path}/{port_id}").json() == {"interfaceAttachment": attachment}
    assert show(compute, server["id"])["addresses"]["iface-net"][0]["addr"] == \
        attachment["fixed_ips"][0]["ip_address"]
    assert "could not be found" in fault(compute.get(f"{path}/{uuid.uuid4()}"), 404)
    assert "Must not input both" in fault(compute.post(path, {"interfaceAttachment": {
        "net_id": net["id"], "port_id": port_id}}), 400)
    assert "is still in use" in fault(compute.post(path, {"interfaceAttachment": {
        "port_id": port_id}}), 409)
    assert compute.delete(f"{path}/{port_id}").status_code == 202
    wait_for(compute, server["id"], "ACTIVE")
    assert _eventually(lambda: port_id not in neutron.ports)
    assert _eventually(lambda: show(compute, server["id"])["addresses"] == {})
    _delete(compute, server["id"])


def _eventually(check, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_deleting_a_server_of_a_down_host_releases_its_ports_from_the_api(cloud, neutron):
    """Local delete (the host's service is forced down): the API deletes the server and,
    as Nova does, its ports; nothing waits for the host to come back."""
    compute = admin(cloud)
    project = admin_project_id(cloud)
    net = neutron.add_network("local-net", project, "192.168.80.0/24")
    server = _active(compute, "local", [{"uuid": net["id"]}])
    host = server["OS-EXT-SRV-ATTR:host"]
    assert len(neutron.ports_of(server["id"])) == 1
    services = admin(cloud, "2.11")
    force = {"host": host, "binary": "nova-compute"}
    assert services.put("/os-services/force-down", {**force, "forced_down": True}
                        ).status_code == 200
    try:
        _delete(compute, server["id"])
        assert neutron.ports_of(server["id"]) == []
    finally:
        services.put("/os-services/force-down", {**force, "forced_down": False})
