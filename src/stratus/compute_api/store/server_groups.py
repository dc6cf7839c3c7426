"""Server groups (instance groups), their policy and members, in the API database."""

from __future__ import annotations

import uuid as uuidlib

import sqlalchemy as sa

from stratus.cells.schema_api import (
    instance_group_member,
    instance_group_policy,
    instance_groups,
    utcnow,
)
from stratus.compute_api.store import NoSuchRow


def _load(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    ids = [row["id"] for row in rows]
    policies: dict[int, list[str]] = {i: [] for i in ids}
    members: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for group_id, policy in conn.execute(
                sa.select(instance_group_policy.c.group_id, instance_group_policy.c.policy)
                .where(instance_group_policy.c.group_id.in_(ids))):
            policies[group_id].append(policy)
        for group_id, uuid in conn.execute(
                sa.select(instance_group_member.c.group_id, instance_group_member.c.instance_uuid)
                .where(instance_group_member.c.group_id.in_(ids))
                .order_by(instance_group_member.c.id)):
            members[group_id].append(uuid)
    return [{**row, "policies": policies[row["id"]], "members": members[row["id"]]}
            for row in rows]


def list_groups(conn: sa.Connection, project_id: str | None, *, limit: int | None,
                offset: int) -> list[dict]:
    query = sa.select(instance_groups).order_by(instance_groups.c.id).offset(offset)
    if project_id is not None:
        query = query.where(instance_groups.c.project_id == project_id)
    if limit is not None:
        query = query.limit(limit)
    return _load(conn, [dict(row) for row in conn.execute(query).mappings()])


def get(conn: sa.Connection, group_uuid: str) -> dict:
    row = conn.execute(sa.select(instance_groups)
                       .where(instance_groups.c.uuid == group_uuid)).mappings().first()
    if row is None:
        raise NoSuchRow(group_uuid)
    return _load(conn, [dict(row)])[0]


def create(conn: sa.Connection, *, name: str, policy: str, project_id: str,
           user_id: str) -> dict:
    group_uuid = str(uuidlib.uuid4())
    group_id = conn.execute(sa.insert(instance_groups).values(
        uuid=group_uuid, name=name, project_id=project_id, user_id=user_id,
        created_at=utcnow())).inserted_primary_key[0]
    conn.execute(sa.insert(instance_group_policy).values(group_id=group_id, policy=policy,
                                                         created_at=utcnow()))
    return get(conn, group_uuid)


def delete(conn: sa.Connection, group_id: int) -> None:
    for table in (instance_group_member, instance_group_policy):
        conn.execute(sa.delete(table).where(table.c.group_id == group_id))
    conn.execute(sa.delete(instance_groups).where(instance_groups.c.id == group_id))


def count(conn: sa.Connection, project_id: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(instance_groups)
                        .where(instance_groups.c.project_id == project_id)).scalar_one()


def add_members(conn: sa.Connection, group_id: int, instance_uuids: list[str]) -> None:
    if instance_uuids:
        conn.execute(sa.insert(instance_group_member), [
            {"group_id": group_id, "instance_uuid": uuid, "created_at": utcnow()}
            for uuid in instance_uuids])


def remove_member(conn: sa.Connection, instance_uuid: str) -> None:
    conn.execute(sa.delete(instance_group_member)
                 .where(instance_group_member.c.instance_uuid == instance_uuid))
