"""Mirror host aggregates (API database) into Placement as provider aggregates.

Placement's ``member_of`` (the scheduler's availability-zone query) sees only what is
mirrored. Like ``nova-manage placement sync_aggregates``, this only adds memberships a
compute node's provider lacks; it never removes one (a provider may be in aggregates
Placement's other users put it in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from stratus.cells.mappings import CellDatabases, CellMapping, is_cell_failure
from stratus.cells.schema_api import aggregate_hosts, aggregates
from stratus.cells.schema_cell import compute_nodes
from stratus.scheduler.report import PlacementClient


@dataclass
class SyncResult:
    """What a sync did and what it could not do."""

    updated: list[str] = field(default_factory=list)  # provider uuids given aggregates
    hosts_without_node: list[str] = field(default_factory=list)
    nodes_without_provider: list[str] = field(default_factory=list)
    unreachable_cells: list[str] = field(default_factory=list)


def _aggregates_by_host(api_engine: sa.Engine) -> dict[str, set[str]]:
    query = (sa.select(aggregate_hosts.c.host, aggregates.c.uuid)
             .join(aggregates, aggregates.c.id == aggregate_hosts.c.aggregate_id))
    found: dict[str, set[str]] = {}
    with api_engine.connect() as conn:
        for host, uuid in conn.execute(query):
            found.setdefault(host, set()).add(uuid)
    return found


def sync_aggregates(api_engine: sa.Engine, cells: CellDatabases,
                    placement: PlacementClient) -> SyncResult:
    """Add each aggregated host's compute node providers to the host's aggregates."""
    result = SyncResult()
    wanted = _aggregates_by_host(api_engine)
    if not wanted:
        return result
    query = sa.select(compute_nodes.c.host, compute_nodes.c.uuid).where(
        compute_nodes.c.host.in_(sorted(wanted)), compute_nodes.c.deleted == 0)

    def run(cell: CellMapping, engine: sa.Engine) -> list[tuple[str, str]]:
        with engine.connect() as conn:
            return [(row.host, row.uuid) for row in conn.execute(query)]

    nodes: list[tuple[str, str]] = []
    for found in cells.scatter_gather(cells.cells(include_cell0=False),
                                       run).values():
        if is_cell_failure(found):
            result.unreachable_cells.append(found.cell.label)
        else:
            nodes.extend(found)
    hosts_seen = {host for host, _ in nodes}
    result.hosts_without_node = sorted(set(wanted) - hosts_seen)
    for host, node_uuid in sorted(nodes):
        if placement.get_provider(node_uuid) is None:
            result.nodes_without_provider.append(f"{host} ({node_uuid})")
            continue
        if not wanted[host] <= placement.get_aggregates(node_uuid):
            placement.add_aggregates(node_uuid, wanted[host])
            result.updated.append(node_uuid)
    return result


def mirror_host_membership(api_engine: sa.Engine, cells: CellDatabases,
                           placement: PlacementClient, host: str, aggregate_uuid: str,
                           *, member: bool) -> list[str]:
    """Put the host's compute node providers in the aggregate (``member``) or take them
    out, as ``add_host``/``remove_host`` change the API database.

    Returns the providers changed; a node without a provider yet is skipped (the resource
    tracker creates it, and ``stratus-manage placement sync_aggregates`` catches it up).
    Raises PlacementError when Placement cannot be reached or refuses.
    """
    from stratus.cells.mappings import MappingNotFound, get_host_mapping

    with api_engine.connect() as conn:
        try:
            cell = get_host_mapping(conn, host).cell
        except MappingNotFound:
            return []
    query = sa.select(compute_nodes.c.uuid).where(compute_nodes.c.host == host,
                                                  compute_nodes.c.deleted == 0)
    with cells.engine(cell).connect() as conn:
        node_uuids = sorted(conn.execute(query).scalars())
    changed = []
    for node_uuid in node_uuids:
        if placement.get_provider(node_uuid) is None:
            continue
        if member:
            placement.add_aggregates(node_uuid, [aggregate_uuid])
        else:
            placement.remove_aggregates(node_uuid, [aggregate_uuid])
        changed.append(node_uuid)
    return changed
