"""Traits: the standard set from os-traits and CUSTOM_* ones."""

from __future__ import annotations

import os_traits
import sqlalchemy as sa

from stratus.placement import db
from stratus.placement import schema as t
from stratus.placement.schema import traits

STANDARD = frozenset(os_traits.get_traits())


def ensure_standard(conn: sa.Connection) -> None:
    """Insert the standard traits the database does not have yet."""
    have = set(conn.execute(sa.select(traits.c.name)).scalars())
    missing = [{"name": name, **db.stamps()} for name in sorted(STANDARD - have)]
    if missing:
        conn.execute(traits.insert(), missing)


def ids_for(conn: sa.Connection, names) -> dict[str, int]:
    """{name: id} of the traits in ``names`` that exist."""
    return db.ids_of(conn, traits, "name", names)


def for_provider(conn: sa.Connection, provider_id: int) -> list[str]:
    rpt = t.resource_provider_traits
    return list(conn.execute(
        sa.select(traits.c.name).select_from(rpt.join(traits, traits.c.id == rpt.c.trait_id))
        .where(rpt.c.resource_provider_id == provider_id).order_by(traits.c.name)).scalars())


def replace_for_provider(conn: sa.Connection, provider_id: int, ids: set[int]) -> None:
    """Make the trait ids ``ids`` the provider's whole set of traits."""
    rpt = t.resource_provider_traits
    current = set(conn.execute(db.by_parent(rpt, "trait_id", "resource_provider_id"),
                               {"parent": provider_id}).scalars())
    if current - ids:
        conn.execute(rpt.delete().where(rpt.c.resource_provider_id == provider_id,
                                        rpt.c.trait_id.in_(current - ids)))
    if ids - current:
        conn.execute(rpt.insert(), [{"resource_provider_id": provider_id, "trait_id": i,
                                     **db.stamps()} for i in sorted(ids - current)])


def list_traits(conn: sa.Connection, *, names: list[str] | None = None,
                prefix: str | None = None, associated: bool | None = None) -> list[str]:
    """Trait names, filtered by exact names, a name prefix and/or being on any provider."""
    rpt = t.resource_provider_traits
    query = sa.select(traits.c.name)
    if names is not None:
        query = query.where(traits.c.name.in_(names))
    if prefix is not None:
        query = query.where(traits.c.name.startswith(prefix, autoescape=True))
    if associated is not None:
        used = sa.exists().where(rpt.c.trait_id == traits.c.id)
        query = query.where(used if associated else ~used)
    return list(conn.execute(query.order_by(traits.c.name)).scalars())


def create(conn: sa.Connection, name: str) -> bool:
    """Create a custom trait; False if it existed already."""
    if conn.execute(sa.select(traits.c.id).where(traits.c.name == name)).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(traits.insert().values(name=name, **db.stamps()))
    except sa.exc.IntegrityError:
        return False
    return True


def get(conn: sa.Connection, name: str) -> sa.Row | None:
    return conn.execute(sa.select(traits).where(traits.c.name == name)).first()


def in_use(conn: sa.Connection, trait_id: int) -> bool:
    rpt = t.resource_provider_traits
    return conn.execute(sa.select(rpt.c.trait_id).where(rpt.c.trait_id == trait_id)
                        .limit(1)).first() is not None


def delete(conn: sa.Connection, trait_id: int) -> None:
    conn.execute(traits.delete().where(traits.c.id == trait_id))
