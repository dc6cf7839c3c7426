"""Resource classes: the standard set from os-resource-classes (fixed ids) and CUSTOM_* ones."""

from __future__ import annotations

import os_resource_classes as orc
import sqlalchemy as sa

from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.placement import db
from stratus.placement import schema as t
from stratus.placement.schema import CUSTOM_CLASS_ID_BASE, resource_classes

# Standard classes never change id: the list only grows at its end.
STANDARD_IDS: dict[str, int] = {name: index + 1 for index, name in enumerate(orc.STANDARDS)}
STANDARD_NAMES: dict[int, str] = {v: k for k, v in STANDARD_IDS.items()}


def ensure_standard(conn: sa.Connection) -> None:
    """Insert the standard classes the database does not have yet."""
    have = set(conn.execute(sa.select(resource_classes.c.id)).scalars())
    missing = [{"id": rc_id, "name": name, **db.stamps()}
               for name, rc_id in STANDARD_IDS.items() if rc_id not in have]
    if missing:
        conn.execute(resource_classes.insert(), missing)


def is_custom(name: str) -> bool:
    return name.startswith(orc.CUSTOM_NAMESPACE)


def ids_for(conn: sa.Connection, names) -> dict[str, int]:
    """{name: id} of the classes in ``names`` that exist (standard ones need no query)."""
    return _lookup(conn, names, STANDARD_IDS, resource_classes.c.name, resource_classes.c.id)


def names_for(conn: sa.Connection, ids) -> dict[int, str]:
    """{id: name} of the class ids in ``ids``."""
    return _lookup(conn, ids, STANDARD_NAMES, resource_classes.c.id, resource_classes.c.name)


def _lookup(conn: sa.Connection, keys, standard: dict, key_col, value_col) -> dict:
    found = {k: standard[k] for k in keys if k in standard}
    custom = [k for k in keys if k not in found]
    if custom:
        rows = conn.execute(sa.select(key_col, value_col).where(key_col.in_(custom)))
        found.update(dict(rows.all()))
    return found


def next_custom_id(conn: sa.Connection) -> int:
    top = conn.execute(sa.select(sa.func.max(resource_classes.c.id))).scalar() or 0
    return max(top, CUSTOM_CLASS_ID_BASE) + 1


def list_all(conn: sa.Connection) -> list[sa.Row]:
    return conn.execute(sa.select(resource_classes).order_by(resource_classes.c.id)).all()


def get(conn: sa.Connection, name: str) -> sa.Row:
    row = conn.execute(sa.select(resource_classes)
                       .where(resource_classes.c.name == name)).first()
    if row is None:
        raise NotFound(f"No such resource class {name}.")
    return row


def create(conn: sa.Connection, name: str) -> bool:
    """Create the custom class ``name``; False if it exists. Ids are taken under retry."""
    if conn.execute(sa.select(resource_classes.c.id)
                    .where(resource_classes.c.name == name)).first():
        return False
    for _attempt in range(5):
        try:
            with conn.begin_nested():
                conn.execute(resource_classes.insert().values(
                    id=next_custom_id(conn), name=name, **db.stamps()))
            return True
        except sa.exc.IntegrityError:
            if conn.execute(sa.select(resource_classes.c.id)
                            .where(resource_classes.c.name == name)).first():
                return False
    raise Conflict("Max retries of DB transaction exceeded attempting to create resource "
                   f"class: {name}, please try again.")


def rename(conn: sa.Connection, name: str, new_name: str) -> sa.Row:
    row = get(conn, name)
    if not is_custom(name):
        raise BadRequest(f"Cannot update standard resource class {name}")
    if conn.execute(sa.select(resource_classes.c.id)
                    .where(resource_classes.c.name == new_name)).first():
        raise Conflict(f"Resource class already exists: {new_name}")
    conn.execute(resource_classes.update().where(resource_classes.c.id == row.id)
                 .values(name=new_name, updated_at=db.utcnow()))
    return get(conn, new_name)


def delete(conn: sa.Connection, name: str) -> None:
    row = get(conn, name)
    if not is_custom(name):
        raise BadRequest(f"Error in delete resource class: Cannot delete standard resource "
                         f"class {name}.")
    inv = t.inventories
    if conn.execute(sa.select(inv.c.id).where(inv.c.resource_class_id == row.id)
                    .limit(1)).first():
        raise Conflict(f"Error in delete resource class: Cannot delete resource class "
                       f"{name}. Class is in use in inventory.")
    conn.execute(resource_classes.delete().where(resource_classes.c.id == row.id))
