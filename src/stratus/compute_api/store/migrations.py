"""Migration records in the instance's cell database: one per resize, cold migration or
evacuation, with Nova's statuses.

A resize or cold migration goes ``pre-migrating`` → ``migrating`` → ``post-migrating`` →
``finished``, then ``confirming`` → ``confirmed`` or ``reverting`` → ``reverted``; an
evacuation goes ``accepted`` → ``done``, and ``completed`` once its source host has
cleaned up. A move that fails ends ``error``. The record's uuid is also the Placement
consumer that holds the source host's allocation while the move is undecided.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass

import sqlalchemy as sa

from stratus.cells.mappings import CellDatabases, CellMapping, is_cell_failure
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import migrations
from stratus.compute_api.store import NoSuchRow

RESIZE, MIGRATION, EVACUATION = "resize", "migration", "evacuation"


def create(conn: sa.Connection, instance: dict, migration_type: str, status: str, *,
           old_flavor_id: int | None, new_flavor_id: int | None,
           dest_compute: str | None = None) -> dict:
    """A new record for ``instance`` moving off its current host; returns it."""
    values = {
        "uuid": str(uuidlib.uuid4()), "instance_uuid": instance["uuid"],
        "migration_type": migration_type, "status": status,
        "source_compute": instance.get("host"), "source_node": instance.get("node"),
        "dest_compute": dest_compute, "old_instance_type_id": old_flavor_id,
        "new_instance_type_id": new_flavor_id, "user_id": instance.get("user_id"),
        "project_id": instance.get("project_id"), "created_at": utcnow(),
    }
    conn.execute(sa.insert(migrations).values(**values))
    return get(conn, values["uuid"])


def get(conn: sa.Connection, migration_uuid: str) -> dict:
    row = conn.execute(sa.select(migrations).where(migrations.c.uuid == migration_uuid,
                                                   migrations.c.deleted == 0)).mappings().first()
    if row is None:
        raise NoSuchRow(migration_uuid)
    return dict(row)


def latest(conn: sa.Connection, instance_uuid: str, statuses: tuple[str, ...]) -> dict | None:
    """The instance's newest record in one of ``statuses``, or None."""
    row = conn.execute(sa.select(migrations)
                       .where(migrations.c.instance_uuid == instance_uuid,
                              migrations.c.status.in_(statuses), migrations.c.deleted == 0)
                       .order_by(migrations.c.id.desc())).mappings().first()
    return dict(row) if row else None


def update(conn: sa.Connection, migration_uuid: str, changes: dict, *,
           from_status: tuple[str, ...] | None = None) -> bool:
    """Apply ``changes``; with ``from_status`` only while the record is in one of them."""
    query = sa.update(migrations).where(migrations.c.uuid == migration_uuid)
    if from_status is not None:
        query = query.where(migrations.c.status.in_(from_status))
    return conn.execute(query.values(**changes, updated_at=utcnow())).rowcount == 1


def evacuated_from(conn: sa.Connection, host: str) -> list[dict]:
    """Evacuations off ``host`` whose source has not cleaned up yet (status ``done``)."""
    rows = conn.execute(sa.select(migrations)
                        .where(migrations.c.source_compute == host,
                               migrations.c.migration_type == EVACUATION,
                               migrations.c.status == "done",
                               migrations.c.deleted == 0)).mappings()
    return [dict(row) for row in rows]


def evacuating_from(conn: sa.Connection, host: str) -> set[str]:
    """Servers whose evacuation off ``host`` has not finished yet."""
    return set(conn.execute(sa.select(migrations.c.instance_uuid)
                            .where(migrations.c.source_compute == host,
                                   migrations.c.migration_type == EVACUATION,
                                   migrations.c.status.in_(("accepted", "pre-migrating")),
                                   migrations.c.deleted == 0)).scalars())


# --- reading them back for the API (os-migrations, /servers/{id}/migrations) ---------------

LIVE_MIGRATION = "live-migration"
# What Nova counts as a live migration in progress (nova.db migration_get_in_progress_by_
# instance); Stratus starts none, but a record in one of these states would be listed.
LIVE_IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")


@dataclass(frozen=True)
class Filters:
    """What GET /os-migrations filters on, as Nova's database layer reads its query.

    ``host`` matches either end and, when given, wins over ``source_compute`` (Nova's
    ``elif``); ``node`` matches either node. ``hidden`` records are never listed.
    """

    host: str | None = None
    source_compute: str | None = None
    node: str | None = None
    status: str | None = None
    migration_type: str | None = None
    instance_uuid: str | None = None
    uuid: str | None = None
    user_id: str | None = None
    project_id: str | None = None


def _filtered(filters: Filters) -> sa.Select:
    c = migrations.c
    query = sa.select(migrations).where(c.deleted == 0, c.hidden == sa.false())
    if filters.host is not None:
        query = query.where(sa.or_(c.source_compute == filters.host,
                                   c.dest_compute == filters.host))
    elif filters.source_compute is not None:
        query = query.where(c.source_compute == filters.source_compute)
    if filters.node is not None:
        query = query.where(sa.or_(c.source_node == filters.node, c.dest_node == filters.node))
    for column, value in ((c.status, filters.status), (c.migration_type, filters.migration_type),
                          (c.instance_uuid, filters.instance_uuid), (c.uuid, filters.uuid),
                          (c.user_id, filters.user_id), (c.project_id, filters.project_id)):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(c.id)


def list_in_cells(cells: CellDatabases, filters: Filters
                  ) -> tuple[list[dict], list[CellMapping]]:
    """(records matching ``filters`` in every cell but cell0, the cells that did not answer).

    Cell by cell in cell order, each in id order: what Nova's unsorted listing (before
    2.59) gives, with a cell that does not answer left out instead of failing the call.
    """
    query = _filtered(filters)

    def run(cell: CellMapping, engine: sa.Engine) -> list[dict]:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    targets = cells.cells(include_cell0=False)
    results = cells.scatter_gather(targets, run)
    found, down = [], []
    for cell in targets:
        result = results[cell.uuid]
        if is_cell_failure(result):
            down.append(cell)
        else:
            found.extend(result)
    return found, down


def live_in_progress(conn: sa.Connection, instance_uuid: str) -> list[dict]:
    """The instance's live migrations in progress, oldest first."""
    c = migrations.c
    rows = conn.execute(sa.select(migrations)
                        .where(c.instance_uuid == instance_uuid, c.deleted == 0,
                               c.migration_type == LIVE_MIGRATION,
                               c.status.in_(LIVE_IN_PROGRESS))
                        .order_by(c.id)).mappings()
    return [dict(row) for row in rows]


def get_for_instance(conn: sa.Connection, migration_id: int, instance_uuid: str) -> dict:
    """The record with integer ``migration_id`` of the instance; NoSuchRow if it has none."""
    row = conn.execute(sa.select(migrations)
                       .where(migrations.c.id == migration_id,
                              migrations.c.instance_uuid == instance_uuid,
                              migrations.c.deleted == 0)).mappings().first()
    if row is None:
        raise NoSuchRow(str(migration_id))
    return dict(row)
