"""Host aggregates, their hosts and metadata, in the API database.

Placement mirroring (each aggregate as a placement provider aggregate) is not done here
yet: it belongs with the scheduling work, which owns the placement client.
"""

from __future__ import annotations

import uuid as uuidlib

import sqlalchemy as sa

from stratus.cells.schema_api import aggregate_hosts, aggregate_metadata, aggregates, utcnow
from stratus.compute_api.store import Duplicate, NoSuchRow, insert_unique
from stratus.compute_api.store.availability_zones import KEY as AZ_KEY


def _load(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    ids = [row["id"] for row in rows]
    hosts: dict[int, list[str]] = {i: [] for i in ids}
    metadata: dict[int, dict] = {i: {} for i in ids}
    if ids:
        for agg_id, host in conn.execute(
                sa.select(aggregate_hosts.c.aggregate_id, aggregate_hosts.c.host)
                .where(aggregate_hosts.c.aggregate_id.in_(ids)).order_by(aggregate_hosts.c.id)):
            hosts[agg_id].append(host)
        for agg_id, key, value in conn.execute(
                sa.select(aggregate_metadata.c.aggregate_id, aggregate_metadata.c.key,
                          aggregate_metadata.c.value)
                .where(aggregate_metadata.c.aggregate_id.in_(ids))):
            metadata[agg_id][key] = value
    return [{**row, "hosts": hosts[row["id"]], "metadata": metadata[row["id"]]} for row in rows]


def list_aggregates(conn: sa.Connection) -> list[dict]:
    rows = conn.execute(sa.select(aggregates).order_by(aggregates.c.id)).mappings()
    return _load(conn, [dict(row) for row in rows])


def get(conn: sa.Connection, aggregate_id: int) -> dict:
    row = conn.execute(sa.select(aggregates)
                       .where(aggregates.c.id == aggregate_id)).mappings().first()
    if row is None:
        raise NoSuchRow(aggregate_id)
    return _load(conn, [dict(row)])[0]


def create(conn: sa.Connection, name: str) -> int:
    try:
        result = insert_unique(conn, sa.insert(aggregates).values(
            uuid=str(uuidlib.uuid4()), name=name, created_at=utcnow()))
    except Duplicate:
        raise Duplicate(name) from None
    return result.inserted_primary_key[0]


def rename(conn: sa.Connection, aggregate_id: int, name: str) -> None:
    clash = conn.execute(sa.select(aggregates.c.id).where(aggregates.c.name == name,
                                                          aggregates.c.id != aggregate_id)
                         ).first()
    if clash is not None:
        raise Duplicate(name)
    conn.execute(sa.update(aggregates).where(aggregates.c.id == aggregate_id)
                 .values(name=name, updated_at=utcnow()))


def delete(conn: sa.Connection, aggregate_id: int) -> None:
    conn.execute(sa.delete(aggregate_metadata)
                 .where(aggregate_metadata.c.aggregate_id == aggregate_id))
    conn.execute(sa.delete(aggregates).where(aggregates.c.id == aggregate_id))


def set_metadata(conn: sa.Connection, aggregate_id: int, changes: dict[str, str | None]) -> None:
    """Set each key; a None value deletes the key."""
    table = aggregate_metadata
    if changes:
        conn.execute(sa.delete(table).where(table.c.aggregate_id == aggregate_id,
                                            table.c.key.in_(list(changes))))
    rows = [{"aggregate_id": aggregate_id, "key": key, "value": value, "created_at": utcnow()}
            for key, value in changes.items() if value is not None]
    if rows:
        conn.execute(sa.insert(table), rows)
    conn.execute(sa.update(aggregates).where(aggregates.c.id == aggregate_id)
                 .values(updated_at=utcnow()))


def add_host(conn: sa.Connection, aggregate_id: int, host: str) -> None:
    insert_unique(conn, sa.insert(aggregate_hosts).values(
        aggregate_id=aggregate_id, host=host, created_at=utcnow()))


def remove_host(conn: sa.Connection, aggregate_id: int, host: str) -> None:
    result = conn.execute(sa.delete(aggregate_hosts)
                          .where(aggregate_hosts.c.aggregate_id == aggregate_id,
                                 aggregate_hosts.c.host == host))
    if result.rowcount == 0:
        raise NoSuchRow(host)


def zones_of_hosts(conn: sa.Connection, hosts: list[str], *, excluding: int) -> set[str]:
    """Zones that aggregates other than ``excluding`` give any of ``hosts``."""
    if not hosts:
        return set()
    rows = conn.execute(
        sa.select(aggregate_metadata.c.value)
        .join(aggregate_hosts,
              aggregate_hosts.c.aggregate_id == aggregate_metadata.c.aggregate_id)
        .where(aggregate_metadata.c.key == AZ_KEY, aggregate_hosts.c.host.in_(hosts),
               aggregate_metadata.c.aggregate_id != excluding))
    return set(rows.scalars())
