"""Servers that have not landed in a cell yet: build request + request spec + instance mapping.

``POST /servers`` writes all three in one transaction (the mapping's cell_id stays NULL);
the conductor later creates the instance in a cell, points the mapping at it and deletes
the build request. The build request's ``instance`` JSON uses the column names of
``schema_cell.instances`` so a build request and a cell instance render through one view.
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from stratus.cells import mappings
from stratus.cells.schema_api import build_requests, request_specs, utcnow
from stratus.compute_api.store import NoSuchRow

_DATETIME_FIELDS = ("created_at", "updated_at", "launched_at", "terminated_at", "deleted_at")


def _dump(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NAIVE_UTC).decode()


def _instance(row: Any) -> dict:
    """The instance-to-be of a build request row, datetimes parsed back."""
    instance = orjson.loads(row.instance)
    for name in _DATETIME_FIELDS:
        value = instance.get(name)
        if isinstance(value, str):
            instance[name] = datetime.datetime.fromisoformat(value).replace(tzinfo=None)
    instance["tags"] = orjson.loads(row.tags) if row.tags else []
    return instance


def create(conn: sa.Connection, instances: list[dict], specs: list[dict]) -> None:
    """Write one build request, request spec and unmapped instance mapping per server."""
    now = utcnow()
    for instance, spec in zip(instances, specs, strict=True):
        conn.execute(sa.insert(build_requests).values(
            instance_uuid=instance["uuid"], project_id=instance["project_id"],
            user_id=instance["user_id"], instance=_dump(instance),
            vcpus=instance["vcpus"], memory_mb=instance["memory_mb"],
            block_device_mappings=_dump(spec.get("block_device_mappings", [])), tags="[]",
            created_at=now))
        conn.execute(sa.insert(request_specs).values(
            instance_uuid=instance["uuid"], spec=_dump(spec), created_at=now))
        mappings.create_instance_mapping(conn, instance_uuid=instance["uuid"],
                                         project_id=instance["project_id"],
                                         user_id=instance["user_id"])


def get(conn: sa.Connection, instance_uuid: str) -> dict:
    row = conn.execute(sa.select(build_requests)
                       .where(build_requests.c.instance_uuid == instance_uuid)).first()
    if row is None:
        raise NoSuchRow(instance_uuid)
    return _instance(row)


def get_many(conn: sa.Connection, instance_uuids: list[str]) -> dict[str, tuple[dict, dict]]:
    """(instance, request spec) of each build request still there, by uuid (2 queries)."""
    if not instance_uuids:
        return {}
    rows = conn.execute(sa.select(build_requests)
                        .where(build_requests.c.instance_uuid.in_(instance_uuids))).all()
    specs = dict(conn.execute(sa.select(request_specs.c.instance_uuid, request_specs.c.spec)
                              .where(request_specs.c.instance_uuid.in_(instance_uuids))).all())
    return {row.instance_uuid: (_instance(row), orjson.loads(specs[row.instance_uuid]))
            for row in rows if row.instance_uuid in specs}


def take(conn: sa.Connection, instance_uuid: str, cell_id: int) -> bool:
    """The conductor's hand-over: drop the build request and map the instance to its cell.

    False (and nothing changed) when the build request is gone: the server was deleted
    while it was being scheduled, so the caller must undo what it built. The request spec
    stays; moves of the server read it later.
    """
    result = conn.execute(sa.delete(build_requests)
                          .where(build_requests.c.instance_uuid == instance_uuid))
    if result.rowcount == 0:
        return False
    mappings.set_instance_cell(conn, instance_uuid, cell_id)
    return True


def list_instances(conn: sa.Connection, project_id: str | None) -> list[dict]:
    """Every build request's instance (of ``project_id``, or all when None)."""
    query = sa.select(build_requests)
    if project_id is not None:
        query = query.where(build_requests.c.project_id == project_id)
    return [_instance(row) for row in conn.execute(query)]


def usage(conn: sa.Connection, project_id: str, user_id: str | None = None) -> dict[str, int]:
    """instances, cores and ram of the project's (or project user's) build requests."""
    conditions = [build_requests.c.project_id == project_id]
    if user_id is not None:
        conditions.append(build_requests.c.user_id == user_id)
    instances, cores, ram = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(build_requests.c.vcpus), 0),
                  sa.func.coalesce(sa.func.sum(build_requests.c.memory_mb), 0))
        .where(*conditions, build_requests.c.vcpus.is_not(None))).one()
    totals = {"instances": int(instances), "cores": int(cores), "ram": int(ram)}
    # Rows written before api_0005 carry their sizes only in the instance JSON.
    for (blob,) in conn.execute(sa.select(build_requests.c.instance)
                                .where(*conditions, build_requests.c.vcpus.is_(None))):
        instance = orjson.loads(blob)
        totals["instances"] += 1
        totals["cores"] += instance["vcpus"]
        totals["ram"] += instance["memory_mb"]
    return totals


def update(conn: sa.Connection, instance_uuid: str, changes: dict) -> dict:
    """Change fields of a build request's instance; NoSuchRow if it has left for a cell."""
    instance = get(conn, instance_uuid)
    instance.pop("tags", None)
    instance.update(changes, updated_at=utcnow())
    result = conn.execute(sa.update(build_requests)
                          .where(build_requests.c.instance_uuid == instance_uuid)
                          .values(instance=_dump(instance), updated_at=utcnow()))
    if result.rowcount == 0:
        raise NoSuchRow(instance_uuid)
    return get(conn, instance_uuid)


def delete(conn: sa.Connection, instance_uuid: str) -> None:
    """Remove the build request, its request spec and its mapping; NoSuchRow if it is gone.

    The build request row decides: if the conductor already took it (the server is in a
    cell now) nothing is deleted and the caller deletes the instance in its cell instead.
    """
    result = conn.execute(sa.delete(build_requests)
                          .where(build_requests.c.instance_uuid == instance_uuid))
    if result.rowcount == 0:
        raise NoSuchRow(instance_uuid)
    conn.execute(sa.delete(request_specs).where(request_specs.c.instance_uuid == instance_uuid))
    mappings.delete_instance_mapping(conn, instance_uuid)


def delete_many(conn: sa.Connection, instance_uuids: list[str]) -> None:
    """Undo a create (quota recheck failed): all three rows of each server."""
    for uuid in instance_uuids:
        try:
            delete(conn, uuid)
        except NoSuchRow:
            continue
