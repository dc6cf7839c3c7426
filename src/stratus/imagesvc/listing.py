"""GET /v2/images as one SQL query: visibility rules, filters, sorting and marker paging."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from stratus.common.wsgi.errors import BadRequest
from stratus.imagesvc import schema as s
from stratus.imagesvc.store import Viewer, visible_to, with_details

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
             "updated_at")
# Nullable sort columns sort as if empty, so every database orders them alike and the
# marker comparison below never meets a NULL.
_SORT_EXPR = {
    "name": sa.func.coalesce(s.images.c.name, ""),
    "container_format": sa.func.coalesce(s.images.c.container_format, ""),
    "disk_format": sa.func.coalesce(s.images.c.disk_format, ""),
    "size": sa.func.coalesce(s.images.c.size, -1),
}
EQUALITY_FILTERS = ("name", "status", "owner", "disk_format", "container_format", "id")
VISIBILITIES = ("public", "private", "shared", "community", "all")
MEMBER_STATUSES = ("pending", "accepted", "rejected", "all")


@dataclass
class ListQuery:
    """A parsed list request."""

    limit: int
    marker: str | None = None
    sort: list[tuple[str, str]] = field(default_factory=lambda: [("created_at", "desc")])
    visibility: str | None = None
    member_status: str = "accepted"
    equals: dict[str, list[str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    size_min: int | None = None
    size_max: int | None = None
    protected: bool | None = None
    os_hidden: bool = False
    properties: dict[str, str] = field(default_factory=dict)


def list_images(conn: sa.Connection, viewer: Viewer, q: ListQuery) -> list[dict]:
    """One page of images ``viewer`` may list, in the requested order, after ``q.marker``."""
    query = sa.select(s.images).where(_visibility(viewer, q), *_filters(q))
    sort = _with_tiebreakers(q.sort)
    if q.marker is not None:
        query = query.where(_after_marker(conn, viewer, q.marker, sort))
    order = [(_expr(k).asc() if d == "asc" else _expr(k).desc()) for k, d in sort]
    rows = conn.execute(query.order_by(*order).limit(q.limit)).mappings()
    return with_details(conn, [dict(r) for r in rows])


def _expr(key: str):
    return _SORT_EXPR.get(key, s.images.c[key])


def _with_tiebreakers(sort: list[tuple[str, str]]) -> list[tuple[str, str]]:
    keys = [k for k, _ in sort]
    last_dir = sort[-1][1]
    extra = [(k, last_dir) for k in ("created_at", "id") if k not in keys]
    return [*sort, *extra]


def _member_images(project_id: str | None, member_status: str):
    m = s.image_members.c
    query = sa.select(m.image_id).where(m.member == project_id)
    if member_status != "all":
        query = query.where(m.status == member_status)
    return query


def _visibility(viewer: Viewer, q: ListQuery):
    """Which images a listing shows, as Glance decides it per project and visibility."""
    i = s.images.c
    mine = i.owner == viewer.project_id
    shared_with_me = sa.and_(i.visibility == "shared",
                             i.id.in_(_member_images(viewer.project_id, q.member_status)))
    vis = q.visibility
    if vis in ("public", "community"):
        return i.visibility == vis
    if vis == "private":
        return sa.and_(i.visibility == "private", sa.true() if viewer.is_admin else mine)
    if vis == "shared":
        if viewer.is_admin:
            return i.visibility == "shared"
        return sa.and_(i.visibility == "shared", sa.or_(mine, shared_with_me))
    if viewer.is_admin:
        return sa.true()
    default = sa.or_(i.visibility == "public", mine, shared_with_me)
    if vis == "all":
        return sa.or_(default, i.visibility == "community")
    return default


def _filters(q: ListQuery) -> list:
    i = s.images.c
    where = [i[name].in_(values) for name, values in q.equals.items()]
    if q.size_min is not None:
        where.append(i.size >= q.size_min)
    if q.size_max is not None:
        where.append(i.size <= q.size_max)
    if q.protected is not None:
        where.append(i.protected == q.protected)
    where.append(i.os_hidden == q.os_hidden)
    t = s.image_tags.c
    for tag in q.tags:
        where.append(sa.exists().where(t.image_id == i.id, t.value == tag))
    p = s.image_properties.c
    for name, value in q.properties.items():
        where.append(sa.exists().where(p.image_id == i.id, p.name == name, p.value == value))
    return where


def _after_marker(conn: sa.Connection, viewer: Viewer, marker: str,
                  sort: list[tuple[str, str]]):
    """Rows strictly after the marker image in the (key, direction) order ``sort``."""
    exprs = [_expr(k).label(k) for k, _ in sort]
    row = conn.execute(sa.select(*exprs).where(s.images.c.id == marker,
                                               visible_to(viewer))).first()
    if row is None:
        raise BadRequest(f"Invalid marker. Image {marker} could not be found.")
    # (k1 > v1) or (k1 = v1 and k2 > v2) or ..., with < for descending keys.
    clauses = []
    for n, (key, direction) in enumerate(sort):
        equal_before = [_expr(k) == row[j] for j, (k, _) in enumerate(sort[:n])]
        beyond = _expr(key) > row[n] if direction == "asc" else _expr(key) < row[n]
        clauses.append(sa.and_(*equal_before, beyond))
    return sa.or_(*clauses)


def parse_query(params: list[tuple[str, str]], default_limit: int, max_limit: int) -> ListQuery:
    """Read Glance's list query parameters; bad values are 400s with Glance's wording."""
    q = ListQuery(limit=default_limit)
    sort_keys: list[str] = []
    sort_dirs: list[str] = []
    new_sort: str | None = None
    for name, value in params:
        if name == "limit":
            q.limit = min(_non_negative_int(value, "limit"), max_limit)
        elif name == "marker":
            q.marker = value
        elif name == "sort_key":
            sort_keys.append(_sort_key(value.strip()))
        elif name == "sort_dir":
            sort_dirs.append(_sort_dir(value.strip()))
        elif name == "sort":
            new_sort = value
        elif name == "visibility":
            if value not in VISIBILITIES:
                raise BadRequest(f"Invalid visibility value: {value}")
            q.visibility = value
        elif name == "member_status":
            if value not in MEMBER_STATUSES:
                raise BadRequest(f"Invalid status: {value}")
            q.member_status = value
        elif name == "tag":
            q.tags.append(value.strip())
        elif name in ("size_min", "size_max"):
            setattr(q, name, _non_negative_int(value, name))
        elif name in ("protected", "os_hidden"):
            setattr(q, name, _boolean(value, name))
        elif name in EQUALITY_FILTERS:
            q.equals[name] = value[3:].split(",") if value.startswith("in:") else [value]
        elif name == "changes-since":
            raise BadRequest('The "changes-since" filter is no longer available on v2.')
        else:
            q.properties[name] = value
    if new_sort is not None:
        if sort_keys or sort_dirs:
            raise BadRequest("Old and new sorting syntax cannot be combined")
        q.sort = [(_sort_key(k.strip()), _sort_dir(d.strip() or "desc"))
                  for k, _, d in (part.partition(":") for part in new_sort.split(","))]
    elif sort_keys or sort_dirs:
        if len(sort_dirs) > 1 and len(sort_dirs) != len(sort_keys):
            raise BadRequest("Number of sort dirs does not match the number of sort keys")
        keys = sort_keys or ["created_at"]
        dirs = sort_dirs if len(sort_dirs) > 1 else (sort_dirs or ["desc"]) * len(keys)
        q.sort = list(zip(keys, dirs, strict=True))
    return q


def _sort_key(key: str) -> str:
    if key not in SORT_KEYS:
        raise BadRequest(f"Invalid sort key: {key}. It must be one of the following: "
                         f"{', '.join(SORT_KEYS)}.")
    return key


def _sort_dir(direction: str) -> str:
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}")
    return direction


def _non_negative_int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} param must be an integer") from None
    if number < 0:
        raise BadRequest(f"{name} param must be positive")
    return number


def _boolean(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise BadRequest(f"Invalid value for {name}: {value}; use true or false")
