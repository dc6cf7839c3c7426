"""Instances in cell databases: one instance by its mapping, details of a page, changes.

Every function takes the cell's engine (from ``CellDatabases.engine``) or an open
connection on it; which cell to use comes from the instance mapping in the API database.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import sqlalchemy as sa

from stratus.cells.mappings import CellDatabases, is_cell_failure
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import (
    instance_faults,
    instance_info_caches,
    instance_metadata,
    instances,
    tags,
)
from stratus.compute_api.store import NoSuchRow

# Nova shows a server's fault only while it is in one of these states.
FAULT_SHOWN_IN = ("error", "deleted")


def get(conn: sa.Connection, instance_uuid: str, *, read_deleted: bool = False) -> dict:
    query = sa.select(instances).where(instances.c.uuid == instance_uuid)
    if not read_deleted:
        query = query.where(instances.c.deleted == 0)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NoSuchRow(instance_uuid)
    return with_details(conn, [dict(row)])[0]


def with_details(conn: sa.Connection, rows: list) -> list[dict]:
    """Add ``metadata``, ``tags``, ``network_info`` (the info cache), the parsed ``flavor``
    and, for failed instances, the newest ``fault`` to instance rows (3 queries, a fourth
    only when one has failed). Rows that are dicts are changed in place."""
    uuids = [row["uuid"] for row in rows]
    metadata: dict[str, dict] = {uuid: {} for uuid in uuids}
    tag_lists: dict[str, list] = {uuid: [] for uuid in uuids}
    if uuids:
        for uuid, key, value in conn.execute(
                sa.select(instance_metadata.c.instance_uuid, instance_metadata.c.key,
                          instance_metadata.c.value)
                .where(instance_metadata.c.instance_uuid.in_(uuids))):
            metadata[uuid][key] = value
        for uuid, tag in conn.execute(sa.select(tags.c.resource_id, tags.c.tag)
                                      .where(tags.c.resource_id.in_(uuids))
                                      .order_by(tags.c.tag)):
            tag_lists[uuid].append(tag)
    caches = network_infos(conn, uuids)
    failed = [row["uuid"] for row in rows if row["vm_state"] in FAULT_SHOWN_IN]
    faults = latest_faults(conn, failed)
    out = []
    for row in rows:
        # Plain dict rows (the cells' listing makes them) are filled in place; others
        # (RowMappings) are copied once first.
        server = row if type(row) is dict else dict(row)
        flavor = orjson.loads(server["flavor"]) if server.get("flavor") else {}
        server.update(metadata=metadata[server["uuid"]], tags=tag_lists[server["uuid"]],
                      flavor=flavor.get("cur", flavor), fault=faults.get(server["uuid"]),
                      network_info=caches.get(server["uuid"], []))
        out.append(server)
    return out


def network_infos(conn: sa.Connection, instance_uuids: list[str]) -> dict[str, list]:
    """The info cache (a list of port dicts) of each instance that has one (one query)."""
    if not instance_uuids:
        return {}
    table = instance_info_caches
    rows = conn.execute(sa.select(table.c.instance_uuid, table.c.network_info)
                        .where(table.c.instance_uuid.in_(instance_uuids),
                               table.c.deleted == 0))
    return {uuid: orjson.loads(info) if info else [] for uuid, info in rows}


def set_network_info(conn: sa.Connection, instance_uuid: str, network_info: list) -> None:
    """Replace the instance's info cache (made on first write)."""
    table = instance_info_caches
    text = orjson.dumps(network_info).decode()
    now = utcnow()
    updated = conn.execute(sa.update(table).where(table.c.instance_uuid == instance_uuid)
                           .values(network_info=text, updated_at=now, deleted=0,
                                   deleted_at=None))
    if updated.rowcount == 0:
        conn.execute(sa.insert(table).values(instance_uuid=instance_uuid, network_info=text,
                                             created_at=now, deleted=0))


def create(conn: sa.Connection, instance: dict) -> None:
    """Write a build request's instance (``build_requests.get`` form) as a cell instance.

    The embedded flavor becomes ``{"cur": flavor}``; metadata and tags get their own rows.
    Keys that are not instance columns (security groups ...) stay behind.
    """
    columns = set(instances.c.keys()) - {"id"}
    values = {key: value for key, value in instance.items() if key in columns}
    values["flavor"] = orjson.dumps({"cur": instance["flavor"]}).decode()
    values["deleted"] = 0
    conn.execute(sa.insert(instances).values(**values))
    if instance.get("metadata"):
        set_metadata(conn, instance["uuid"], instance["metadata"], replace=False)
    if instance.get("tags"):
        set_tags(conn, instance["uuid"], instance["tags"], replace=False)


def add_fault(conn: sa.Connection, instance_uuid: str, *, code: int, message: str,
              details: str = "", host: str | None = None) -> None:
    """Record why the instance failed (Nova's InstanceFault); the newest one is shown."""
    conn.execute(sa.insert(instance_faults).values(
        instance_uuid=instance_uuid, code=code, message=message[:255], details=details,
        host=host, created_at=utcnow()))


def latest_faults(conn: sa.Connection, instance_uuids: list[str]) -> dict[str, dict]:
    """The newest fault of each instance that has one (one query)."""
    if not instance_uuids:
        return {}
    newest = (sa.select(sa.func.max(instance_faults.c.id))
              .where(instance_faults.c.instance_uuid.in_(instance_uuids))
              .group_by(instance_faults.c.instance_uuid))
    rows = conn.execute(sa.select(instance_faults)
                        .where(instance_faults.c.id.in_(newest))).mappings()
    return {row["instance_uuid"]: dict(row) for row in rows}


def update(conn: sa.Connection, instance_uuid: str, changes: dict) -> None:
    result = conn.execute(sa.update(instances)
                          .where(instances.c.uuid == instance_uuid, instances.c.deleted == 0)
                          .values(**changes, updated_at=utcnow()))
    if result.rowcount == 0:
        raise NoSuchRow(instance_uuid)


def update_if(conn: sa.Connection, instance_uuid: str, changes: dict, *,
              vm_states: Iterable[str], task_states: Iterable[str | None]) -> bool:
    """Apply ``changes`` only while the instance is in one of these states (atomic).

    False when it is not (another action got there first, or it is in the wrong state):
    Nova's ``expected_task_state`` check, done by the UPDATE itself so two racing actions
    cannot both start.
    """
    task_states = list(task_states)
    allowed_tasks = [t for t in task_states if t is not None]
    task_match = [instances.c.task_state.in_(allowed_tasks)] if allowed_tasks else []
    if None in task_states:
        task_match.append(instances.c.task_state.is_(None))
    result = conn.execute(sa.update(instances)
                          .where(instances.c.uuid == instance_uuid, instances.c.deleted == 0,
                                 instances.c.vm_state.in_(list(vm_states)),
                                 sa.or_(*task_match))
                          .values(**changes, updated_at=utcnow()))
    return result.rowcount == 1


def soft_delete(conn: sa.Connection, instance_uuid: str) -> None:
    """Mark the instance deleted (deleted = its id, as Nova does); NoSuchRow if it is not live."""
    now = utcnow()
    result = conn.execute(sa.update(instances)
                          .where(instances.c.uuid == instance_uuid, instances.c.deleted == 0)
                          .values(deleted=instances.c.id, deleted_at=now, terminated_at=now,
                                  vm_state="deleted", task_state=None, updated_at=now))
    if result.rowcount == 0:
        raise NoSuchRow(instance_uuid)


def set_metadata(conn: sa.Connection, instance_uuid: str, items: dict[str, str],
                 replace: bool) -> None:
    """Set ``items``; with ``replace`` every other key is removed."""
    table = instance_metadata
    if replace:
        conn.execute(sa.delete(table).where(table.c.instance_uuid == instance_uuid))
    elif items:
        conn.execute(sa.delete(table).where(table.c.instance_uuid == instance_uuid,
                                            table.c.key.in_(list(items))))
    if items:
        conn.execute(sa.insert(table), [{"instance_uuid": instance_uuid, "key": k, "value": v,
                                         "created_at": utcnow()} for k, v in items.items()])


def delete_metadata_key(conn: sa.Connection, instance_uuid: str, key: str) -> None:
    result = conn.execute(sa.delete(instance_metadata)
                          .where(instance_metadata.c.instance_uuid == instance_uuid,
                                 instance_metadata.c.key == key))
    if result.rowcount == 0:
        raise NoSuchRow(key)


def set_tags(conn: sa.Connection, instance_uuid: str, new_tags: Iterable[str],
             replace: bool) -> None:
    if replace:
        conn.execute(sa.delete(tags).where(tags.c.resource_id == instance_uuid))
    existing = set(conn.execute(sa.select(tags.c.tag)
                                .where(tags.c.resource_id == instance_uuid)).scalars())
    rows = [{"resource_id": instance_uuid, "tag": tag}
            for tag in dict.fromkeys(new_tags) if tag not in existing]
    if rows:
        conn.execute(sa.insert(tags), rows)


def delete_tag(conn: sa.Connection, instance_uuid: str, tag: str | None) -> None:
    """Delete one tag (NoSuchRow if absent), or every tag when ``tag`` is None."""
    query = sa.delete(tags).where(tags.c.resource_id == instance_uuid)
    if tag is not None:
        query = query.where(tags.c.tag == tag)
    if conn.execute(query).rowcount == 0 and tag is not None:
        raise NoSuchRow(tag)


def usage(cells: CellDatabases, project_id: str, user_id: str | None = None
          ) -> dict[str, int]:
    """instances, cores and ram used by live instances of the project in every cell.

    A cell that does not answer is left out (and logged by scatter_gather): usage is then
    under-counted rather than the request failing, as Nova does.
    """
    conditions = [instances.c.project_id == project_id, instances.c.deleted == 0]
    if user_id is not None:
        conditions.append(instances.c.user_id == user_id)
    query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(instances.c.vcpus), 0),
                      sa.func.coalesce(sa.func.sum(instances.c.memory_mb), 0)
                      ).where(*conditions)

    def count(cell, engine: sa.Engine):
        with engine.connect() as conn:
            return conn.execute(query).one()

    totals = {"instances": 0, "cores": 0, "ram": 0}
    for result in cells.scatter_gather(cells.cells(), count).values():
        if is_cell_failure(result):
            continue
        totals["instances"] += int(result[0])
        totals["cores"] += int(result[1])
        totals["ram"] += int(result[2])
    return totals
