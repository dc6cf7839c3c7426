"""Acceptance, as root: two servers on one network, on a fake compute host whose instances
are network namespaces, are plugged by os-vif and ping each other — once through Stratus'
Linux-bridge plugin (``stratus_bridge``), once through os-vif's own ``ovs`` plugin on an
Open vSwitch bridge with the userspace datapath, on daemons this test starts.

Deleting the servers leaves no namespace, veth, bridge or OVS port behind; the tests
check that, and remove what a failed run left before they end.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
from boot_helpers import wait_for, wait_gone
from compute_helpers import IMAGE, admin, demo, ensure_flavor
from harness import start_cloud, stop_cloud
from test_network_api import Network

from stratus.netsvc.service import OVS_BRIDGE, linux_bridge
from stratus.network.os_vif_util import vif_name
from stratus.virt.fake_netns import netns_name

# One worker runs both: os-vif is configured once per process, and the tests share
# nothing else with the rest of the suite.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("vif-ping")]


def _need(condition: bool, why: str) -> None:
    """CI runs as root with OVS and ping installed (.ci/run); elsewhere, skip."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide this: {why}")
    pytest.skip(why)


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=check)


def _links() -> set[str]:
    out = _run("ip", "-o", "link", "show").stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def _namespaces() -> set[str]:
    return {line.split()[0] for line in _run("ip", "netns", "list").stdout.splitlines()
            if line.strip()}


class OVS:
    """A private ovsdb-server and ovs-vswitchd (userspace datapath) under ``root``."""

    def __init__(self, root):
        self.root = str(root)
        self.sock = os.path.join(self.root, "db.sock")
        self.procs: list[subprocess.Popen] = []
        self.env = {**os.environ, "OVS_RUNDIR": self.root, "OVS_LOGDIR": self.root,
                    "OVS_DBDIR": self.root, "OVS_SYSCONFDIR": self.root}

    def vsctl(self, *args: str) -> str:
        return subprocess.run(["ovs-vsctl", f"--db=unix:{self.sock}", "--timeout=10", *args],
                              capture_output=True, text=True, check=True, timeout=30,
                              env=self.env).stdout

    def start(self) -> None:
        db = os.path.join(self.root, "conf.db")
        _run("ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema")
        self.procs.append(subprocess.Popen(
            ["ovsdb-server", db, f"--remote=punix:{self.sock}",
             f"--unixctl={self.root}/ovsdb-server.ctl",
             f"--log-file={self.root}/ovsdb-server.log"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 15
        while not os.path.exists(self.sock):
            assert time.monotonic() < deadline, "ovsdb-server did not make its socket"
            time.sleep(0.05)
        self.vsctl("--no-wait", "init")
        self.procs.append(subprocess.Popen(
            ["ovs-vswitchd", f"unix:{self.sock}", f"--unixctl={self.root}/ovs-vswitchd.ctl",
             f"--log-file={self.root}/ovs-vswitchd.log"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.vsctl("show")  # waits for the database; vswitchd reads it when it is up

    def stop(self) -> None:
        """Stop both daemons; ``exit --cleanup`` takes the datapath and its devices
        (``ovs-netdev``, the bridge's tap) with it."""
        vswitchd = self.procs[1] if len(self.procs) > 1 else None
        if vswitchd is not None and vswitchd.poll() is None:
            subprocess.run(["ovs-appctl", "-t", f"{self.root}/ovs-vswitchd.ctl", "exit",
                            "--cleanup"], capture_output=True, timeout=30, env=self.env)
            try:
                vswitchd.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(params=["bridge", "ovs"])
def backend(request, tmp_path):
    _need(os.geteuid() == 0, "plugging VIFs needs root")
    _need(shutil.which("ping") is not None, "ping (iputils-ping) is not installed")
    _need(shutil.which("ip") is not None, "ip (iproute2) is not installed")
    overrides = {"network.vif_type": request.param, "fake_driver.netns_vifs": True}
    ovs = None
    if request.param == "ovs":
        _need(shutil.which("ovs-vswitchd") is not None,
              "Open vSwitch (openvswitch-switch) is not installed")
        ovs = OVS(tmp_path / "ovs")
        os.makedirs(ovs.root)
        ovs.start()
        overrides["os_vif.ovsdb_connection"] = f"unix:{ovs.sock}"
    cloud = start_cloud(tmp_path / "cloud", fake_hosts=1, **overrides)
    try:
        yield request.param, cloud, ovs
    finally:
        stop_cloud(cloud)
        if ovs is not None:
            ovs.stop()
            left = {OVS_BRIDGE, "ovs-netdev"} & _links()
            _cleanup([], sorted(left))
            assert not left, f"Open vSwitch left {left} behind"


def _cleanup(namespaces: list[str], devices: list[str]) -> None:
    """What a failed run left: its namespaces and host devices."""
    for namespace in set(namespaces) & _namespaces():
        _run("ip", "netns", "delete", namespace, check=False)
    for device in set(devices) & _links():
        _run("ip", "link", "delete", device, check=False)


def test_two_servers_ping_each_other(backend):
    kind, cloud, ovs = backend
    compute = demo(cloud)
    ensure_flavor(admin(cloud))
    network = Network(cloud, cloud.demo_token())
    net = network.create("network", name=f"ping-{kind}")
    network.create("subnet", network_id=net["id"], ip_version=4, cidr="10.77.0.0/24")
    bridge = linux_bridge(net["id"]) if kind == "bridge" else OVS_BRIDGE
    servers, namespaces, devices, port_ids = [], [], [], []
    try:
        for name in ("ping-a", "ping-b"):
            resp = compute.post("/servers", {"server": {
                "name": name, "imageRef": IMAGE, "flavorRef": "tiny",
                "networks": [{"uuid": net["id"]}]}})
            assert resp.status_code == 202, resp.text
            servers.append(resp.json()["server"]["id"])
            namespaces.append(netns_name(servers[-1]))
        addresses = []
        for server_id in servers:
            server = wait_for(compute, server_id, "ACTIVE")
            [address] = server["addresses"][net["name"]]
            addresses.append(address["addr"])
            [port] = network.get("/ports", params={"device_id": server_id}).json()["ports"]
            assert port["binding:vif_type"] == kind and port["binding:host_id"]
            devices.append(vif_name(port))
            port_ids.append(port["id"])

        # Each instance is a namespace with the port's MAC and address on eth0.
        for namespace, address in zip(namespaces, addresses, strict=True):
            shown = _run("ip", "netns", "exec", namespace, "ip", "-o", "addr", "show",
                         "eth0").stdout
            assert f"{address}/24" in shown
        # The host ends are on the network's bridge: a Linux bridge, or OVS ports.
        if kind == "bridge":
            enslaved = _run("ip", "-o", "link", "show", "master", bridge).stdout
            assert all(device in enslaved for device in devices), enslaved
        else:
            assert sorted(ovs.vsctl("list-ports", bridge).split()) == sorted(devices)
            # os-vif tags each interface with its Neutron port (iface-id), as agents need.
            iface_ids = ovs.vsctl("--columns=external_ids", "list", "Interface")
            assert all(f'iface-id="{port_id}"' in iface_ids or f"iface-id={port_id}"
                       in iface_ids for port_id in port_ids), iface_ids

        for namespace, other in ((namespaces[0], addresses[1]), (namespaces[1], addresses[0])):
            pinged = _run("ip", "netns", "exec", namespace, "ping", "-c", "3", "-i", "0.2",
                          "-W", "2", other, check=False)
            assert pinged.returncode == 0, pinged.stdout + pinged.stderr
            assert " 0% packet loss" in pinged.stdout

        for server_id in servers:
            assert compute.delete(f"/servers/{server_id}").status_code == 204
        for server_id in servers:
            wait_gone(compute, server_id)
        assert not set(namespaces) & _namespaces()
        left = _links()
        assert not set(devices) & left
        if kind == "bridge":
            assert bridge not in left, "the network's bridge goes with its last port"
        else:
            assert ovs.vsctl("list-ports", bridge).split() == []
        assert network.get("/ports", params={"network_id": net["id"]}).json()["ports"] == []
    finally:
        _cleanup(namespaces, devices + ([bridge] if kind == "bridge" else []))
