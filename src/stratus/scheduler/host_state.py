"""What the scheduler knows about each candidate host, gathered for one request.

Capacity and usage come from Placement's provider summaries; the service, hypervisor and
failed builds from the compute node's cell (every cell at once); aggregates and their
metadata from the API database. The compute node uuid is the provider uuid.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import os_traits
import sqlalchemy as sa

from stratus.cells import mappings
from stratus.cells.mappings import CellDatabases, CellMapping, is_cell_failure
from stratus.cells.schema_api import aggregate_hosts, aggregate_metadata, aggregates, utcnow
from stratus.cells.schema_cell import (
    COMPUTE_BINARY,
    compute_nodes,
    instance_actions_events,
    instances,
    services,
)
from stratus.compute_api.store.hosts import is_up
from stratus.scheduler.errors import NoValidHost

LOG = logging.getLogger(__name__)

# A build that failed on a host is what the compute agent records as this event's result.
BUILD_EVENT = "compute_build_and_run_instance"
BUILD_FAILURE_WINDOW = datetime.timedelta(hours=24)


@dataclass
class Aggregate:
    uuid: str
    name: str
    metadata: dict[str, str]


@dataclass
class HostState:
    """One compute node as a candidate for one request."""

    uuid: str
    host: str
    nodename: str
    cell: CellMapping
    hypervisor_type: str
    cpu_arch: str | None
    service_up: bool
    service_disabled: bool
    capacity: dict[str, int] = field(default_factory=dict)  # usable: (total-reserved)*ratio
    used: dict[str, int] = field(default_factory=dict)
    aggregates: list[Aggregate] = field(default_factory=list)
    failed_builds: int = 0
    # Placement's allocation requests for this host, in the order Placement gave them.
    allocation_requests: list[dict] = field(default_factory=list)

    def free(self, resource_class: str) -> int:
        return self.capacity.get(resource_class, 0) - self.used.get(resource_class, 0)

    @property
    def availability_zones(self) -> set[str]:
        return {a.metadata["availability_zone"] for a in self.aggregates
                if "availability_zone" in a.metadata}

    @property
    def supported_instances(self) -> list[tuple[str | None, str, str]]:
        """(architecture, hypervisor type, vm mode) the host can run."""
        return [(self.cpu_arch, self.hypervisor_type, "hvm")]


def _summaries(body: dict) -> dict[str, dict[str, dict[str, int]]]:
    return {rp: entry.get("resources", {}) for rp, entry in
            body.get("provider_summaries", {}).items()}


def _compute_rows(cells: CellDatabases, uuids: list[str]) -> list[tuple[CellMapping, dict]]:
    """compute_nodes of ``uuids`` joined with their compute service, from every cell."""
    cn, svc = compute_nodes, services
    query = (sa.select(cn.c.uuid, cn.c.host, cn.c.hypervisor_hostname, cn.c.hypervisor_type,
                       cn.c.cpu_info, svc.c.disabled, svc.c.forced_down, svc.c.last_seen_up,
                       svc.c.updated_at, svc.c.created_at, svc.c.id.label("service_id"))
             .select_from(cn.outerjoin(svc, sa.and_(svc.c.host == cn.c.host,
                                                    svc.c.binary == COMPUTE_BINARY,
                                                    svc.c.deleted == 0)))
             .where(cn.c.uuid.in_(uuids), cn.c.deleted == 0))
    events = instance_actions_events
    since = utcnow() - BUILD_FAILURE_WINDOW

    def run(cell: CellMapping, engine: sa.Engine) -> list[dict]:
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            if rows:
                failures = (sa.select(events.c.host, events.c.result)
                            .where(events.c.event == BUILD_EVENT, events.c.created_at >= since,
                                   events.c.host.in_({row["host"] for row in rows}))
                            .order_by(events.c.id))
                counts = _failed_builds(conn.execute(failures).all())
                for row in rows:
                    row["failed_builds"] = counts.get(row["host"], 0)
        return rows

    targets = cells.cells(include_cell0=False)
    results = cells.scatter_gather(targets, run)
    out = []
    for cell in targets:
        result = results[cell.uuid]
        if not is_cell_failure(result):
            out.extend((cell, row) for row in result)
    return out


def _failed_builds(rows: Iterable) -> dict[str, int]:
    """Per host: failed builds since its last successful one (rows in event order)."""
    counts: dict[str, int] = {}
    for host, result in rows:
        if host is None:
            continue
        if (result or "").lower() == "error":
            counts[host] = counts.get(host, 0) + 1
        elif (result or "").lower() == "success":
            counts[host] = 0
    return counts


def host_aggregates(api_engine: sa.Engine, hosts: Iterable[str]) -> dict[str, list[Aggregate]]:
    """Each host's aggregates with their metadata (one query)."""
    hosts = sorted(set(hosts))
    if not hosts:
        return {}
    query = (sa.select(aggregate_hosts.c.host, aggregates.c.id, aggregates.c.uuid,
                       aggregates.c.name, aggregate_metadata.c.key, aggregate_metadata.c.value)
             .select_from(aggregate_hosts.join(aggregates,
                                               aggregates.c.id == aggregate_hosts.c.aggregate_id)
                          .outerjoin(aggregate_metadata,
                                     aggregate_metadata.c.aggregate_id == aggregates.c.id))
             .where(aggregate_hosts.c.host.in_(hosts)))
    found: dict[str, dict[int, Aggregate]] = {}
    with api_engine.connect() as conn:
        for host, agg_id, uuid, name, key, value in conn.execute(query):
            agg = found.setdefault(host, {}).setdefault(agg_id, Aggregate(uuid, name, {}))
            if key is not None:
                agg.metadata[key] = value
    return {host: list(by_id.values()) for host, by_id in found.items()}


def zone_aggregates(api_engine: sa.Engine, zone: str) -> list[str]:
    """Uuids of the aggregates whose availability_zone metadata is ``zone``."""
    query = (sa.select(aggregates.c.uuid)
             .join(aggregate_metadata, aggregate_metadata.c.aggregate_id == aggregates.c.id)
             .where(aggregate_metadata.c.key == "availability_zone",
                    aggregate_metadata.c.value == zone))
    with api_engine.connect() as conn:
        return sorted(conn.execute(query).scalars())


def _arch(cpu_info: str | None) -> str | None:
    try:
        info = json.loads(cpu_info or "{}")
    except ValueError:
        return None
    return info.get("arch") if isinstance(info, dict) else None


def host_states(candidates: dict, api_engine: sa.Engine, cells: CellDatabases,
                service_down_time: float) -> list[HostState]:
    """Host states of the compute nodes Placement offered, in Placement's order.

    A provider with no live compute node row in any cell is left out (logged): it is
    not a host the scheduler can send a server to.
    """
    summaries = _summaries(candidates)
    tree = {rp: entry.get("root_provider_uuid", rp)
            for rp, entry in candidates.get("provider_summaries", {}).items()}
    order: list[str] = []
    requests_by_root: dict[str, list[dict]] = {}
    # Shared providers (IP pools, shared storage) lend to the host; they are not it.
    sharing = {rp for rp, entry in candidates.get("provider_summaries", {}).items()
               if os_traits.MISC_SHARES_VIA_AGGREGATE in entry.get("traits", ())}
    for request in candidates.get("allocation_requests", []):
        roots = {tree.get(rp, rp) for rp in request["allocations"] if rp not in sharing}
        if len(roots) != 1:
            continue  # no compute node, or several: not a single host
        root = roots.pop()
        if root not in requests_by_root:
            order.append(root)
        requests_by_root.setdefault(root, []).append(request)
    if not order:
        return []
    providers_of: dict[str, list[str]] = {}
    for rp in summaries:
        providers_of.setdefault(tree.get(rp, rp), []).append(rp)
    rows = {row["uuid"]: (cell, row) for cell, row in _compute_rows(cells, order)}
    aggs = host_aggregates(api_engine, [row["host"] for _, row in rows.values()])
    states = []
    for root in order:
        if root not in rows:
            LOG.warning("Provider %s has no compute node in any cell; skipped", root)
            continue
        cell, row = rows[root]
        capacity: dict[str, int] = {}
        used: dict[str, int] = {}
        for rp in providers_of.get(root, ()):
            for rc, numbers in summaries[rp].items():
                capacity[rc] = capacity.get(rc, 0) + int(numbers.get("capacity", 0))
                used[rc] = used.get(rc, 0) + int(numbers.get("used", 0))
        service = {"forced_down": row["forced_down"], "last_seen_up": row["last_seen_up"],
                   "updated_at": row["updated_at"], "created_at": row["created_at"]}
        states.append(HostState(
            uuid=root, host=row["host"], nodename=row["hypervisor_hostname"], cell=cell,
            hypervisor_type=row["hypervisor_type"], cpu_arch=_arch(row["cpu_info"]),
            service_up=row["service_id"] is not None and is_up(service, service_down_time),
            service_disabled=bool(row["disabled"]), capacity=capacity, used=used,
            aggregates=aggs.get(row["host"], []), failed_builds=row.get("failed_builds", 0),
            allocation_requests=requests_by_root[root]))
    return states


def group_member_hosts(api_engine: sa.Engine, cells: CellDatabases,
                       instance_uuids: Iterable[str]) -> dict[str, int]:
    """{host: number of the given instances on it}, reading each instance's cell."""
    with api_engine.connect() as conn:
        found = mappings.get_instance_mappings(conn, instance_uuids)
    by_cell: dict[str, list[str]] = {}
    cell_of: dict[str, CellMapping] = {}
    for mapping in found.values():
        if mapping.cell is not None and not mapping.cell.is_cell0:
            by_cell.setdefault(mapping.cell.uuid, []).append(mapping.instance_uuid)
            cell_of[mapping.cell.uuid] = mapping.cell
    if not by_cell:
        return {}

    def run(cell: CellMapping, engine: sa.Engine) -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(
                sa.select(instances.c.host).where(instances.c.uuid.in_(by_cell[cell.uuid]),
                                                  instances.c.deleted == 0,
                                                  instances.c.host.is_not(None))).scalars())

    counts: dict[str, int] = {}
    for result in cells.scatter_gather(list(cell_of.values()), run).values():
        if is_cell_failure(result):
            # Placing a group member without knowing where the others are could break
            # the group's policy: refuse rather than guess.
            raise NoValidHost(f"cell {result.cell.label} did not answer: cannot check "
                              "where the server group's members are")
        for host in result:
            counts[host] = counts.get(host, 0) + 1
    return counts
