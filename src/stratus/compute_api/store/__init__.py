"""Data access of the compute API (SQLAlchemy Core on the API and cell databases)."""

from __future__ import annotations

import sqlalchemy as sa


class Duplicate(Exception):
    """A row with the same unique key exists."""


class NoSuchRow(LookupError):
    """The row asked for does not exist (or the caller may not see it)."""


def insert_unique(conn: sa.Connection, statement: sa.Insert) -> sa.CursorResult:
    """Run an INSERT inside a savepoint; a unique-key collision raises Duplicate.

    Write paths put their first write before any read where they can: on SQLite a
    transaction that has read cannot become a writer once another connection has
    committed (SQLITE_BUSY at once, the busy timeout does not apply).
    """
    try:
        with conn.begin_nested():
            return conn.execute(statement)
    except sa.exc.IntegrityError:
        raise Duplicate() from None
