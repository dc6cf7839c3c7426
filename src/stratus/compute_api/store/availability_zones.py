"""Availability zones: named by aggregates' availability_zone metadata, plus the default."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.cells.schema_api import aggregate_hosts, aggregate_metadata

DEFAULT_ZONE = "nova"
KEY = "availability_zone"


def zone_hosts(conn: sa.Connection) -> dict[str, set[str]]:
    """Every zone an aggregate names, with the hosts of those aggregates."""
    rows = conn.execute(
        sa.select(aggregate_metadata.c.value, aggregate_hosts.c.host)
        .select_from(aggregate_metadata.outerjoin(
            aggregate_hosts, aggregate_hosts.c.aggregate_id == aggregate_metadata.c.aggregate_id))
        .where(aggregate_metadata.c.key == KEY))
    zones: dict[str, set[str]] = {}
    for zone, host in rows:
        zones.setdefault(zone, set())
        if host is not None:
            zones[zone].add(host)
    return zones


def known_zones(conn: sa.Connection) -> set[str]:
    return set(zone_hosts(conn)) | {DEFAULT_ZONE}
