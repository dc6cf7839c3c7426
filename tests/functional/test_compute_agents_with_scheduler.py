"""Fake compute agents and the real scheduler together: what the agents report is what the
scheduler places on, and a build on the chosen host is reflected in Placement."""

from __future__ import annotations

import time
import uuid as uuidlib

import orjson
import pytest
import sqlalchemy as sa
from scheduler_env import request_spec, start_scheduler, stop_scheduler

from stratus import conf as stratus_conf
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import instances
from stratus.common.context import RequestContext
from stratus.compute.agents import ComputeAgents
from stratus.scheduler.errors import NoValidHost


@pytest.fixture
def cloud(tmp_path):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path), "report_interval": 1,
                                    "fake_driver.vcpus": 4, "fake_driver.memory_mb": 4096,
                                    "fake_driver.cpu_flags": ["avx2"],
                                    "reserved_host_memory_mb": 0})
    env = start_scheduler(conf, cells=1)
    cell = env.cell(1)
    agents = ComputeAgents(conf, env.rpc, env.cell_dbs.engine(cell), placement=env.client,
                           api_engine=env.api, cell_id=cell.id)
    agents.start(["fake-1", "fake-2"])
    yield env, agents
    agents.stop()
    stop_scheduler(env)


def _instance_row(env, agents, spec) -> str:
    uuid = str(uuidlib.uuid4())
    flavor = spec["flavor"]
    with agents.cell_engine.begin() as conn:
        conn.execute(sa.insert(instances).values(
            uuid=uuid, project_id="p1", user_id="u1", vm_state="building",
            task_state="scheduling", power_state=0, flavor=orjson.dumps({"cur": flavor}).decode(),
            vcpus=flavor["vcpus"], memory_mb=flavor["memory_mb"], root_gb=flavor["root_gb"],
            image_ref=spec["image"]["id"], created_at=utcnow()))
    return uuid


def _wait(agents, uuid, predicate) -> dict:
    deadline = time.monotonic() + 10
    while True:
        with agents.cell_engine.connect() as conn:
            row = conn.execute(sa.select(instances).where(instances.c.uuid == uuid)
                               ).mappings().one()
        if predicate(row):
            return row
        assert time.monotonic() < deadline, dict(row)
        time.sleep(0.05)


def test_scheduler_places_on_an_agent_which_builds_and_then_frees_it(cloud):
    env, agents = cloud
    spec = request_spec(vcpus=2, memory_mb=1024, root_gb=10,
                        extra_specs={"trait:HW_CPU_X86_AVX2": "required"})
    uuid = _instance_row(env, agents, spec)
    [[chosen, *alternates]] = env.select(spec, [uuid])
    assert chosen["service_host"] in ("fake-1", "fake-2")
    assert chosen["compute_node_uuid"] == agents.agents[chosen["service_host"]].node_uuid
    ctx = RequestContext(user_id="u1", project_id="p1", request_id=f"req-{uuid}")
    env.rpc.client("compute", server=chosen["service_host"]).cast(
        ctx, "build_and_run_instance", instance_uuid=uuid, request_spec=spec,
        selection=chosen, alternates=alternates)
    row = _wait(agents, uuid, lambda r: r["vm_state"] == "active")
    assert row["host"] == chosen["service_host"]
    node = chosen["compute_node_uuid"]
    assert env.client.provider_usages(node) == {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 10}

    env.rpc.client("compute", server=row["host"]).cast(ctx, "terminate_instance",
                                                       instance_uuid=uuid)
    _wait(agents, uuid, lambda r: r["deleted"] != 0)
    deadline = time.monotonic() + 10
    while env.client.provider_usages(node) != {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_what_no_agent_reports_cannot_be_scheduled(cloud):
    env, agents = cloud
    for spec in (request_spec(vcpus=1, extra_specs={"trait:HW_CPU_X86_AVX2": "forbidden"}),
                 request_spec(vcpus=1, extra_specs={"trait:CUSTOM_NOPE": "required"}),
                 request_spec(memory_mb=8192)):
        with pytest.raises(NoValidHost):
            env.select(spec, [str(uuidlib.uuid4())])
