"""Compute agents seen through the Compute API: os-services up/down from their heartbeats
(``[DEFAULT] service_down_time``) and os-hypervisors from their compute nodes."""

from __future__ import annotations

import time

import pytest
from compute_helpers import admin
from harness import start_cloud, stop_cloud

from stratus.cells import mappings
from stratus.common.rpc import RPC
from stratus.compute.agents import ComputeAgents

DOWN_TIME = 3


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("cloud"), report_interval=1,
                          service_down_time=DOWN_TIME, update_resources_interval=0)
    yield running
    stop_cloud(running)


@pytest.fixture
def agents(cloud):
    api = cloud.aio.databases.engine("api")
    with api.connect() as conn:
        cell1 = next(c for c in mappings.list_cell_mappings(conn) if c.name == "cell1")
    rpc = RPC(cloud.conf)
    running = ComputeAgents(cloud.conf, rpc, cloud.aio.databases.engine("cell1"),
                            api_engine=api, cell_id=cell1.id)
    running.start(["agent-1", "agent-2"])
    yield running
    running.stop()
    rpc.cleanup()


def _states(compute) -> dict[str, str]:
    resp = compute.get("/os-services?binary=nova-compute")
    assert resp.status_code == 200, resp.text
    return {s["host"]: s["state"] for s in resp.json()["services"]}


def test_a_stopped_agent_is_reported_down_after_service_down_time(cloud, agents):
    compute = admin(cloud, "2.11")
    assert _states(compute) == {"agent-1": "up", "agent-2": "up"}
    agents.stop_agent("agent-1")
    stopped = time.monotonic()
    deadline = stopped + DOWN_TIME + 5
    while _states(compute)["agent-1"] == "up":
        assert time.monotonic() < deadline, "agent-1 still up long after service_down_time"
        time.sleep(0.2)
    # Not before its last heartbeat is service_down_time old (minus one report interval).
    assert time.monotonic() - stopped >= DOWN_TIME - 1
    assert _states(compute)["agent-2"] == "up"

    hypervisors = compute.get("/os-hypervisors/detail").json()["hypervisors"]
    by_name = {h["hypervisor_hostname"]: h for h in hypervisors}
    assert by_name["agent-1"]["state"] == "down" and by_name["agent-2"]["state"] == "up"
    fake = cloud.conf.fake_driver
    assert (by_name["agent-2"]["vcpus"], by_name["agent-2"]["memory_mb"],
            by_name["agent-2"]["local_gb"], by_name["agent-2"]["hypervisor_type"]) == \
        (fake.vcpus, fake.memory_mb, fake.local_gb, "fake")
    zones = compute.get("/os-availability-zone/detail").json()["availabilityZoneInfo"]
    nova = next(z for z in zones if z["zoneName"] == "nova")
    assert nova["hosts"]["agent-1"]["nova-compute"]["available"] is False
    assert nova["hosts"]["agent-2"]["nova-compute"]["available"] is True
