"""Aggregates a provider belongs to; replacing them bumps the generation from 1.19."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.placement import db
from stratus.placement import schema as t

rpa, agg = t.resource_provider_aggregates, t.placement_aggregates


def for_provider(conn: sa.Connection, provider_id: int) -> list[str]:
    return list(conn.execute(
        sa.select(agg.c.uuid).select_from(rpa.join(agg, agg.c.id == rpa.c.aggregate_id))
        .where(rpa.c.resource_provider_id == provider_id).order_by(agg.c.uuid)).scalars())


def replace(conn: sa.Connection, provider_id: int, uuids: list[str]) -> None:
    """Make ``uuids`` the provider's whole set of aggregates."""
    ids = db.ensure_named(conn, agg, "uuid", uuids) if uuids else {}
    current = set(conn.execute(db.by_parent(rpa, "aggregate_id", "resource_provider_id"),
                               {"parent": provider_id}).scalars())
    wanted = set(ids.values())
    if current - wanted:
        conn.execute(rpa.delete().where(rpa.c.resource_provider_id == provider_id,
                                        rpa.c.aggregate_id.in_(current - wanted)))
    if wanted - current:
        conn.execute(rpa.insert(), [{"resource_provider_id": provider_id, "aggregate_id": i,
                                     **db.stamps()} for i in sorted(wanted - current)])
