"""Acceptance, with the real clients against a real all-in-one process and its own network
service: `openstack network/subnet/port/router ...`, `network auto allocated topology
create --check-resources`, openstacksdk's `conn.network`, and "Get Me a Network" —
`server create --nic auto --wait` as the demo user with no networks, a second server on
the same topology, `--nic none` without ports, and no port left after `server delete`."""

from __future__ import annotations

import os

import openstack
import pytest
import yaml
from harness import free_port
from test_all_in_one_cli import AllInOneProcess, osc

# One worker, one all-in-one for the module (loadgroup spreads ungrouped tests).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("network-cli")]


@pytest.fixture(scope="module")
def aio(tmp_path_factory):
    proc = AllInOneProcess(tmp_path_factory.mktemp("aio-netsvc"), free_port())
    proc.start()
    yield proc
    proc.stop()


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


# A --wait command polls until the server settles: on 2 busy cores (CI runs two test
# workers beside the all-in-one) that can take longer than one plain call's 60 s.
WAIT_TIMEOUT = 240


def show(aio, cloud: str, *args: str):
    timeout = WAIT_TIMEOUT if "--wait" in args else 60
    return yaml.safe_load(ok(osc(aio, cloud, *args, "-f", "yaml", timeout=timeout)))


def test_network_subnet_port_router_commands(aio):
    net = show(aio, "stratus-demo", "network", "create", "cli-net")
    assert net["name"] == "cli-net" and net["status"] == "ACTIVE"
    sub = show(aio, "stratus-demo", "subnet", "create", "--network", "cli-net",
               "--subnet-range", "10.50.0.0/24", "cli-sub")
    assert sub["gateway_ip"] == "10.50.0.1"
    port = show(aio, "stratus-demo", "port", "create", "--network", "cli-net",
                "--fixed-ip", "subnet=cli-sub,ip-address=10.50.0.10", "cli-port")
    assert "10.50.0.10" in str(port["fixed_ips"])
    listed = show(aio, "stratus-demo", "port", "list", "--network", "cli-net")
    assert [p["ID"] for p in listed] == [port["id"]]
    router = show(aio, "stratus-demo", "router", "create", "cli-router")
    ok(osc(aio, "stratus-demo", "router", "set", "--external-gateway", "public",
           "cli-router"))
    ok(osc(aio, "stratus-demo", "router", "add", "subnet", "cli-router", "cli-sub"))
    shown = show(aio, "stratus-demo", "router", "show", "cli-router")
    assert "public" in str(shown) or shown["external_gateway_info"]
    assert router["id"] in [r["ID"] for r in show(aio, "stratus-demo", "router", "list")]
    ok(osc(aio, "stratus-demo", "router", "remove", "subnet", "cli-router", "cli-sub"))
    ok(osc(aio, "stratus-demo", "router", "delete", "cli-router"))
    ok(osc(aio, "stratus-demo", "port", "delete", "cli-port"))
    ok(osc(aio, "stratus-demo", "subnet", "delete", "cli-sub"))
    ok(osc(aio, "stratus-demo", "network", "delete", "cli-net"))
    names = [n["Name"] for n in show(aio, "stratus-demo", "network", "list")]
    assert "cli-net" not in names and "public" in names


def test_auto_allocated_topology_check_resources(aio):
    checked = show(aio, "stratus-demo", "network", "auto", "allocated", "topology",
                   "create", "--check-resources")
    assert "pass" in str(checked)


def test_sdk_network_proxy(aio, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", os.path.join(aio.state_dir, "clouds.yaml"))
    conn = openstack.connect(cloud="stratus-demo")
    try:
        net = conn.network.create_network(name="sdk-net")
        sub = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                         cidr="10.60.0.0/28", name="sdk-sub")
        port = conn.network.create_port(network_id=net.id)
        assert port.fixed_ips[0]["subnet_id"] == sub.id
        assert net.id in [n.id for n in conn.network.networks()]
        assert conn.network.get_port(port.id).mac_address == port.mac_address
        conn.network.delete_port(port)
        conn.network.delete_subnet(sub)
        conn.network.delete_network(net)
        assert conn.network.find_network("sdk-net") is None
    finally:
        conn.close()


def test_get_me_a_network(aio):
    ok(osc(aio, "stratus", "flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1",
           "gman.tiny"))
    first = show(aio, "stratus-demo", "server", "create", "--image", "stratus-tiny",
                 "--flavor", "gman.tiny", "--nic", "auto", "gman-1", "--wait")
    assert first["status"] == "ACTIVE"
    [port] = show(aio, "stratus-demo", "port", "list", "--server", "gman-1")
    detail = show(aio, "stratus-demo", "port", "show", port["ID"])
    network = show(aio, "stratus-demo", "network", "show", detail["network_id"])
    assert network["name"] == "auto_allocated_network"
    address = detail["fixed_ips"][0]["ip_address"]
    shown = show(aio, "stratus-demo", "server", "show", "gman-1")
    assert shown["addresses"] == {"auto_allocated_network": [address]}
    second = show(aio, "stratus-demo", "server", "create", "--image", "stratus-tiny",
                  "--flavor", "gman.tiny", "--nic", "auto", "gman-2", "--wait")
    assert second["status"] == "ACTIVE"
    [port2] = show(aio, "stratus-demo", "port", "list", "--server", "gman-2")
    assert show(aio, "stratus-demo", "port", "show", port2["ID"])["network_id"] == \
        network["id"], "the second server reuses the project's topology"
    nets = [n for n in show(aio, "stratus-demo", "network", "list")
            if n["Name"] == "auto_allocated_network"]
    assert len(nets) == 1
    bare = show(aio, "stratus-demo", "server", "create", "--image", "stratus-tiny",
                "--flavor", "gman.tiny", "--nic", "none", "gman-none", "--wait")
    assert bare["status"] == "ACTIVE" and not bare.get("addresses")
    assert show(aio, "stratus-demo", "port", "list", "--server", "gman-none") == []
    for name in ("gman-1", "gman-2", "gman-none"):
        ok(osc(aio, "stratus-demo", "server", "delete", name, "--wait",
               timeout=WAIT_TIMEOUT))
    assert show(aio, "stratus-demo", "port", "list", "--network", network["id"],
                "--device-owner", "compute:nova") == []
