"""Neutron list queries: filters by any attribute (a repeated key is OR), ``fields``,
``sort_key``/``sort_dir`` and ``limit``/``marker`` paging with ``<plural>_links``.

Attributes with a column are filtered, sorted and paged in SQL; the others (lists,
computed values) are filtered on the rendered documents.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from stratus.netsvc.errors import bad_request
from stratus.netsvc.resources import Resource

CONTROL = ("fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse")


@dataclass
class Query:
    filters: dict[str, list[str]] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)
    limit: int | None = None
    marker: str | None = None
    params: list[tuple[str, str]] = field(default_factory=list)


def parse(query_string: str, resource: Resource, *, max_limit: int,
          extra_filters: tuple[str, ...] = ()) -> Query:
    params = urllib.parse.parse_qsl(query_string, keep_blank_values=True)
    query = Query(params=params)
    keys, dirs = [], []
    for key, value in params:
        if key == "fields":
            query.fields.append(value)
        elif key == "sort_key":
            keys.append(value)
        elif key == "sort_dir":
            dirs.append(value)
        elif key == "limit":
            query.limit = _limit(value, max_limit)
        elif key == "marker":
            query.marker = value
        elif key == "page_reverse":
            continue
        elif key in resource.attributes or key in extra_filters:
            query.filters.setdefault(key, []).append(value)
        else:
            raise bad_request(f"[{key}] is invalid attribute for filtering")
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
    try:
        limit = int(value)
    except ValueError:
        raise bad_request(f"Limit must be an integer 0 or greater and not '{value}'") from None
    if limit < 0:
        raise bad_request(f"Limit must be an integer 0 or greater and not '{value}'")
    if limit == 0:
        return None if max_limit <= 0 else max_limit
    return min(limit, max_limit) if max_limit > 0 else limit


def select(resource: Resource, query: Query, where: sa.ColumnElement,
           special: dict[str, Callable[[list[str]], sa.ColumnElement]] | None = None,
           conn: sa.Connection | None = None) -> sa.Select:
    """The SQL for one page: visibility, column filters, order and marker."""
    table = resource.table
    stmt = sa.select(table).where(where)
    for key, values in query.filters.items():
        if special and key in special:
            stmt = stmt.where(special[key](values))
            continue
        attr = resource.attributes.get(key)
        if attr is None or attr.column is None:
            continue
        converted = [attr.filter(v) if attr.filter else v for v in values]
        stmt = stmt.where(table.c[attr.column].in_(converted))
    order = [*query.sort, ("id", "asc")] if query.sort else [("created_at", "asc"),
                                                              ("id", "asc")]
    if query.marker is not None and conn is not None:
        marker = conn.execute(sa.select(table).where(table.c.id == query.marker)
                              ).mappings().first()
        if marker is not None:
            stmt = stmt.where(_after(table, order, marker))
    stmt = stmt.order_by(*[table.c[col].desc() if d == "desc" else table.c[col].asc()
                           for col, d in order])
    if query.limit is not None:
        stmt = stmt.limit(query.limit + 1)
    return stmt


def _after(table: sa.Table, order: list[tuple[str, str]], marker) -> sa.ColumnElement:
    """Rows after ``marker`` in ``order``: keyset paging, stable under inserts."""
    clauses = []
    for index, (col, direction) in enumerate(order):
        equal = [table.c[c] == marker[c] for c, _ in order[:index]]
        beyond = table.c[col] < marker[col] if direction == "desc" else \
            table.c[col] > marker[col]
        clauses.append(sa.and_(*equal, beyond))
    return sa.or_(*clauses)


def python_filters(resource: Resource, query: Query, docs: list[dict],
                   skip: tuple[str, ...] = ()) -> list[dict]:
    """Filter rendered documents on attributes that have no column."""
    for key, values in query.filters.items():
        attr = resource.attributes.get(key)
        if key in skip or attr is None or attr.column is not None:
            continue
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
    """The list body: the page's documents and, when paging, next/previous links."""
    body: dict = {}
    more = query.limit is not None and len(docs) > query.limit
    if query.limit is not None:
        docs = docs[:query.limit]
    body[resource.plural] = [fields(d, query.fields) for d in docs]
    if query.limit is None:
        return body
    links = []
    base = [(k, v) for k, v in query.params if k not in ("marker", "page_reverse")]
    if more and docs:
        links.append({"rel": "next", "href": _href(url, [*base, ("marker", docs[-1]["id"])])})
    if query.marker and docs:
        links.append({"rel": "previous", "href": _href(
            url, [*base, ("marker", docs[0]["id"]), ("page_reverse", "True")])})
    body[f"{resource.plural}_links"] = links
    return body


def _href(url: str, params: list[tuple[str, str]]) -> str:
    return f"{url}?{urllib.parse.urlencode(params)}"
