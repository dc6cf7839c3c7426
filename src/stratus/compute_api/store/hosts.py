"""Compute services and compute nodes, read from every cell at once (cell0 has none).

Before 2.53 services and hypervisors are named by their integer row id, which is only
unique within one cell; like Nova, a lookup by id takes the first cell (in cell order)
that has a row with that id.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from stratus.cells.mappings import CellDatabases, CellMapping, is_cell_failure
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import COMPUTE_BINARY, compute_nodes, instances, services


@dataclass(frozen=True)
class CellRow:
    cell: CellMapping
    row: dict


def _cells(cells: CellDatabases) -> list[CellMapping]:
    return cells.cells(include_cell0=False)


def _gather(cells: CellDatabases, query: sa.Select) -> list[CellRow]:
    def run(cell: CellMapping, engine: sa.Engine) -> list[dict]:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    out = []
    targets = _cells(cells)
    results = cells.scatter_gather(targets, run)
    for cell in targets:
        result = results[cell.uuid]
        if not is_cell_failure(result):
            out.extend(CellRow(cell, row) for row in result)
    return out


def is_up(service: dict, down_time_s: float) -> bool:
    """Up unless forced down or its last heartbeat is older than ``down_time_s`` seconds
    (``[DEFAULT] service_down_time``); a service that never reported counts from creation."""
    if service.get("forced_down"):
        return False
    seen = service.get("last_seen_up") or service.get("updated_at") or service.get("created_at")
    return seen is not None and (utcnow() - seen).total_seconds() <= down_time_s


def compute_service_is_up(cells: CellDatabases, cell: CellMapping, host: str,
                          down_time_s: float) -> bool:
    """Whether the compute service of ``host`` (in ``cell``) is up: known and seen lately."""
    with cells.engine(cell).connect() as conn:
        row = conn.execute(sa.select(services)
                           .where(services.c.host == host, services.c.binary == COMPUTE_BINARY,
                                  services.c.deleted == 0)
                           .order_by(services.c.id.desc())).mappings().first()
    return row is not None and is_up(dict(row), down_time_s)


def host_statuses(cells: CellDatabases, hosts: set[str], down_time_s: float
                  ) -> dict[str, str]:
    """Nova's host_status of each compute host: UP, DOWN (no heartbeat lately or forced
    down), MAINTENANCE (disabled); hosts with no compute service are left out (UNKNOWN)."""
    if not hosts:
        return {}
    query = sa.select(services).where(services.c.deleted == 0,
                                      services.c.binary == COMPUTE_BINARY,
                                      services.c.host.in_(sorted(hosts)))
    statuses = {}
    for found in _gather(cells, query):
        row = found.row
        if not is_up(row, down_time_s):
            statuses[row["host"]] = "DOWN"
        else:
            statuses[row["host"]] = "MAINTENANCE" if row["disabled"] else "UP"
    return statuses


def list_services(cells: CellDatabases, *, host: str | None = None,
                  binary: str | None = None, down_time_s: float | None = None
                  ) -> list[CellRow]:
    """Live services of every cell; with ``down_time_s`` each row gets ``up`` (is_up)."""
    query = sa.select(services).where(services.c.deleted == 0)
    if host is not None:
        query = query.where(services.c.host == host)
    if binary is not None:
        query = query.where(services.c.binary == binary)
    found = _gather(cells, query.order_by(services.c.id))
    if down_time_s is not None:
        for item in found:
            item.row["up"] = is_up(item.row, down_time_s)
    return found


def update_service(cells: CellDatabases, found: CellRow, values: dict) -> dict:
    with cells.engine(found.cell).begin() as conn:
        conn.execute(sa.update(services).where(services.c.id == found.row["id"])
                     .values(**values, updated_at=utcnow()))
        return dict(conn.execute(sa.select(services)
                                 .where(services.c.id == found.row["id"])).mappings().one())


def delete_service(cells: CellDatabases, found: CellRow) -> None:
    """Soft-delete the service and, for a compute service, its compute nodes."""
    now = utcnow()
    with cells.engine(found.cell).begin() as conn:
        conn.execute(sa.update(services).where(services.c.id == found.row["id"])
                     .values(deleted=services.c.id, deleted_at=now))
        if found.row["binary"] == COMPUTE_BINARY:
            conn.execute(sa.update(compute_nodes)
                         .where(compute_nodes.c.host == found.row["host"],
                                compute_nodes.c.deleted == 0)
                         .values(deleted=compute_nodes.c.id, deleted_at=now))


def count_instances_on_host(cells: CellDatabases, found: CellRow) -> int:
    with cells.engine(found.cell).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(instances)
                            .where(instances.c.host == found.row["host"],
                                   instances.c.deleted == 0)).scalar_one()


def list_nodes(cells: CellDatabases, down_time_s: float) -> list[CellRow]:
    """Live compute nodes of every cell, each with its service row (with ``up``) as
    ``service``."""
    nodes = _gather(cells, sa.select(compute_nodes).where(compute_nodes.c.deleted == 0)
                    .order_by(compute_nodes.c.id))
    by_cell_host = {(s.cell.uuid, s.row["host"]): s.row
                    for s in list_services(cells, binary=COMPUTE_BINARY,
                                           down_time_s=down_time_s)}
    return [CellRow(n.cell, {**n.row, "service": by_cell_host.get((n.cell.uuid, n.row["host"]))})
            for n in nodes]


def servers_on_node(cells: CellDatabases, node: CellRow) -> list[dict]:
    with cells.engine(node.cell).connect() as conn:
        rows = conn.execute(sa.select(instances.c.uuid, instances.c.display_name)
                            .where(instances.c.host == node.row["host"],
                                   instances.c.node == node.row["hypervisor_hostname"],
                                   instances.c.deleted == 0).order_by(instances.c.id))
        return [{"uuid": uuid, "name": name} for uuid, name in rows]
