"""The compute agent's own rows in its cell database: its service, its compute nodes, and
their heartbeats; and its host mapping in the API database when it can reach it.

Heartbeats and node updates take a list, so one process running many agents writes each
cell once per interval rather than once per agent.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable

import orjson
import sqlalchemy as sa

from stratus.cells import mappings
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import COMPUTE_BINARY, compute_nodes, services
from stratus.common.db import writer
from stratus.compute_api.store import Duplicate, insert_unique
from stratus.virt.driver import HostResources

COMPUTE_TOPIC = "compute"
SERVICE_VERSION = 1


def register_service(engine: sa.Engine, host: str, binary: str = COMPUTE_BINARY,
                     topic: str = COMPUTE_TOPIC) -> dict:
    """The live service row of (host, binary), created if missing; marks it seen now."""
    now = utcnow()
    for _ in range(2):  # a racing creator wins the unique key; read its row then
        with writer(engine).begin() as conn:  # reads, then writes
            found = conn.execute(sa.select(services).where(
                services.c.host == host, services.c.binary == binary,
                services.c.deleted == 0)).mappings().first()
            if found is not None:
                conn.execute(sa.update(services).where(services.c.id == found["id"]).values(
                    last_seen_up=now, updated_at=now, version=SERVICE_VERSION, topic=topic))
                return {**found, "last_seen_up": now}
            try:
                insert_unique(conn, sa.insert(services).values(
                    uuid=str(uuidlib.uuid4()), host=host, binary=binary, topic=topic,
                    report_count=0, last_seen_up=now, version=SERVICE_VERSION,
                    created_at=now, deleted=0))
            except Duplicate:
                continue
            return dict(conn.execute(sa.select(services).where(
                services.c.host == host, services.c.binary == binary,
                services.c.deleted == 0)).mappings().one())
    raise RuntimeError(f"could not register service {binary} on {host}")


def _node_values(resources: HostResources, ratios: dict[str, float]) -> dict:
    return {
        "hypervisor_type": resources.hypervisor_type,
        "hypervisor_version": resources.hypervisor_version, "host_ip": resources.host_ip,
        "cpu_info": orjson.dumps(resources.cpu_info).decode(), "vcpus": resources.vcpus,
        "memory_mb": resources.memory_mb, "local_gb": resources.local_gb,
        "vcpus_used": resources.vcpus_used, "memory_mb_used": resources.memory_mb_used,
        "local_gb_used": resources.local_gb_used,
        "free_ram_mb": resources.memory_mb - resources.memory_mb_used,
        "free_disk_gb": resources.local_gb - resources.local_gb_used,
        "disk_available_least": resources.local_gb - resources.local_gb_used,
        "current_workload": 0, "running_vms": resources.running_vms,
        "cpu_allocation_ratio": ratios.get("cpu"), "ram_allocation_ratio": ratios.get("ram"),
        "disk_allocation_ratio": ratios.get("disk"),
    }


def register_node(engine: sa.Engine, service: dict, resources: HostResources,
                  ratios: dict[str, float]) -> dict:
    """The live compute node (host, hypervisor_hostname), created or brought up to date.

    Its uuid is the node's resource provider uuid in Placement and never changes.
    """
    host, nodename = service["host"], resources.hypervisor_hostname
    values = _node_values(resources, ratios)
    now = utcnow()
    where = (compute_nodes.c.host == host, compute_nodes.c.hypervisor_hostname == nodename,
             compute_nodes.c.deleted == 0)
    for _ in range(2):
        with writer(engine).begin() as conn:  # reads, then writes
            found = conn.execute(sa.select(compute_nodes).where(*where)).mappings().first()
            if found is not None:
                conn.execute(sa.update(compute_nodes).where(compute_nodes.c.id == found["id"])
                             .values(**values, service_id=service["id"], updated_at=now))
            else:
                try:
                    insert_unique(conn, sa.insert(compute_nodes).values(
                        **values, uuid=str(uuidlib.uuid4()), service_id=service["id"],
                        host=host, hypervisor_hostname=nodename, created_at=now, deleted=0))
                except Duplicate:
                    continue
            return dict(conn.execute(sa.select(compute_nodes).where(*where)).mappings().one())
    raise RuntimeError(f"could not register compute node {nodename} of {host}")


def update_nodes(engine: sa.Engine, updates: Iterable[tuple[int, HostResources,
                                                            dict[str, float]]]) -> None:
    """Write the current size and use of many compute nodes (by id) in one statement."""
    rows = [{"node_id": node_id, **_node_values(resources, ratios)}
            for node_id, resources, ratios in updates]
    if not rows:
        return
    columns = [name for name in rows[0] if name != "node_id"]
    statement = (sa.update(compute_nodes)
                 .where(compute_nodes.c.id == sa.bindparam("node_id"))
                 .values({name: sa.bindparam(name) for name in columns}
                         | {"updated_at": utcnow()}))
    with engine.begin() as conn:
        conn.execute(statement, rows)


def heartbeat(engine: sa.Engine, service_ids: Iterable[int]) -> None:
    """One heartbeat for each service: report_count + 1 and last_seen_up now."""
    ids = list(service_ids)
    if not ids:
        return
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(sa.update(services).where(services.c.id.in_(ids)).values(
            report_count=services.c.report_count + 1, last_seen_up=now, updated_at=now))


def map_host(api_engine: sa.Engine, cell_engine: sa.Engine, host: str, cell_id: int) -> bool:
    """Map ``host`` to its cell as ``cell_v2 discover_hosts`` would, and flag its compute
    nodes mapped; False (and nothing changed) if it is mapped to another cell."""
    try:
        mappings.create_host_mapping(api_engine, host, cell_id)
    except mappings.HostMappingExists:
        with api_engine.connect() as conn:
            if mappings.get_host_mapping(conn, host).cell.id != cell_id:
                return False
    with cell_engine.begin() as conn:
        conn.execute(sa.update(compute_nodes).where(compute_nodes.c.host == host,
                                                    compute_nodes.c.deleted == 0,
                                                    compute_nodes.c.mapped == 0)
                     .values(mapped=1))
    return True


class ServiceStore:
    """The functions above bound to one cell database, the shape the agents use; the cell
    conductor's ``RemoteServiceStore`` has the same methods over RPC.

    With ``api_engine`` and ``cell_id`` (the process can reach the API database) a host
    maps itself; otherwise :meth:`map_host` answers None and ``discover_hosts`` maps it.
    """

    def __init__(self, engine: sa.Engine, api_engine: sa.Engine | None = None,
                 cell_id: int | None = None):
        self.engine = engine
        self.api_engine = api_engine
        self.cell_id = cell_id

    def register_service(self, host: str) -> dict:
        return register_service(self.engine, host)

    def register_node(self, service: dict, resources: HostResources,
                      ratios: dict[str, float]) -> dict:
        return register_node(self.engine, service, resources, ratios)

    def update_nodes(self, updates: list[tuple[int, HostResources, dict[str, float]]]) -> None:
        update_nodes(self.engine, updates)

    def heartbeat(self, service_ids: list[int]) -> None:
        heartbeat(self.engine, service_ids)

    def map_host(self, host: str) -> bool | None:
        """True once mapped here, False if mapped to another cell, None if this process
        cannot map hosts."""
        if self.api_engine is None or self.cell_id is None:
            return None
        return map_host(self.api_engine, self.engine, host, self.cell_id)
