"""The compute agent's service and compute node rows, heartbeats and host mapping."""

from __future__ import annotations

import argparse
import time

import sqlalchemy as sa

from stratus.cells import commands, mappings
from stratus.cells.schema_cell import COMPUTE_BINARY, compute_nodes, services


def _rows(engine, table, host):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).where(
            table.c.host == host, table.c.deleted == 0)).mappings()]


def _mapped_cell(api, host):
    with api.connect() as conn:
        try:
            return mappings.get_host_mapping(conn, host).cell.id
        except mappings.MappingNotFound:
            return None


def test_agent_writes_its_service_and_compute_node_and_maps_its_host(cell_env, access):
    agents = cell_env.agents(access, maps_hosts=True)
    try:
        agents.start([cell_env.host])
        [service] = _rows(cell_env.cell, services, cell_env.host)
        assert (service["binary"], service["topic"]) == (COMPUTE_BINARY, "compute")
        [node] = _rows(cell_env.cell, compute_nodes, cell_env.host)
        fake = cell_env.conf.fake_driver
        assert (node["hypervisor_hostname"], node["hypervisor_type"], node["vcpus"],
                node["memory_mb"], node["local_gb"], node["service_id"], node["mapped"]) == \
            (cell_env.host, "fake", fake.vcpus, fake.memory_mb, fake.local_gb, service["id"], 1)
        assert node["uuid"] == agents.agents[cell_env.host].node_uuid
        assert _mapped_cell(cell_env.api, cell_env.host) == cell_env.cell_id
    finally:
        agents.stop()


def test_heartbeats_raise_report_count_until_the_agent_stops(cell_env, access):
    agents = cell_env.agents(access)
    try:
        agents.start([cell_env.host, cell_env.host + "-b"])
        deadline = time.monotonic() + 10
        while min(r["report_count"] for h in (cell_env.host, cell_env.host + "-b")
                  for r in _rows(cell_env.cell, services, h)) < 2:
            assert time.monotonic() < deadline, "no heartbeats within 10 s"
            time.sleep(0.1)
        agents.stop_agent(cell_env.host)
        stopped_at = _rows(cell_env.cell, services, cell_env.host)[0]["report_count"]
        before_b = _rows(cell_env.cell, services, cell_env.host + "-b")[0]["report_count"]
        deadline = time.monotonic() + 10
        while _rows(cell_env.cell, services,
                    cell_env.host + "-b")[0]["report_count"] < before_b + 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        # host-b went on beating for two intervals; host-a did not beat once more.
        assert _rows(cell_env.cell, services, cell_env.host)[0]["report_count"] == stopped_at
    finally:
        agents.stop()


def test_restarted_agent_reuses_its_rows(cell_env, access):
    first = cell_env.agents(access)
    node_uuid = first.start([cell_env.host])[0].node_uuid
    first.stop()
    second = cell_env.agents(access)
    try:
        assert second.start([cell_env.host])[0].node_uuid == node_uuid
        assert len(_rows(cell_env.cell, services, cell_env.host)) == 1
        assert len(_rows(cell_env.cell, compute_nodes, cell_env.host)) == 1
    finally:
        second.stop()


def test_an_agent_without_the_api_database_is_found_by_discover_hosts(cell_env, access):
    agents = cell_env.agents(access)
    try:
        agents.start([cell_env.host])
        assert _mapped_cell(cell_env.api, cell_env.host) is None
        tool = commands.Tool(cell_env.conf, cell_env.api)
        try:
            args = argparse.Namespace(verbose=False, cell_uuid=None, by_service=False,
                                      strict=True)
            assert commands.discover_hosts(tool, args) == 0
        finally:
            tool.close()
        assert _mapped_cell(cell_env.api, cell_env.host) == cell_env.cell_id
        assert _rows(cell_env.cell, compute_nodes, cell_env.host)[0]["mapped"] == 1
    finally:
        agents.stop()
