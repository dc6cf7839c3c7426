"""Moving a server from its build request into a cell database, or into cell0 in ERROR.

The cell instance is written first, then one API-database transaction drops the build
request and points the instance mapping at the cell. If the build request is gone by then
the user deleted the server while it was being scheduled: the cell instance is removed
again and the caller releases what it claimed. Readers never miss the server meanwhile:
while both exist the listing shows the build request and lookups follow the mapping.
"""

from __future__ import annotations

import sqlalchemy as sa

from stratus.cells.mappings import CellDatabases, CellMapping
from stratus.cells.schema_cell import (
    instance_actions,
    instance_actions_events,
    instance_faults,
    instance_info_caches,
    instance_metadata,
    instances,
    tags,
)
from stratus.common.context import RequestContext
from stratus.compute_api.store import build_requests as build_store
from stratus.compute_api.store import instance_actions as action_store
from stratus.compute_api.store import instances as instance_store

NO_VALID_HOST = "No valid host was found."


def land(cells: CellDatabases, cell: CellMapping, instance: dict,
         context: RequestContext) -> bool:
    """Create ``instance`` in ``cell`` and hand the server over to it.

    False when the server was deleted meanwhile (nothing of it is left in the cell then).
    """
    uuid = instance["uuid"]
    with cells.engine(cell).begin() as conn:
        instance_store.create(conn, instance)
        action_store.record(conn, uuid, "create", context)
    with cells.api_engine.begin() as conn:
        taken = build_store.take(conn, uuid, cell.id)
    if not taken:
        _remove(cells, cell, uuid)
    return taken


def bury_in_cell0(cells: CellDatabases, instance: dict, message: str,
                  context: RequestContext) -> bool:
    """The server found no host: it lives on in cell0, in ERROR with ``message`` as fault."""
    cell0 = next(cell for cell in cells.cells() if cell.is_cell0)
    failed = {**instance, "vm_state": "error", "task_state": None, "host": None,
              "node": None}
    uuid = instance["uuid"]
    with cells.engine(cell0).begin() as conn:
        instance_store.create(conn, failed)
        action_store.record(conn, uuid, "create", context)
        instance_store.add_fault(conn, uuid, code=500, message=message)
    with cells.api_engine.begin() as conn:
        taken = build_store.take(conn, uuid, cell0.id)
    if not taken:
        _remove(cells, cell0, uuid)
    return taken


def no_valid_host_message(reason: str) -> str:
    """Nova's fault message: "No valid host was found. <reason>" (the prefix once)."""
    reason = reason.strip()
    if reason.startswith(NO_VALID_HOST):
        return reason
    return f"{NO_VALID_HOST} {reason}".strip()


def fail_build(cells: CellDatabases, cell: CellMapping, instance_uuid: str, *,
               message: str, details: str = "", host: str | None = None) -> None:
    """A build that ran out of hosts: ERROR, no host, and the last fault recorded."""
    with cells.engine(cell).begin() as conn:
        instance_store.update(conn, instance_uuid, {"vm_state": "error", "task_state": None,
                                                    "host": None, "node": None})
        instance_store.add_fault(conn, instance_uuid, code=500, message=message,
                                 details=details, host=host)


def _remove(cells: CellDatabases, cell: CellMapping, instance_uuid: str) -> None:
    """Hard-delete an instance that never became visible in this cell, with its rows."""
    actions = sa.select(instance_actions.c.id).where(
        instance_actions.c.instance_uuid == instance_uuid)
    with cells.engine(cell).begin() as conn:
        conn.execute(sa.delete(instance_actions_events)
                     .where(instance_actions_events.c.action_id.in_(actions)))
        conn.execute(sa.delete(instance_actions)
                     .where(instance_actions.c.instance_uuid == instance_uuid))
        conn.execute(sa.delete(instance_faults)
                     .where(instance_faults.c.instance_uuid == instance_uuid))
        conn.execute(sa.delete(instance_metadata)
                     .where(instance_metadata.c.instance_uuid == instance_uuid))
        conn.execute(sa.delete(tags).where(tags.c.resource_id == instance_uuid))
        conn.execute(sa.delete(instance_info_caches)
                     .where(instance_info_caches.c.instance_uuid == instance_uuid))
        conn.execute(sa.delete(instances).where(instances.c.uuid == instance_uuid))
