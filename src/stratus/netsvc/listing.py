"""Neutron list queries: filters by any attribute (a repeated key is OR), ``fields``,
``sort_key``/``sort_dir`` and ``limit``/``marker``/``page_reverse`` paging with
``<plural>_links``, as ``neutron/api/api_common.py`` and ``neutron_lib.db`` do them.

Every filter is applied before the page is cut, so a page holds ``limit`` matches
whenever that many follow its marker. Attributes with a column, and the computed ones
whose resource gives a SQL predicate (``Ops.special_filters``) or that every resource
shares (``created_at``, ``updated_at``, ``tags``), are filtered in SQL; the few left
(JSON-held lists, constants) are matched on rendered documents, read in keyset batches
until the page is full.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from stratus.netsvc import errors
from stratus.netsvc.errors import bad_request
from stratus.netsvc.resources import Resource

CONTROL = ("fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse")
# Rows read per round when a filter can only be matched on rendered documents.
BATCH = 100

SqlFilter = Callable[[list[str]], sa.ColumnElement]


@dataclass
class Query:
    filters: dict[str, list[str]] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False
    params: list[tuple[str, str]] = field(default_factory=list)


def parse(query_string: str, resource: Resource, *, max_limit: int,
          extra_filters: tuple[str, ...] = ()) -> Query:
    params = urllib.parse.parse_qsl(query_string, keep_blank_values=True)
    query = Query(params=params)
    keys, dirs = [], []
    limit = "0"
    for key, value in params:
        if key == "fields":
            query.fields.append(value)
        elif key == "sort_key":
            keys.append(value)
        elif key == "sort_dir":
            dirs.append(value)
        elif key == "limit":
            limit = value
        elif key == "marker":
            query.marker = value
        elif key == "page_reverse":
            query.page_reverse = value.lower() == "true"
        elif key in resource.attributes or key in extra_filters:
            query.filters.setdefault(key, []).append(value)
        else:
            raise bad_request(f"[{key}] is invalid attribute for filtering")
    query.limit = _limit(limit, max_limit)
    if query.limit is None:  # Neutron reads marker and page_reverse only when paging
        query.marker, query.page_reverse = None, False
    if dirs and len(dirs) != len(keys):
        raise bad_request("The number of sort_keys and sort_dirs must be same")
    for index, key in enumerate(keys):
        attr = resource.attributes.get(key)
        if attr is None or attr.column is None:
            raise bad_request(f"{key} is an invalid attribute for sort_keys")
        direction = dirs[index] if dirs else "asc"
        if direction not in ("asc", "desc"):
            raise bad_request(f"{direction} is an invalid value for sort_dirs, valid values "
                              "are 'asc' and 'desc'")
        query.sort.append((attr.column, direction))
    return query


def _limit(value: str, max_limit: int) -> int | None:
    """Neutron's ``get_limit_and_marker``: ``min(max_limit, limit) or max_limit`` when
    there is a maximum, the limit itself otherwise; no limit (None) means no paging."""
    try:
        limit = int(value)
    except ValueError:
        raise bad_request(f"Limit must be an integer 0 or greater and not '{value}'") from None
    if limit < 0:
        raise bad_request(f"Limit must be an integer 0 or greater and not '{value}'")
    if max_limit > 0:
        limit = min(max_limit, limit) or max_limit
    return limit or None


def collect(conn: sa.Connection, resource: Resource, query: Query, where: sa.ColumnElement,
            render: Callable[[list[dict]], list[dict]], *,
            special: dict[str, SqlFilter] | None = None, batch: int = BATCH) -> list[dict]:
    """The documents of one page, in the requested order.

    ``where`` is the caller's visibility; ``render`` turns rows into documents. A marker
    the caller cannot see is a 404 of the resource's kind (``NetworkNotFound``), as
    Neutron's ``get_marker_obj`` answers. With ``page_reverse`` the page is the
    ``limit`` items before the marker.
    """
    table = resource.table
    clauses, in_python = _filters(resource, query, special or {})
    order = [*query.sort, ("id", "asc")] if query.sort else [("created_at", "asc"),
                                                              ("id", "asc")]
    if query.page_reverse:
        order = [(col, "asc" if d == "desc" else "desc") for col, d in order]
    stmt = sa.select(table).where(where, *clauses).order_by(
        *[table.c[col].desc() if d == "desc" else table.c[col].asc() for col, d in order])
    position = None
    if query.marker is not None:
        position = conn.execute(sa.select(table).where(table.c.id == query.marker, where)
                                ).mappings().first()
        if position is None:
            raise errors.not_found(resource.kind, query.marker)
    docs: list[dict] = []
    while True:
        step = stmt if position is None else stmt.where(_after(table, order, position))
        size = None if query.limit is None else (batch if in_python else query.limit)
        if size is not None:
            step = step.limit(size)
        rows = [dict(r) for r in conn.execute(step).mappings()]
        docs.extend(_matching(render(rows), in_python))
        if size is None or len(rows) < size or len(docs) >= query.limit:
            break
        position = rows[-1]
    if query.limit is not None:
        docs = docs[:query.limit]
    if query.page_reverse:
        docs.reverse()
    return docs


def _filters(resource: Resource, query: Query, special: dict[str, SqlFilter]
             ) -> tuple[list[sa.ColumnElement], dict[str, list[str]]]:
    """The SQL predicates of the query's filters, and the filters left for documents."""
    table = resource.table
    clauses, in_python = [], {}
    for key, values in query.filters.items():
        attr = resource.attributes.get(key)
        if key in special:
            clauses.append(special[key](values))
        elif attr is not None and attr.column is not None:
            converted = [attr.filter(v) if attr.filter else v for v in values]
            clauses.append(table.c[attr.column].in_(converted))
        elif key == "tags":  # no resource here carries tags
            clauses.append(sa.false())
        elif key in ("created_at", "updated_at") and key in table.c:
            clauses.append(sa.or_(*[_same_second(table.c[key], v) for v in values]))
        else:
            in_python[key] = values
    return clauses, in_python


def _same_second(column: sa.Column, value: str) -> sa.ColumnElement:
    """Rows whose stored time renders as ``value`` (rendering drops the microseconds)."""
    try:
        moment = dt.datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        return sa.false()
    if moment.tzinfo is not None or moment.isoformat() + "Z" != value:
        return sa.false()
    return sa.and_(column >= moment, column < moment + dt.timedelta(seconds=1))


def _after(table: sa.Table, order: list[tuple[str, str]], marker) -> sa.ColumnElement:
    """Rows after ``marker`` in ``order``: keyset paging, stable under inserts."""
    clauses = []
    for index, (col, direction) in enumerate(order):
        equal = [table.c[c] == marker[c] for c, _ in order[:index]]
        beyond = table.c[col] < marker[col] if direction == "desc" else \
            table.c[col] > marker[col]
        clauses.append(sa.and_(*equal, beyond))
    return sa.or_(*clauses)


def _matching(docs: list[dict], filters: dict[str, list[str]]) -> list[dict]:
    for key, values in filters.items():
        docs = [d for d in docs if _matches(d.get(key), values)]
    return docs


def _matches(value, wanted: list[str]) -> bool:
    if isinstance(value, list):
        return any(str(item) in wanted for item in value)
    if isinstance(value, bool):
        return str(value).lower() in [w.lower() for w in wanted]
    return ("" if value is None else str(value)) in wanted


def fields(doc: dict, wanted: list[str]) -> dict:
    if not wanted:
        return doc
    return {k: v for k, v in doc.items() if k in wanted}


def page(resource: Resource, query: Query, docs: list[dict], url: str) -> dict:
    """The list body: the page's documents and, when paging, Neutron's links.

    As ``api_common.get_pagination_links``: going forward, ``next`` unless the page is
    short and ``previous`` always; with ``page_reverse``, ``previous`` unless the page
    is short and ``next`` always. A link's marker is the page's last (next) or first
    (previous) item; an empty page's links carry none.
    """
    body: dict = {resource.plural: [fields(d, query.fields) for d in docs]}
    if query.limit is None:
        return body
    full = len(docs) >= query.limit
    base = [(k, v) for k, v in query.params if k not in ("marker", "page_reverse")]
    links = []
    if full or query.page_reverse:
        marker = [("marker", docs[-1]["id"])] if docs else []
        links.append({"rel": "next", "href": _href(url, [*base, *marker])})
    if full or not query.page_reverse:
        marker = [("marker", docs[0]["id"])] if docs else []
        links.append({"rel": "previous",
                      "href": _href(url, [*base, *marker, ("page_reverse", "True")])})
    body[f"{resource.plural}_links"] = links
    return body


def _href(url: str, params: list[tuple[str, str]]) -> str:
    return f"{url}?{urllib.parse.urlencode(params)}"
