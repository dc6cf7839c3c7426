"""Key pairs of each user, in the API database."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.cells.schema_api import key_pairs, utcnow
from stratus.compute_api.store import NoSuchRow, insert_unique


def get(conn: sa.Connection, user_id: str, name: str) -> dict:
    row = conn.execute(sa.select(key_pairs).where(key_pairs.c.user_id == user_id,
                                                  key_pairs.c.name == name)).mappings().first()
    if row is None:
        raise NoSuchRow(name)
    return dict(row)


def list_keypairs(conn: sa.Connection, user_id: str, *, limit: int | None = None,
                  marker: str | None = None) -> list[dict]:
    """A user's key pairs by name; after ``marker`` (a name, which must exist)."""
    query = sa.select(key_pairs).where(key_pairs.c.user_id == user_id)
    if marker is not None:
        get(conn, user_id, marker)
        query = query.where(key_pairs.c.name > marker)
    query = query.order_by(key_pairs.c.name)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def count(conn: sa.Connection, user_id: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(key_pairs)
                        .where(key_pairs.c.user_id == user_id)).scalar_one()


def create(conn: sa.Connection, *, user_id: str, name: str, public_key: str, fingerprint: str,
           key_type: str) -> dict:
    insert_unique(conn, sa.insert(key_pairs).values(
        user_id=user_id, name=name, public_key=public_key, fingerprint=fingerprint,
        type=key_type, created_at=utcnow()))
    return get(conn, user_id, name)


def delete(conn: sa.Connection, user_id: str, name: str) -> None:
    result = conn.execute(sa.delete(key_pairs).where(key_pairs.c.user_id == user_id,
                                                     key_pairs.c.name == name))
    if result.rowcount == 0:
        raise NoSuchRow(name)
