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

import sqlalchemy as sa

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
