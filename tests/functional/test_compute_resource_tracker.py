"""The resource tracker reports each compute node to a real Placement: inventory with the
configured reserved amounts and allocation ratios, traits, aggregates; it heals drift on
restart and keeps compute_nodes' usage current."""

from __future__ import annotations

import time
import uuid as uuidlib

import sqlalchemy as sa
from agenthelpers import IMAGE, context, load_conf
from harness import free_port
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint
from placement_harness import start_placement, stop_placement

from stratus.cells.schema_cell import compute_nodes
from stratus.compute.agents import ComputeAgents
from stratus.scheduler.report import PlacementClient


def start(cell_env, *hosts) -> ComputeAgents:
    agents = ComputeAgents(cell_env.conf, cell_env.rpc, cell_env.cell,
                           placement=cell_env.placement)
    agents.start(list(hosts or [cell_env.host]))
    return agents


def inventories(cell_env, rp: str) -> dict:
    resp = cell_env.placement_http.get(f"/resource_providers/{rp}/inventories")
    assert resp.status_code == 200, resp.text
    return resp.json()["inventories"]


def traits(cell_env, rp: str) -> set[str]:
    return set(cell_env.placement_http.get(f"/resource_providers/{rp}/traits").json()["traits"])


def test_provider_has_the_nodes_uuid_name_and_configured_inventory(cell_env):
    for name, value in {"reserved_host_cpus": 1, "reserved_host_memory_mb": 1024,
                        "reserved_host_disk_mb": 1500, "cpu_allocation_ratio": 4.0,
                        "ram_allocation_ratio": 1.0, "disk_allocation_ratio": 2.0}.items():
        cell_env.conf.set_override(name, value)
    agents = start(cell_env)
    try:
        rp = agents.agents[cell_env.host].node_uuid
        provider = cell_env.placement_http.get(f"/resource_providers/{rp}").json()
        assert provider["name"] == cell_env.host
        fake = cell_env.conf.fake_driver
        inv = inventories(cell_env, rp)
        assert {rc: (i["total"], i["reserved"], i["allocation_ratio"], i["max_unit"])
                for rc, i in inv.items()} == {
            "VCPU": (fake.vcpus, 1, 4.0, fake.vcpus),
            "MEMORY_MB": (fake.memory_mb, 1024, 1.0, fake.memory_mb),
            "DISK_GB": (fake.local_gb, 2, 2.0, fake.local_gb)}  # 1500 MiB rounds up
    finally:
        agents.stop()


def test_traits_are_capabilities_cpu_flags_and_configured_custom_traits(cell_env):
    cell_env.conf.set_override("provider_traits", ["gold", "CUSTOM_FAST_DISK"], "compute")
    cell_env.conf.set_override("cpu_flags", ["avx2", "sse4.2"], "fake_driver")
    agents = start(cell_env)
    try:
        found = traits(cell_env, agents.agents[cell_env.host].node_uuid)
        assert {"COMPUTE_NODE", "HW_CPU_X86_AVX2", "HW_CPU_X86_SSE42", "CUSTOM_GOLD",
                "CUSTOM_FAST_DISK", "COMPUTE_DEVICE_TAGGING"} <= found
        assert "HW_CPU_X86_AVX" not in found
    finally:
        agents.stop()


def test_restart_heals_inventory_and_traits_changed_behind_its_back(cell_env):
    agents = start(cell_env)
    rp = agents.agents[cell_env.host].node_uuid
    agents.stop()
    http = cell_env.placement_http
    generation = http.get(f"/resource_providers/{rp}").json()["generation"]
    resp = http.put(f"/resource_providers/{rp}/inventories", json={
        "resource_provider_generation": generation,
        "inventories": {"VCPU": {"total": 1}}})
    assert resp.status_code == 200, resp.text
    assert http.put("/traits/CUSTOM_OPERATOR").status_code in (201, 204)
    generation = resp.json()["resource_provider_generation"]
    resp = http.put(f"/resource_providers/{rp}/traits", json={
        "resource_provider_generation": generation,
        "traits": ["CUSTOM_OPERATOR", "HW_CPU_X86_3DNOW"]})
    assert resp.status_code == 200, resp.text

    again = start(cell_env)
    try:
        assert again.agents[cell_env.host].node_uuid == rp
        inv = inventories(cell_env, rp)
        assert set(inv) == {"VCPU", "MEMORY_MB", "DISK_GB"}
        assert inv["VCPU"]["total"] == cell_env.conf.fake_driver.vcpus
        found = traits(cell_env, rp)
        # The host has no 3DNow!: the tracker owns HW_CPU_X86_* and takes it away; the
        # operator's custom trait is not the tracker's to remove.
        assert "HW_CPU_X86_3DNOW" not in found
        assert {"CUSTOM_OPERATOR", "COMPUTE_NODE", "HW_CPU_X86_AVX2"} <= found
    finally:
        again.stop()


def test_configured_aggregates_are_added_to_existing_memberships(cell_env):
    mine, theirs = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    agents = start(cell_env)
    rp = agents.agents[cell_env.host].node_uuid
    agents.stop()
    cell_env.placement.set_aggregates(rp, [theirs])
    cell_env.conf.set_override("provider_aggregates", [mine], "compute")
    again = start(cell_env)
    try:
        # ... and the network fabric's, which IP pool providers share addresses through.
        assert cell_env.placement.get_aggregates(rp) == {
            mine, theirs, cell_env.conf.network.fabric_aggregate}
    finally:
        again.stop()


def test_usage_and_size_changes_reach_compute_nodes_and_placement(cell_env):
    agents = start(cell_env)
    try:
        agent = agents.agents[cell_env.host]
        uuid = cell_env.add_instance()
        cell_env.rpc.client("compute", server=cell_env.host).cast(
            context(), "build_and_run_instance", instance_uuid=uuid,
            request_spec={"image": {"id": IMAGE}}, selection={}, alternates=[])
        deadline = time.monotonic() + 10
        while True:  # the periodic report (every report_interval) writes the new usage
            with cell_env.cell.connect() as conn:
                node = conn.execute(sa.select(compute_nodes).where(
                    compute_nodes.c.uuid == agent.node_uuid)).mappings().one()
            if node["vcpus_used"] == 1:
                break
            assert time.monotonic() < deadline, dict(node)
            time.sleep(0.05)
        assert (node["memory_mb_used"], node["local_gb_used"], node["running_vms"]) == \
            (512, 1, 1)
        # The host grew (a fake driver's size is just an attribute): the next full report
        # pushes the new inventory.
        agent.driver.vcpus = 64
        agents.report_usage(force=True)
        assert inventories(cell_env, agent.node_uuid)["VCPU"]["total"] == 64
        with cell_env.cell.connect() as conn:
            assert conn.execute(sa.select(compute_nodes.c.vcpus).where(
                compute_nodes.c.uuid == agent.node_uuid)).scalar_one() == 64
    finally:
        agents.stop()


def test_a_host_started_while_placement_is_down_is_reported_once_it_answers(cell_env,
                                                                          tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/placement"
    session = ksa_session.Session(auth=token_endpoint.Token(url, "admin"))
    agents = ComputeAgents(cell_env.conf, cell_env.rpc, cell_env.cell,
                           placement=PlacementClient(session, endpoint=url))
    late = None
    try:
        agents.start([cell_env.host])  # starts anyway: service and node rows are written
        rp = agents.agents[cell_env.host].node_uuid
        late = start_placement(load_conf(tmp_path / "late"), port=port)
        agents.report_usage(force=True)  # the next full report writes the provider
        inventory = late.get(f"/resource_providers/{rp}/inventories").json()["inventories"]
        assert inventory["VCPU"]["total"] == cell_env.conf.fake_driver.vcpus
        assert "COMPUTE_NODE" in late.get(f"/resource_providers/{rp}/traits").json()["traits"]
    finally:
        agents.stop()
        if late is not None:
            stop_placement(late)
