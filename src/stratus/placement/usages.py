"""Usages: what a project (or user) holds, in total or by consumer type (1.38)."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.placement import resource_classes
from stratus.placement import schema as t

a, c = t.allocations, t.consumers


def _scoped(query: sa.Select, project_id: str, user_id: str | None) -> sa.Select:
    query = query.select_from(a.join(c, c.c.uuid == a.c.consumer_id)
                              .join(t.projects, t.projects.c.id == c.c.project_id)
                              .outerjoin(t.consumer_types,
                                         t.consumer_types.c.id == c.c.consumer_type_id))
    query = query.where(t.projects.c.external_id == project_id)
    if user_id is not None:
        query = query.join(t.users, t.users.c.id == c.c.user_id) \
            .where(t.users.c.external_id == user_id)
    return query


def totals(conn: sa.Connection, project_id: str, user_id: str | None) -> dict[str, int]:
    """{class name: units} held by the project's (and user's) consumers."""
    rows = conn.execute(_scoped(sa.select(a.c.resource_class_id, sa.func.sum(a.c.used)),
                                project_id, user_id).group_by(a.c.resource_class_id)).all()
    names = resource_classes.names_for(conn, {r[0] for r in rows})
    return {names[rc_id]: int(used) for rc_id, used in rows}


def by_consumer_type(conn: sa.Connection, project_id: str, user_id: str | None,
                     consumer_type: str | None) -> dict[str, dict[str, int]]:
    """{consumer type: {class: units, "consumer_count": n}}.

    ``consumer_type`` "all" folds every type into one entry; "unknown" keeps only
    consumers written without a type; any other name keeps only that type.
    """
    type_name = sa.func.coalesce(t.consumer_types.c.name, "unknown")
    key = sa.literal("all") if consumer_type == "all" else type_name
    usage = _scoped(sa.select(key.label("ctype"), a.c.resource_class_id,
                              sa.func.sum(a.c.used)), project_id, user_id)
    counts = _scoped(sa.select(key.label("ctype"), sa.func.count(sa.distinct(a.c.consumer_id))),
                     project_id, user_id)
    if consumer_type == "unknown":
        usage = usage.where(c.c.consumer_type_id.is_(None))
        counts = counts.where(c.c.consumer_type_id.is_(None))
    elif consumer_type not in (None, "all"):
        usage = usage.where(t.consumer_types.c.name == consumer_type)
        counts = counts.where(t.consumer_types.c.name == consumer_type)
    rows = conn.execute(usage.group_by(key, a.c.resource_class_id)).all()
    if consumer_type not in (None, "all"):
        # MySQL's default collation compares names without case; type names are not.
        rows = [row for row in rows if row[0] == consumer_type]
    names = resource_classes.names_for(conn, {r[1] for r in rows})
    result: dict[str, dict[str, int]] = {}
    for ctype, rc_id, used in rows:
        result.setdefault(ctype, {})[names[rc_id]] = int(used)
    for ctype, count in conn.execute(counts.group_by(key)):
        if ctype in result:
            result[ctype]["consumer_count"] = int(count)
    return result
