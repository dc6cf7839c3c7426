"""Quota limits (defaults, per-project and per-user overrides) and usage counted from rows.

Limits live in the API database (quota_classes "default", quotas, project_user_quotas);
usage is never stored: it is counted from the rows that are the resources (build requests
and instances in every cell, key pairs, server groups), as Nova does from Pike on.
"""

from __future__ import annotations

import sqlalchemy as sa

from stratus.cells.schema_api import (
    instance_group_member,
    instance_groups,
    key_pairs,
    project_user_quotas,
    quota_classes,
    quotas,
    utcnow,
)

# Nova's [quota] defaults; -1 is unlimited.
DEFAULTS: dict[str, int] = {
    "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128,
    "injected_files": 5, "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255, "key_pairs": 100, "server_groups": 10,
    "server_group_members": 10,
}
# Shown before 2.36, when nova-network still had them; never enforced here.
NETWORK_DEFAULTS: dict[str, int] = {
    "floating_ips": 10, "fixed_ips": -1, "security_groups": 10, "security_group_rules": 20,
}
RESOURCES = tuple(DEFAULTS)


def defaults(conn: sa.Connection) -> dict[str, int]:
    """Nova's defaults, overridden by quota class "default" rows."""
    limits = dict(DEFAULTS)
    rows = conn.execute(sa.select(quota_classes.c.resource, quota_classes.c.hard_limit)
                        .where(quota_classes.c.class_name == "default"))
    for resource, hard_limit in rows:
        if resource in limits and hard_limit is not None:
            limits[resource] = hard_limit
    return limits


def project_limits(conn: sa.Connection, project_id: str) -> dict[str, int]:
    limits = defaults(conn)
    rows = conn.execute(sa.select(quotas.c.resource, quotas.c.hard_limit)
                        .where(quotas.c.project_id == project_id))
    for resource, hard_limit in rows:
        if resource in limits and hard_limit is not None:
            limits[resource] = hard_limit
    return limits


def user_limits(conn: sa.Connection, project_id: str, user_id: str) -> dict[str, int]:
    """The project's limits with the user's own overrides on top."""
    limits = project_limits(conn, project_id)
    rows = conn.execute(sa.select(project_user_quotas.c.resource,
                                  project_user_quotas.c.hard_limit)
                        .where(project_user_quotas.c.project_id == project_id,
                               project_user_quotas.c.user_id == user_id))
    for resource, hard_limit in rows:
        if resource in limits and hard_limit is not None:
            limits[resource] = hard_limit
    return limits


def set_limits(conn: sa.Connection, project_id: str, user_id: str | None,
               limits: dict[str, int]) -> None:
    """Create or replace the project's (or the project user's) limit of each resource."""
    table = quotas if user_id is None else project_user_quotas
    owner = [table.c.project_id == project_id]
    if user_id is not None:
        owner.append(table.c.user_id == user_id)
    for resource, hard_limit in limits.items():
        updated = conn.execute(sa.update(table).where(*owner, table.c.resource == resource)
                               .values(hard_limit=hard_limit, updated_at=utcnow()))
        if updated.rowcount == 0:
            values = {"project_id": project_id, "resource": resource,
                      "hard_limit": hard_limit, "created_at": utcnow()}
            if user_id is not None:
                values["user_id"] = user_id
            conn.execute(sa.insert(table).values(**values))


def delete_limits(conn: sa.Connection, project_id: str, user_id: str | None) -> None:
    """Back to the defaults: drop the project's (or the project user's) overrides."""
    if user_id is None:
        conn.execute(sa.delete(quotas).where(quotas.c.project_id == project_id))
        conn.execute(sa.delete(project_user_quotas)
                     .where(project_user_quotas.c.project_id == project_id))
    else:
        conn.execute(sa.delete(project_user_quotas)
                     .where(project_user_quotas.c.project_id == project_id,
                            project_user_quotas.c.user_id == user_id))


def api_usage(conn: sa.Connection, project_id: str, user_id: str | None = None
              ) -> dict[str, int]:
    """Usage counted in the API database: key pairs (per user) and server groups."""
    groups = sa.select(sa.func.count()).select_from(instance_groups) \
        .where(instance_groups.c.project_id == project_id)
    if user_id is not None:
        groups = groups.where(instance_groups.c.user_id == user_id)
    usage = {"server_groups": conn.execute(groups).scalar_one()}
    if user_id is not None:
        usage["key_pairs"] = conn.execute(
            sa.select(sa.func.count()).select_from(key_pairs)
            .where(key_pairs.c.user_id == user_id)).scalar_one()
    return usage


def group_members(conn: sa.Connection, group_id: int) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(instance_group_member)
                        .where(instance_group_member.c.group_id == group_id)).scalar_one()
