"""Instances listed across cells: one keyset query per cell, merged by the sort keys.

Every cell answers ``limit`` rows after the marker in the requested order (the marker is an
instance uuid, resolved to its sort key values in its own cell); ``heapq.merge`` interleaves
the cells' rows and the first ``limit`` are the page. ``uuid`` is always the last sort key, so
the order is total and a row is on exactly one page. NULL sorts lowest (first ascending, last
descending) and strings compare by code point in every backend (binary collation), which is
also how Python compares them, so the merge and each cell's SQL agree.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from stratus.cells import schema_cell
from stratus.cells.mappings import (
    CellDatabases,
    CellMapping,
    MappingNotFound,
    get_instance_mapping,
    is_cell_failure,
)

LOG = logging.getLogger(__name__)

instances = schema_cell.instances
# Rows asked of each cell at least, however many cells share the page.
MIN_BATCH = 100

ASC, DESC = "asc", "desc"
# Nova's default server order: newest first.
DEFAULT_SORT = (("created_at", DESC),)


class MarkerNotFound(LookupError):
    """The marker is not an instance this listing can see (the API answers 400)."""


@dataclasses.dataclass(frozen=True)
class CellRecord:
    """One listed instance and the cell it lives in."""

    cell: CellMapping
    row: dict[str, Any]  # the instance's selected columns


@dataclasses.dataclass(frozen=True)
class InstanceList:
    """A page of instances and the cells that did not answer (so it may be partial)."""

    records: list[CellRecord]
    down_cells: list[CellMapping]


SortKeys = Sequence[tuple[str, str]]


def normalise_sort(sort_keys: SortKeys | None) -> list[tuple[str, str]]:
    """``sort_keys`` (or the default) with ``uuid`` appended as the final tiebreaker."""
    keys = [(key, direction) for key, direction in (sort_keys or DEFAULT_SORT)]
    for key, direction in keys:
        if key not in instances.c:
            raise ValueError(f"unknown sort key {key!r}")
        if direction not in (ASC, DESC):
            raise ValueError(f"sort direction must be asc or desc, not {direction!r}")
    if not any(key == "uuid" for key, _ in keys):
        keys.append(("uuid", keys[-1][1]))
    return keys


def _sort_expression(column: sa.Column, dialect: str) -> sa.ColumnElement:
    if isinstance(column.type, sa.String):
        # Code-point order everywhere, as Python's str comparison.
        collation = {"postgresql": "C", "mysql": "utf8mb4_bin"}.get(dialect)
        if collation:
            return column.collate(collation)
    return column


def _components(keys: list[tuple[str, str]], dialect: str) -> list[tuple[Any, bool, str, bool]]:
    """(expression, descending, key, is_null_flag) per term of the order, for the keyset
    condition and the merge. A nullable key is two terms: "is not null" (0/1) first, then
    the value, so NULL is the lowest value and a condition never compares with NULL.
    """
    terms = []
    for key, direction in keys:
        column = instances.c[key]
        descending = direction == DESC
        if column.nullable:
            terms.append((sa.case((column.is_(None), 0), else_=1), descending, key, True))
        terms.append((_sort_expression(column, dialect), descending, key, False))
    return terms


def _order_by(keys: list[tuple[str, str]], dialect: str) -> list[sa.ColumnElement]:
    """ORDER BY with NULL lowest. SQLite and MySQL already sort NULL lowest, so the plain
    column (and its index) serves; PostgreSQL is told NULLS FIRST/LAST."""
    clauses = []
    for key, direction in keys:
        column = instances.c[key]
        expression = _sort_expression(column, dialect)
        clause = expression.desc() if direction == DESC else expression.asc()
        if column.nullable and dialect == "postgresql":
            clause = clause.nulls_last() if direction == DESC else clause.nulls_first()
        clauses.append(clause)
    return clauses


def _term_values(keys: list[tuple[str, str]], values: dict[str, Any]) -> list[Any]:
    out = []
    for key, _ in keys:
        if instances.c[key].nullable:
            out.append(0 if values[key] is None else 1)
        out.append(values[key])
    return out


def _after(terms: list, marker_values: list[Any]) -> sa.ColumnElement:
    """Rows strictly after the marker in the order of ``terms`` (keyset condition)."""
    alternatives = []
    for i, (expression, descending, _key, _flag) in enumerate(terms):
        value = marker_values[i]
        if value is None:
            continue  # nothing is "after NULL" within equal flags; the flag term decided it
        equal_before = []
        for j in range(i):
            prefix_expression, prefix_value = terms[j][0], marker_values[j]
            equal_before.append(prefix_expression.is_(None) if prefix_value is None
                                else prefix_expression == prefix_value)
        beyond = expression < value if descending else expression > value
        alternatives.append(sa.and_(*equal_before, beyond))
    return sa.or_(*alternatives) if alternatives else sa.false()


class _Ordered:
    """A row wrapper whose ``<`` follows the sort keys and directions, for heapq.merge."""

    __slots__ = ("values", "descending", "record")

    def __init__(self, values: list[Any], descending: list[bool], record: CellRecord):
        self.values, self.descending, self.record = values, descending, record

    def __lt__(self, other: _Ordered) -> bool:
        for mine, theirs, desc in zip(self.values, other.values, self.descending, strict=True):
            if mine == theirs:  # includes None == None: two NULLs tie, later terms decide
                continue
            return (mine > theirs) if desc else (mine < theirs)
        return False


def _values_of(item: _Ordered) -> list[Any]:
    return item.values


def resolve_marker(cell_dbs: CellDatabases, marker: str,
                   sort_keys: SortKeys | None) -> dict[str, Any]:
    """The sort key values of instance ``marker``, read in the cell its mapping names."""
    keys = normalise_sort(sort_keys)
    with cell_dbs.api_engine.connect() as conn:
        try:
            mapping = get_instance_mapping(conn, marker)
        except MappingNotFound:
            raise MarkerNotFound(marker) from None
    if mapping.cell is None:
        raise MarkerNotFound(marker)
    columns = [instances.c[key] for key, _ in keys]
    with cell_dbs.engine(mapping.cell).connect() as conn:
        row = conn.execute(sa.select(*columns).where(instances.c.uuid == marker)).first()
    if row is None:
        raise MarkerNotFound(marker)
    return dict(row._mapping)


def list_instances(cell_dbs: CellDatabases, *, cells: Iterable[CellMapping] | None = None,
                   where: Sequence[sa.ColumnElement] = (), sort_keys: SortKeys | None = None,
                   limit: int = 1000, marker: str | None = None,
                   marker_values: dict[str, Any] | None = None,
                   columns: Sequence[sa.Column] | None = None,
                   timeout: float | None = None) -> InstanceList:
    """One page of instances across ``cells`` (default: every cell, cell0 included).

    ``where`` holds extra conditions on ``schema_cell.instances`` (project, deleted, status,
    changes-since ...). ``marker`` is the uuid of the last instance of the previous page;
    callers that already know its sort values (e.g. a build request marker) pass
    ``marker_values`` instead. Raises MarkerNotFound for an unknown marker; a cell that fails
    or times out is left out and named in ``down_cells``.
    """
    keys = normalise_sort(sort_keys)
    if marker is not None and marker_values is None:
        marker_values = resolve_marker(cell_dbs, marker, keys)
    cells = cell_dbs.cells() if cells is None else list(cells)
    selected = list(columns) if columns is not None else list(instances.c)
    for key, _ in keys:
        if all(column.name != key for column in selected):
            selected.append(instances.c[key])

    # Nova's "distributed" batch strategy: ask each cell for its share of the page plus 10%
    # (at least MIN_BATCH); a cell that runs out before the page is full is asked for more.
    batch = min(limit, max(MIN_BATCH, math.ceil(limit / max(len(cells), 1) * 1.1)))

    def query_cell(cell: CellMapping, engine: sa.Engine,
                   after: dict[str, Any] | None) -> list[_Ordered]:
        terms = _components(keys, engine.dialect.name)
        query = sa.select(*selected).where(*where)
        if after is not None:
            query = query.where(_after(terms, _term_values(keys, after)))
        query = query.order_by(*_order_by(keys, engine.dialect.name)).limit(batch)
        descending = [descending for _, descending, _, _ in terms]
        with engine.connect() as conn:
            result = conn.execute(query)
            names = list(result.keys())
            # Plain dicts: zip over the row tuples costs a fraction of RowMapping copies.
            rows = [dict(zip(names, row, strict=True)) for row in result]
        return [_Ordered(_term_values(keys, row), descending, CellRecord(cell, row))
                for row in rows]

    def stream(cell: CellMapping, first: list[_Ordered]) -> Iterator[_Ordered]:
        page = first
        while True:
            yield from page
            if len(page) < batch:
                return
            try:
                page = query_cell(cell, cell_dbs.engine(cell), page[-1].record.row)
            except sa.exc.SQLAlchemyError:
                LOG.exception("Cell %s failed while listing further", cell.label)
                down.append(cell)
                return

    results = cell_dbs.scatter_gather(
        cells, lambda cell, engine: query_cell(cell, engine, marker_values), timeout)
    down = [cell for cell in cells if is_cell_failure(results[cell.uuid])]
    streams = [stream(cell, results[cell.uuid]) for cell in cells if cell not in down]
    directions = {direction == DESC for _, direction in keys}
    if len(directions) == 1:
        # One direction for every term (the default order is): compare the term lists in
        # C instead of calling _Ordered.__lt__ from Python, in the same order.
        merged = heapq.merge(*streams, key=_values_of, reverse=directions.pop())
    else:
        merged = heapq.merge(*streams)
    records = []
    for item in merged:
        records.append(item.record)
        if len(records) == limit:
            break
    return InstanceList(records=records, down_cells=down)


def by_cell(records: Iterable[CellRecord]) -> dict[str, list[CellRecord]]:
    """Records grouped by cell uuid, to fetch per-cell details in one query per cell."""
    grouped: dict[str, list[CellRecord]] = {}
    for record in records:
        grouped.setdefault(record.cell.uuid, []).append(record)
    return grouped

