"""Acceptance: `openstack server create --nic auto --wait` as a user with no network types
it, against a real all-in-one process whose network API is a fake Neutron (so the test
knows the ports): the project's network is auto-allocated on the compute host, the server
shows its address, and `server delete --wait` leaves no port behind."""

from __future__ import annotations

import os

import pytest
import yaml
from harness import free_port
from test_all_in_one_cli import AllInOneProcess, osc

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def aio(tmp_path_factory, neutron):
    state_dir = tmp_path_factory.mktemp("aio-networks")
    with open(os.path.join(state_dir, "stratus.conf"), "w") as conf:
        conf.write(f"[neutron]\nendpoint_override = {neutron.url}\n")
    proc = AllInOneProcess(state_dir, free_port())
    proc.start()
    yield proc
    proc.stop()


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_server_create_nic_auto_wait_gets_an_auto_allocated_network(aio, neutron):
    ok(osc(aio, "stratus", "flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1",
           "net.tiny"))
    created = yaml.safe_load(ok(osc(aio, "stratus-demo", "server", "create", "--image",
                                    "stratus-tiny", "--flavor", "net.tiny", "--nic", "auto",
                                    "auto-net", "--wait", "-f", "yaml")))
    assert created["status"] == "ACTIVE"
    [port] = neutron.ports_of(created["id"])
    address = port["fixed_ips"][0]["ip_address"]
    assert neutron.networks[port["network_id"]]["name"] == "auto_allocated_network"
    shown = yaml.safe_load(ok(osc(aio, "stratus-demo", "server", "show", "auto-net",
                                  "-f", "yaml")))
    assert address in str(shown["addresses"])
    assert "auto_allocated_network" in str(shown["addresses"])
    ok(osc(aio, "stratus-demo", "server", "delete", "auto-net", "--wait"))
    assert neutron.ports_of(created["id"]) == [] and port["id"] not in neutron.ports
