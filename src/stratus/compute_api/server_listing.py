"""GET /servers[/detail]: build requests and instances of every cell, in one sorted page.

Build requests are few and short-lived, so they are filtered and sorted in Python; cell
instances come from the cells layer's merge-sorted keyset listing with the same filters
as SQL. Both streams are merged with the same ordering rule (``cells.listing``), so a
marker may be a build request or an instance and every server is on exactly one page.
"""

from __future__ import annotations

import datetime
import heapq
import re
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa

from stratus.cells import listing
from stratus.cells.mappings import CellDatabases, CellMapping, cell_ids_with_instances
from stratus.cells.schema_cell import instance_info_caches, instances, tags
from stratus.compute_api import server_states
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import build_requests as build_store
from stratus.compute_api.store import instances as instance_store
from stratus.compute_api.views.addresses import fixed_ips


class BadFilter(ValueError):
    """A filter value the API answers 400 to."""


@dataclass
class Filters:
    """The server list filters, already parsed; None means "not filtered"."""

    project_id: str | None = None
    name: str | None = None
    statuses: list[tuple[str, str | None]] | None = None
    changes_since: datetime.datetime | None = None
    image: str | None = None
    flavor_type_id: int | None = None
    reservation_id: str | None = None
    tags_all: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    ip: str | None = None  # regular expressions matched (re.match) against IPv4 addresses
    ip6: str | None = None  # ... and IPv6 addresses of the info cache
    nothing: bool = False  # a filter that matches no server at all (unknown flavor ...)


@dataclass(frozen=True)
class Page:
    servers: list[dict]
    down_cells: list[CellMapping]


def _name_pattern(name: str) -> re.Pattern:
    try:
        return re.compile(name)
    except re.error:
        raise BadFilter(f"Invalid regular expression in name filter: {name}") from None


def _pattern(kind: str, value: str) -> re.Pattern:
    try:
        return re.compile(value)
    except re.error:
        raise BadFilter(f"Invalid regular expression in {kind} filter: {value}") from None


def _sql_conditions(filters: Filters, uuids: set[str] | None = None
                    ) -> list[sa.ColumnElement]:
    where: list[sa.ColumnElement] = []
    if uuids is not None:
        where.append(instances.c.uuid.in_(sorted(uuids)))
    if filters.changes_since is not None:
        where.append(sa.func.coalesce(instances.c.updated_at, instances.c.created_at)
                     >= filters.changes_since)
    else:
        where.append(instances.c.deleted == 0)
    if filters.project_id is not None:
        where.append(instances.c.project_id == filters.project_id)
    if filters.name is not None:
        where.append(instances.c.display_name.regexp_match(filters.name))
    if filters.statuses is not None:
        alternatives = []
        for vm_state, task_state in filters.statuses:
            if task_state is None:
                excluded = server_states.task_states_of(vm_state)
                alternatives.append(sa.and_(
                    instances.c.vm_state == vm_state,
                    sa.or_(instances.c.task_state.is_(None),
                           instances.c.task_state.not_in(excluded)) if excluded else sa.true()))
            else:
                alternatives.append(sa.and_(instances.c.vm_state == vm_state,
                                            instances.c.task_state == task_state))
        where.append(sa.or_(*alternatives) if alternatives else sa.false())
    if filters.image is not None:
        where.append(instances.c.image_ref == filters.image)
    if filters.flavor_type_id is not None:
        where.append(instances.c.instance_type_id == filters.flavor_type_id)
    if filters.reservation_id is not None:
        where.append(instances.c.reservation_id == filters.reservation_id)

    def tagged(tag: str) -> sa.ColumnElement:
        return sa.exists().where(tags.c.resource_id == instances.c.uuid, tags.c.tag == tag)

    where += [tagged(tag) for tag in filters.tags_all]
    if filters.tags_any:
        where.append(sa.or_(*[tagged(tag) for tag in filters.tags_any]))
    if filters.not_tags:
        where.append(sa.not_(sa.and_(*[tagged(tag) for tag in filters.not_tags])))
    where += [sa.not_(tagged(tag)) for tag in filters.not_tags_any]
    return where


def _matches(server: dict, filters: Filters) -> bool:
    """The same filters as ``_sql_conditions``, for a build request's instance."""
    checks = [
        filters.project_id is None or server["project_id"] == filters.project_id,
        filters.name is None or
        _name_pattern(filters.name).search(server["display_name"] or "") is not None,
        filters.statuses is None or
        any(server["vm_state"] == vm and (task is None or server["task_state"] == task)
            for vm, task in filters.statuses),
        filters.changes_since is None or
        (server["updated_at"] or server["created_at"]) >= filters.changes_since,
        filters.image is None or server["image_ref"] == filters.image,
        filters.flavor_type_id is None or server["instance_type_id"] == filters.flavor_type_id,
        filters.reservation_id is None or server["reservation_id"] == filters.reservation_id,
        # Tags cannot be set on a build request (409), so it has none; nor addresses.
        not filters.tags_all and not filters.tags_any,
        filters.ip is None and filters.ip6 is None,
    ]
    return all(checks)


def list_servers(cells: CellDatabases, filters: Filters, sort_keys: list[tuple[str, str]],
                 limit: int, marker: str | None) -> Page:
    """One page of servers; raises listing.MarkerNotFound for an unknown marker."""
    if filters.name is not None:
        _name_pattern(filters.name)
    if filters.nothing or limit == 0:
        return Page([], [])
    with_address = None
    if filters.ip is not None or filters.ip6 is not None:
        with_address = _matching_addresses(cells, filters)
    keys = listing.normalise_sort(sort_keys)
    with cells.api_engine.connect() as conn:
        pending = [s for s in build_store.list_instances(conn, filters.project_id)
                   if _matches(s, filters)]
        marker_values = None
        if marker is not None:
            try:
                marker_build = build_store.get(conn, marker)
                marker_values = {key: marker_build.get(key) for key, _ in keys}
            except NoSuchRow:
                marker_values = listing.resolve_marker(cells, marker, keys)
    descending = [d for *_rest, d in _terms(keys)]
    ordered = sorted(
        listing._Ordered(listing._term_values(keys, _sort_values(s)), descending, s)
         for s in pending)
    if marker_values is not None:
        mark = listing._Ordered(listing._term_values(keys, marker_values), descending, None)
        ordered = [item for item in ordered if mark < item]
    in_cells = listing.list_instances(
        cells, cells=_cells_to_ask(cells, filters),
        where=_sql_conditions(filters, with_address),
        sort_keys=keys, limit=limit, marker_values=marker_values)
    # The conductor writes the cell instance just before it drops the build request:
    # for that moment a server is in both, and is shown once, as its build request.
    building = {server["uuid"] for server in pending}
    records = [r for r in in_cells.records if r.row["uuid"] not in building]
    if not ordered:  # no build request on this page: the cells' merged page is the page
        return Page(_with_details(cells, records[:limit]), in_cells.down_cells)
    cell_items = [listing._Ordered(listing._term_values(keys, r.row), descending, r)
                  for r in records]
    page = []
    for item in heapq.merge(ordered, cell_items):
        page.append(item.record)
        if len(page) == limit:
            break
    return Page(_with_details(cells, page), in_cells.down_cells)


def _matching_addresses(cells: CellDatabases, filters: Filters) -> set[str]:
    """Uuids of the filtered project's instances with an address the ``ip``/``ip6``
    patterns match from its start (Nova's re.match over the info cache), every cell."""
    patterns = {4: _pattern("ip", filters.ip) if filters.ip is not None else None,
                6: _pattern("ip6", filters.ip6) if filters.ip6 is not None else None}
    query = (sa.select(instance_info_caches.c.instance_uuid,
                       instance_info_caches.c.network_info)
             .join(instances, instances.c.uuid == instance_info_caches.c.instance_uuid)
             .where(instance_info_caches.c.deleted == 0))
    if filters.project_id is not None:
        query = query.where(instances.c.project_id == filters.project_id)

    def matching(cell, engine: sa.Engine) -> set[str]:
        found = set()
        with engine.connect() as conn:
            for uuid, info in conn.execute(query):
                for _net, version, address, _port in fixed_ips(orjson.loads(info or "[]")):
                    pattern = patterns.get(version)
                    if pattern is not None and pattern.match(address):
                        found.add(uuid)
                        break
        return found

    uuids: set[str] = set()
    for found in cells.scatter_gather(_cells_to_ask(cells, filters), matching).values():
        if isinstance(found, set):
            uuids |= found
    return uuids


def _sort_values(server: dict) -> dict:
    return {name: server.get(name) for name in instances.c.keys()}


def _terms(keys: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    """(key, descending) per ordering term, nullable keys counting twice (as listing)."""
    terms = []
    for key, direction in keys:
        if instances.c[key].nullable:
            terms.append((key, direction == listing.DESC))
        terms.append((key, direction == listing.DESC))
    return terms


def _cells_to_ask(cells: CellDatabases, filters: Filters) -> list[CellMapping]:
    """Only cells that hold instances of the project (every cell for all-tenants lists)."""
    everything = cells.cells()
    if filters.project_id is None:
        return everything
    with cells.api_engine.connect() as conn:
        wanted = cell_ids_with_instances(conn, filters.project_id)
    return [cell for cell in everything if cell.id in wanted]


def _with_details(cells: CellDatabases, page: list) -> list[dict]:
    """Build requests as they are; cell rows with metadata, tags and flavor (per cell)."""
    details: dict[str, dict] = {}
    for records in listing.by_cell(
            [r for r in page if isinstance(r, listing.CellRecord)]).values():
        with cells.engine(records[0].cell).connect() as conn:
            for server in instance_store.with_details(conn, [r.row for r in records]):
                details[server["uuid"]] = server
    return [details[r.row["uuid"]] if isinstance(r, listing.CellRecord) else r for r in page]
