"""Flavors, their extra specs and project access, in the API database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stratus.cells.schema_api import flavor_extra_specs, flavor_projects, flavors, utcnow
from stratus.compute_api.store import Duplicate, NoSuchRow, insert_unique

SORT_KEYS = ("created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
             "is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap",
             "updated_at", "vcpu_weight", "vcpus")


def _visible(project_id: str | None) -> sa.ColumnElement:
    """Public flavors, and the private ones ``project_id`` was given access to."""
    if project_id is None:
        return sa.true()
    has_access = sa.exists().where(flavor_projects.c.flavor_id == flavors.c.id,
                                   flavor_projects.c.project_id == project_id)
    return sa.or_(flavors.c.is_public == sa.true(), has_access)


def get(conn: sa.Connection, flavorid: str, *, project_id: str | None = None) -> dict:
    """The flavor with this flavor id that ``project_id`` may see (None: any)."""
    row = conn.execute(sa.select(flavors).where(flavors.c.flavorid == flavorid,
                                                _visible(project_id))).mappings().first()
    if row is None:
        raise NoSuchRow(flavorid)
    return dict(row)


def list_flavors(conn: sa.Connection, *, project_id: str | None, is_public: bool | None,
                 min_ram: int | None, min_disk: int | None, sort_key: str, sort_dir: str,
                 limit: int, marker: str | None) -> list[dict]:
    """One page of flavors; ``is_public`` None lists public and private alike."""
    query = sa.select(flavors).where(_visible(project_id))
    if is_public is not None:
        query = query.where(flavors.c.is_public == is_public)
    if min_ram is not None:
        query = query.where(flavors.c.memory_mb >= min_ram)
    if min_disk is not None:
        query = query.where(flavors.c.root_gb >= min_disk)
    column = flavors.c[sort_key]
    order = [column.desc() if sort_dir == "desc" else column.asc(),
             flavors.c.id.desc() if sort_dir == "desc" else flavors.c.id.asc()]
    if marker is not None:
        mark = conn.execute(sa.select(flavors).where(flavors.c.flavorid == marker,
                                                     _visible(project_id))).mappings().first()
        if mark is None:
            raise NoSuchRow(marker)
        beyond = (lambda c, v: c < v) if sort_dir == "desc" else (lambda c, v: c > v)
        value = mark[sort_key]
        query = query.where(sa.or_(beyond(column, value),
                                   sa.and_(column == value, beyond(flavors.c.id, mark["id"])))
                            if value is not None else beyond(flavors.c.id, mark["id"]))
    rows = conn.execute(query.order_by(*order).limit(limit)).mappings()
    return [dict(row) for row in rows]


def create(conn: sa.Connection, values: dict[str, Any]) -> dict:
    """Insert a flavor; Duplicate names which unique key ("name" or "flavorid") collided.

    The INSERT comes first so the transaction starts as a writer (see store.insert_unique).
    """
    try:
        insert_unique(conn, sa.insert(flavors).values(**values, created_at=utcnow()))
    except Duplicate:
        clash = conn.execute(sa.select(flavors.c.id)
                             .where(flavors.c.name == values["name"])).first()
        raise Duplicate("name" if clash is not None else "flavorid") from None
    return get(conn, values["flavorid"])


def delete(conn: sa.Connection, flavorid: str) -> None:
    """Delete a flavor with its extra specs and access (one write first, then by id)."""
    own = sa.select(flavors.c.id).where(flavors.c.flavorid == flavorid).scalar_subquery()
    conn.execute(sa.delete(flavor_extra_specs).where(flavor_extra_specs.c.flavor_id == own))
    conn.execute(sa.delete(flavor_projects).where(flavor_projects.c.flavor_id == own))
    if conn.execute(sa.delete(flavors).where(flavors.c.flavorid == flavorid)).rowcount == 0:
        raise NoSuchRow(flavorid)


def update_description(conn: sa.Connection, flavorid: str, description: str | None) -> dict:
    flavor = get(conn, flavorid)
    conn.execute(sa.update(flavors).where(flavors.c.id == flavor["id"])
                 .values(description=description, updated_at=utcnow()))
    return get(conn, flavorid)


# --- extra specs ---------------------------------------------------------------------------

def extra_specs(conn: sa.Connection, flavor_id: int) -> dict[str, str]:
    rows = conn.execute(sa.select(flavor_extra_specs.c.key, flavor_extra_specs.c.value)
                        .where(flavor_extra_specs.c.flavor_id == flavor_id)
                        .order_by(flavor_extra_specs.c.key))
    return {key: value for key, value in rows}


def set_extra_specs(conn: sa.Connection, flavor_id: int, specs: dict[str, str]) -> None:
    """Create or replace each key of ``specs``; other keys are kept."""
    if not specs:
        return
    conn.execute(sa.delete(flavor_extra_specs)
                 .where(flavor_extra_specs.c.flavor_id == flavor_id,
                        flavor_extra_specs.c.key.in_(list(specs))))
    conn.execute(sa.insert(flavor_extra_specs),
                 [{"flavor_id": flavor_id, "key": key, "value": value,
                   "created_at": utcnow()} for key, value in specs.items()])


def delete_extra_spec(conn: sa.Connection, flavor_id: int, key: str) -> None:
    result = conn.execute(sa.delete(flavor_extra_specs)
                          .where(flavor_extra_specs.c.flavor_id == flavor_id,
                                 flavor_extra_specs.c.key == key))
    if result.rowcount == 0:
        raise NoSuchRow(key)


# --- project access ------------------------------------------------------------------------

def access_list(conn: sa.Connection, flavor_id: int) -> list[str]:
    rows = conn.execute(sa.select(flavor_projects.c.project_id)
                        .where(flavor_projects.c.flavor_id == flavor_id)
                        .order_by(flavor_projects.c.project_id))
    return list(rows.scalars())


def add_access(conn: sa.Connection, flavor_id: int, project_id: str) -> None:
    insert_unique(conn, sa.insert(flavor_projects).values(
        flavor_id=flavor_id, project_id=project_id, created_at=utcnow()))


def remove_access(conn: sa.Connection, flavor_id: int, project_id: str) -> None:
    result = conn.execute(sa.delete(flavor_projects)
                          .where(flavor_projects.c.flavor_id == flavor_id,
                                 flavor_projects.c.project_id == project_id))
    if result.rowcount == 0:
        raise NoSuchRow(project_id)
