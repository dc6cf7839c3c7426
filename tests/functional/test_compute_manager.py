"""ComputeManager over real in-process RPC with a real cell database and the fake driver."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from agenthelpers import IMAGE, context

from stratus.cells.schema_cell import instance_actions, instance_actions_events, instance_faults
from stratus.compute.instance_store import InstanceGone
from stratus.compute_api.store import instance_actions as action_store
from stratus.compute_api.store import instances as instance_rows
from stratus.virt import power_state


@pytest.fixture
def agents(cell_env, access):
    running = cell_env.agents(access, maps_hosts=True, placement=cell_env.placement)
    running.start([cell_env.host])
    yield running
    running.stop()


def compute(cell_env):
    return cell_env.rpc.client("compute", server=cell_env.host, timeout=10)


def build(cell_env, uuid, alternates=None, ctx=None):
    compute(cell_env).cast(ctx or context(), "build_and_run_instance", instance_uuid=uuid,
                           request_spec={"image": {"id": IMAGE}},
                           selection={"service_host": cell_env.host,
                                      "nodename": cell_env.host},
                           alternates=alternates or [])


def events(cell_env, uuid) -> list[tuple[str, str, str | None]]:
    """(action, event, result) of every event recorded for the instance, oldest first."""
    with cell_env.cell.connect() as conn:
        rows = conn.execute(
            sa.select(instance_actions.c.action, instance_actions_events.c.event,
                      instance_actions_events.c.result)
            .join(instance_actions_events,
                  instance_actions_events.c.action_id == instance_actions.c.id)
            .where(instance_actions.c.instance_uuid == uuid)
            .order_by(instance_actions_events.c.id)).all()
    return [tuple(row) for row in rows]


def faults(cell_env, uuid) -> list[dict]:
    with cell_env.cell.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(instance_faults).where(
            instance_faults.c.instance_uuid == uuid)).mappings()]


def claim(cell_env, agents, uuid) -> None:
    """Allocate the instance on the agent's node, as the scheduler does before the build."""
    node = agents.agents[cell_env.host].node_uuid
    assert cell_env.placement.claim(uuid, {node: {"resources": {
        "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}}, "p1", "u1")


def usages(cell_env, agents) -> dict:
    return cell_env.placement.provider_usages(agents.agents[cell_env.host].node_uuid)


def wait_done(cell_env, uuid, count: int) -> dict:
    """Wait until ``count`` events are finished (the last thing an operation writes), then
    read the row: ``wait_for`` reads it before the predicate looks at the events, so the
    row it returns may predate the operation's last update."""
    cell_env.wait_for(uuid, lambda r: len(events(cell_env, uuid)) == count
                      and events(cell_env, uuid)[-1][2] is not None)
    return cell_env.instance(uuid)


def active(row):
    return row["vm_state"] == "active" and row["task_state"] is None


def test_build_sets_host_node_launched_at_and_records_the_event(cell_env, agents):
    uuid = cell_env.add_instance()
    build(cell_env, uuid)
    row = wait_done(cell_env, uuid, 1)
    assert active(row)
    assert (row["host"], row["node"], row["power_state"]) == \
        (cell_env.host, cell_env.host, power_state.RUNNING)
    assert row["launched_at"] is not None
    assert agents.agents[cell_env.host].driver.list_instances() == [uuid]
    assert events(cell_env, uuid) == [("create", "compute_build_and_run_instance", "Success")]


@pytest.mark.parametrize("method,vm_state,power", [
    ("stop_instance", "stopped", power_state.SHUTDOWN),
    ("pause_instance", "paused", power_state.PAUSED),
    ("suspend_instance", "suspended", power_state.SUSPENDED),
])
def test_power_actions_and_their_inverse_change_vm_and_power_state(cell_env, agents, method,
                                                                   vm_state, power):
    uuid = cell_env.add_instance()
    build(cell_env, uuid)
    cell_env.wait_for(uuid, active)
    # The API records the action before it casts; the manager adds its event to it.
    ctx = context()
    with cell_env.cell.begin() as conn:
        action_store.record(conn, uuid, method.split("_")[0], ctx)
    compute(cell_env).cast(ctx, method, instance_uuid=uuid)
    row = wait_done(cell_env, uuid, 2)
    assert (row["vm_state"], row["task_state"], row["power_state"]) == (vm_state, None, power)
    inverse = {"stop_instance": "start_instance", "pause_instance": "unpause_instance",
               "suspend_instance": "resume_instance"}[method]
    compute(cell_env).cast(context(), inverse, instance_uuid=uuid)
    row = wait_done(cell_env, uuid, 3)
    assert active(row)
    assert row["power_state"] == power_state.RUNNING
    recorded = events(cell_env, uuid)
    assert recorded[1] == (method.split("_")[0], f"compute_{method}", "Success")
    assert recorded[2] == (inverse.split("_")[0], f"compute_{inverse}", "Success")


def test_reboot_hard_and_soft_keep_it_active_and_show_in_the_console_log(cell_env, agents):
    uuid = cell_env.add_instance()
    build(cell_env, uuid)
    cell_env.wait_for(uuid, active)
    for kind in ("SOFT", "HARD"):
        compute(cell_env).cast(context(), "reboot_instance", instance_uuid=uuid,
                               reboot_type=kind)
    assert active(wait_done(cell_env, uuid, 3))
    log = compute(cell_env).call(context(), "get_console_output", instance_uuid=uuid)
    assert "Reboot (soft)" in log and "Reboot (hard)" in log and f"image {IMAGE}" in log
    last = compute(cell_env).call(context(), "get_console_output", instance_uuid=uuid,
                                  length=1)
    assert last.count("\n") == 1 and "Reboot (hard)" in last


def test_a_refused_power_action_records_a_fault_and_clears_the_task(cell_env, agents):
    uuid = cell_env.add_instance()
    build(cell_env, uuid)
    cell_env.wait_for(uuid, active)
    compute(cell_env).cast(context(), "unpause_instance", instance_uuid=uuid)
    row = wait_done(cell_env, uuid, 2)
    assert (row["vm_state"], row["task_state"], row["power_state"]) == \
        ("active", None, power_state.RUNNING)
    assert events(cell_env, uuid)[1] == ("unpause", "compute_unpause_instance", "Error")
    assert "Cannot unpause" in faults(cell_env, uuid)[0]["message"]


def test_driver_failure_without_alternates_ends_in_error_with_a_fault(cell_env, agents):
    agents.agents[cell_env.host].driver.fail_next_spawns(1, "No space left on device")
    uuid = cell_env.add_instance()
    claim(cell_env, agents, uuid)
    build(cell_env, uuid)
    row = wait_done(cell_env, uuid, 1)
    assert row["vm_state"] == "error"
    assert row["task_state"] is None and row["power_state"] == power_state.NOSTATE
    assert [f["message"] for f in faults(cell_env, uuid)] == ["No space left on device"]
    assert "VirtError" in faults(cell_env, uuid)[0]["details"]
    assert events(cell_env, uuid) == [("create", "compute_build_and_run_instance", "Error")]
    assert agents.agents[cell_env.host].driver.list_instances() == []
    assert cell_env.placement.get_allocations(uuid)["allocations"] == {}


class ConductorStandIn:
    """Takes the place of the conductor service (not under test here) on topic conductor."""

    def __init__(self):
        self.calls: list[dict] = []
        self.arrived = threading.Event()

    def reschedule_instance(self, context, **kwargs):
        self.calls.append(kwargs)
        self.arrived.set()


def test_driver_failure_with_alternates_asks_the_conductor_to_reschedule(cell_env, agents):
    conductor = ConductorStandIn()
    cell_env.rpc.server("conductor", [conductor], server="conductor-1").start()
    agents.agents[cell_env.host].driver.fail_next_spawns(1, "hypervisor gone")
    uuid = cell_env.add_instance()
    claim(cell_env, agents, uuid)
    alternate = {"service_host": cell_env.host + "-b", "nodename": cell_env.host + "-b"}
    build(cell_env, uuid, alternates=[alternate])
    assert conductor.arrived.wait(10)
    call = conductor.calls[0]
    assert call["instance_uuid"] == uuid and call["alternates"] == [alternate]
    assert call["fault"]["message"] == "hypervisor gone"
    row = cell_env.instance(uuid)
    assert (row["vm_state"], row["task_state"], row["host"]) == ("building", "scheduling",
                                                                 None)
    assert faults(cell_env, uuid) == []
    # The failed host gave its claim back before handing over to the conductor.
    assert cell_env.placement.get_allocations(uuid)["allocations"] == {}


def test_an_instance_deleted_before_its_build_is_not_built(cell_env, agents):
    uuid = cell_env.add_instance()
    claim(cell_env, agents, uuid)
    with cell_env.cell.begin() as conn:
        instance_rows.soft_delete(conn, uuid)
    build(cell_env, uuid)
    wait_done(cell_env, uuid, 1)
    assert agents.agents[cell_env.host].driver.list_instances() == []
    assert cell_env.placement.get_allocations(uuid)["allocations"] == {}


def test_terminate_destroys_marks_deleted_and_removes_the_allocation(cell_env, agents):
    uuid = cell_env.add_instance()
    claim(cell_env, agents, uuid)
    build(cell_env, uuid)
    cell_env.wait_for(uuid, active)
    assert usages(cell_env, agents) == {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
    compute(cell_env).cast(context(), "terminate_instance", instance_uuid=uuid)
    row = wait_done(cell_env, uuid, 2)
    assert row["vm_state"] == "deleted" and row["terminated_at"] is not None
    assert agents.agents[cell_env.host].driver.list_instances() == []
    assert events(cell_env, uuid)[-1] == ("delete", "compute_terminate_instance", "Success")
    assert usages(cell_env, agents) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert cell_env.placement.get_allocations(uuid)["allocations"] == {}


def test_console_output_of_an_unknown_instance_is_an_error(cell_env, agents):
    with pytest.raises(InstanceGone):  # allow-listed here, as on a compute host
        compute(cell_env).call(context(), "get_console_output",
                               instance_uuid="00000000-0000-0000-0000-000000000000")


def test_a_restarted_host_settles_instances_it_left_mid_operation(cell_env, agents, access):
    agents.stop()
    building = cell_env.add_instance(host=cell_env.host, task_state="spawning")
    stopping = cell_env.add_instance(host=cell_env.host, vm_state="active",
                                     task_state="powering-off", power_state=1)
    deleting = cell_env.add_instance(host=cell_env.host, vm_state="active",
                                     task_state="deleting")
    elsewhere = cell_env.add_instance(host="another-host", task_state="spawning")
    claim(cell_env, agents, deleting)
    restarted = cell_env.agents(access, placement=cell_env.placement)
    try:
        restarted.start([cell_env.host])
        row = cell_env.instance(building)
        assert (row["vm_state"], row["task_state"]) == ("error", None)
        assert "interrupted" in faults(cell_env, building)[0]["message"]
        row = cell_env.instance(stopping)
        assert (row["vm_state"], row["task_state"]) == ("active", None)
        assert cell_env.instance(deleting)["deleted"] != 0
        assert cell_env.placement.get_allocations(deleting)["allocations"] == {}
        assert cell_env.instance(elsewhere)["task_state"] == "spawning"
    finally:
        restarted.stop()


def test_host_uptime_is_answered_over_rpc(cell_env, agents):
    assert " up " in compute(cell_env).call(context(), "get_host_uptime")
