"""Neutron quotas: per-project limits over configured defaults, usage counted from the
resource tables, and the check a create makes before it writes."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from stratus.netsvc import errors
from stratus.netsvc import schema as s

q = s.quotas.c
UNLIMITED = -1

# Neutron's default limits ([quotas] quota_<resource>).
DEFAULTS: dict[str, int] = {
    "network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
    "security_group": 10, "security_group_rule": 100, "subnetpool": -1,
}

# The table each counted resource lives in; floating IPs are not implemented (never used).
TABLES: dict[str, sa.Table] = {
    "network": s.networks, "subnet": s.subnets, "port": s.ports, "router": s.routers,
    "security_group": s.security_groups, "security_group_rule": s.security_group_rules,
    "subnetpool": s.subnetpools,
}
RESOURCES = tuple(DEFAULTS)


def get(conn: sa.Connection, project_id: str,
        defaults: Mapping[str, int] = DEFAULTS) -> dict[str, int]:
    """The project's limit for every resource: its stored override, else the default."""
    stored = {row.resource: row.limit for row in conn.execute(
        sa.select(q.resource, q.limit).where(q.project_id == project_id))}
    return {resource: stored.get(resource, limit)
            for resource, limit in {**DEFAULTS, **defaults}.items()}


def update(conn: sa.Connection, project_id: str, values: Mapping,
           defaults: Mapping[str, int] = DEFAULTS) -> dict[str, int]:
    """Store the project's overrides (integers >= -1) and return all its limits.

    400 for an unknown resource or a value that is not such an integer; nothing is
    written then.
    """
    known = {**DEFAULTS, **defaults}
    unknown = [name for name in values if name not in known]
    if unknown:
        raise errors.bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    limits = {name: _limit(name, value) for name, value in values.items()}
    if limits:
        conn.execute(s.quotas.delete().where(q.project_id == project_id,
                                             q.resource.in_(list(limits))))
        conn.execute(s.quotas.insert(), [
            {"project_id": project_id, "resource": name, "limit": limit}
            for name, limit in limits.items()])
    return get(conn, project_id, defaults)


def _limit(name: str, value) -> int:
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise errors.bad_request(
            f"Invalid input for operation: '{value}' is not an integer.") from None
    if limit < UNLIMITED:
        raise errors.bad_request(f"Invalid input for {name}. Reason: '{limit}' is too small "
                                 f"- must be at least '{UNLIMITED}'.")
    return limit


def reset(conn: sa.Connection, project_id: str) -> None:
    """Forget the project's overrides: it is back on the defaults."""
    conn.execute(s.quotas.delete().where(q.project_id == project_id))


def usage(conn: sa.Connection, project_id: str) -> dict[str, int]:
    """How many of each resource the project holds, counted in one query."""
    counts = sa.union_all(*(
        sa.select(sa.literal(resource).label("resource"), sa.func.count().label("used"))
        .select_from(table).where(table.c.project_id == project_id)
        for resource, table in TABLES.items()))
    used = {row.resource: row.used for row in conn.execute(counts)}
    return {resource: used.get(resource, 0) for resource in RESOURCES}


def check(conn: sa.Connection, project_id: str, resource: str,
          defaults: Mapping[str, int] = DEFAULTS, adding: int = 1) -> None:
    """409 OverQuota when ``adding`` more of ``resource`` would pass the project's limit.

    A negative limit is no limit; a resource without a table or limit is not limited.
    """
    limit = get(conn, project_id, defaults).get(resource, UNLIMITED)
    table = TABLES.get(resource)
    if limit < 0 or table is None:
        return
    used = conn.execute(sa.select(sa.func.count()).select_from(table)
                        .where(table.c.project_id == project_id)).scalar_one()
    if used + adding > limit:
        raise errors.over_quota(resource)


def details(conn: sa.Connection, project_id: str,
            defaults: Mapping[str, int] = DEFAULTS) -> dict[str, dict[str, int]]:
    """GET /v2.0/quotas/{project_id}/details: limit, used and reserved per resource."""
    used = usage(conn, project_id)
    return {resource: {"limit": limit, "used": used.get(resource, 0), "reserved": 0}
            for resource, limit in get(conn, project_id, defaults).items()}
