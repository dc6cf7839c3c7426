"""Small SQL helpers every placement data module uses."""

from __future__ import annotations

import datetime

import sqlalchemy as sa


def utcnow() -> datetime.datetime:
    """Timestamps are stored naive UTC, to the second (Last-Modified has no finer grain)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)


def stamps() -> dict:
    now = utcnow()
    return {"created_at": now, "updated_at": now}


def is_duplicate(exc: sa.exc.IntegrityError) -> bool:
    """True when ``exc`` is a unique-constraint violation on any backend."""
    text = str(exc.orig).lower()
    return "unique" in text or "duplicate" in text


def ensure_named(conn: sa.Connection, table: sa.Table, column: str,
                 values) -> dict[str, int]:
    """{value: id} for ``values`` in a (id, unique name) table, inserting the missing ones.

    A concurrent insert of the same name is tolerated: the savepoint rolls back and the
    row the other writer made is read instead.
    """
    key = table.c[column]
    wanted = set(values)
    found = ids_of(conn, table, column, wanted)
    for value in sorted(wanted - set(found)):
        try:
            with conn.begin_nested():
                found[value] = conn.execute(table.insert().values(
                    {column: value, **stamps()})).inserted_primary_key[0]
        except sa.exc.IntegrityError:
            # A locking read sees the other writer's committed row even where a plain
            # read would not (InnoDB's REPEATABLE READ keeps the transaction's snapshot).
            found[value] = conn.execute(sa.select(table.c.id).where(key == value)
                                        .with_for_update(read=True)).scalar_one()
    return found


def ids_of(conn: sa.Connection, table: sa.Table, column: str, values) -> dict:
    """{value: id} for the ``values`` of ``column`` that exist in ``table``."""
    values = list(values)
    if not values:
        return {}
    return dict(conn.execute(_lookup(table, column), {"values": values}).all())


def by_parent(table: sa.Table, column: str, parent_column: str) -> sa.Select:
    """SELECT column WHERE parent_column = :parent, built once per (table, columns)."""
    key = (table.name, column, parent_column)
    statement = _BY_PARENT.get(key)
    if statement is None:
        statement = _BY_PARENT[key] = sa.select(table.c[column]).where(
            table.c[parent_column] == sa.bindparam("parent"))
    return statement


_LOOKUPS: dict[tuple[str, str], sa.Select] = {}
_BY_PARENT: dict[tuple[str, str, str], sa.Select] = {}


def _lookup(table: sa.Table, column: str) -> sa.Select:
    """SELECT column, id WHERE column IN :values, built once per table (never invalidated:
    tables do not change at run time)."""
    statement = _LOOKUPS.get((table.name, column))
    if statement is None:
        key = table.c[column]
        statement = sa.select(key, table.c.id).where(
            key.in_(sa.bindparam("values", expanding=True)))
        _LOOKUPS[(table.name, column)] = statement
    return statement
