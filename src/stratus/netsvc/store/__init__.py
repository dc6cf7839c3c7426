"""Network data access: one module per resource, plain dicts in and out.

Every write runs in :func:`transaction`, which retries the whole transaction when the
database reports a lost race (a unique key another writer took first, a deadlock, a
serialization failure); the retried attempt then sees the winner's rows and either
succeeds or raises the API error that describes the conflict.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")
ATTEMPTS = 20


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the caller's project, and whether it is a cloud admin."""

    project_id: str | None
    is_admin: bool


class LostRace(Exception):
    """Raised inside a transaction to ask :func:`transaction` for another attempt."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


def stamp(values: dict) -> dict:
    """Standard attributes of a new row."""
    moment = now()
    return {"id": new_id(), "revision_number": 0, "created_at": moment,
            "updated_at": moment, **values}


def dumps(value) -> str:
    return json.dumps(value, sort_keys=True)


def loads(text: str | None):
    return json.loads(text) if text else None


def _retriable(exc: sa.exc.DBAPIError) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    text = str(exc.orig).lower()
    return any(word in text for word in ("deadlock", "could not serialize", "locked",
                                         "lock wait timeout"))


def transaction(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work`` in one write transaction, again (from scratch) after a lost race."""
    for attempt in range(ATTEMPTS):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            if attempt == ATTEMPTS - 1 or not _retriable(exc):
                raise
        except LostRace:
            if attempt == ATTEMPTS - 1:
                raise
        time.sleep(random.uniform(0, 0.005 * (2 ** min(attempt, 6))))
    raise AssertionError("unreachable")


def locking(conn: sa.Connection, stmt: sa.Select) -> sa.Select:
    """``FOR UPDATE`` where the database has it (SQLite serializes writers instead)."""
    return stmt if conn.dialect.name == "sqlite" else stmt.with_for_update()


def bump(conn: sa.Connection, table: sa.Table, row_id: str, values: dict) -> None:
    """Update a row's columns, its revision number and updated_at."""
    conn.execute(table.update().where(table.c.id == row_id).values(
        **values, revision_number=table.c.revision_number + 1, updated_at=now()))


def timestamps(row: dict) -> dict:
    return {"created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"])}


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"
