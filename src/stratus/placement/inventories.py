"""Inventories of a provider: read, replace all, add, update or delete one; usage per class.

Every write bumps the provider generation in the same transaction (see
:func:`providers.bump_generation`), so a writer holding a stale generation gets 409. The
bump comes first: it locks the provider row, so concurrent writers queue there and the
later one gets 409 before it touches any inventory row (rather than colliding on them).
"""

from __future__ import annotations

import sqlalchemy as sa

from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.placement import db, errors, providers, resource_classes
from stratus.placement import schema as t

FIELDS = ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio")
inv = t.inventories


def capacity(record) -> int:
    """Usable units: (total - reserved) * allocation_ratio, as Placement rounds it."""
    return int((record["total"] - record["reserved"]) * record["allocation_ratio"])


def for_provider(conn: sa.Connection, provider_id: int) -> dict[str, dict]:
    """{class name: record (FIELDS + updated_at)} of one provider."""
    rows = conn.execute(sa.select(inv.c.resource_class_id, inv.c.updated_at,
                                  *[inv.c[f] for f in FIELDS])
                        .where(inv.c.resource_provider_id == provider_id)).all()
    names = resource_classes.names_for(conn, {r.resource_class_id for r in rows})
    return {names[r.resource_class_id]: dict(r._mapping) for r in rows}


def usage_by_class(conn: sa.Connection, provider_id: int) -> dict[int, int]:
    """{class id: units allocated} on one provider."""
    a = t.allocations
    rows = conn.execute(sa.select(a.c.resource_class_id, sa.func.sum(a.c.used))
                        .where(a.c.resource_provider_id == provider_id)
                        .group_by(a.c.resource_class_id))
    return {rc_id: int(used) for rc_id, used in rows}


def check_capacity(provider_uuid: str, records: dict[str, dict], *,
                   reserved_may_equal_total: bool, action: str = "update") -> None:
    """400 when reserved leaves no room (1.26 on: reserved may equal total)."""
    for name, record in records.items():
        spare = record["total"] - record["reserved"]
        if spare < 0 or (spare == 0 and not reserved_may_equal_total):
            relation = "greater than" if reserved_may_equal_total else \
                "greater than or equal to"
            raise BadRequest(f"Unable to {action} inventory for resource provider "
                             f"{provider_uuid}: Invalid inventory for '{name}' on resource "
                             f"provider '{provider_uuid}'. The reserved value is "
                             f"{relation} total.")


def _class_ids(conn: sa.Connection, provider_uuid: str, names) -> dict[str, int]:
    ids = resource_classes.ids_for(conn, names)
    unknown = sorted(set(names) - set(ids))
    if unknown:
        raise BadRequest(f"Unknown resource class in inventory for resource provider "
                         f"{provider_uuid}: No such resource class {unknown[0]}.")
    return ids


def replace_all(conn: sa.Connection, provider, generation: int,
                records: dict[str, dict]) -> int:
    """Make ``records`` the provider's whole inventory; returns the new generation.

    409 ``placement.inventory.inuse`` when a class that would disappear has allocations.
    """
    ids = _class_ids(conn, provider.uuid, records)
    new_generation = providers.bump_generation(conn, provider.id, generation)
    current = {r.resource_class_id: r.id for r in conn.execute(
        sa.select(inv.c.id, inv.c.resource_class_id)
        .where(inv.c.resource_provider_id == provider.id))}
    removed = set(current) - set(ids.values())
    if removed:
        _refuse_if_used(conn, provider, removed)
        conn.execute(inv.delete().where(inv.c.id.in_([current[i] for i in removed])))
    now = db.utcnow()
    for name, record in records.items():
        values = {f: record[f] for f in FIELDS}
        if ids[name] in current:
            conn.execute(inv.update().where(inv.c.id == current[ids[name]])
                         .values(**values, updated_at=now))
        else:
            conn.execute(inv.insert().values(resource_provider_id=provider.id,
                                             resource_class_id=ids[name], **values,
                                             created_at=now, updated_at=now))
    return new_generation


def _refuse_if_used(conn: sa.Connection, provider, class_ids: set[int]) -> None:
    a = t.allocations
    used = conn.execute(sa.select(a.c.resource_class_id).distinct().where(
        a.c.resource_provider_id == provider.id,
        a.c.resource_class_id.in_(class_ids))).scalars().all()
    if used:
        names = resource_classes.names_for(conn, used)
        listed = ", ".join(sorted(names.values(), key=_standard_order))
        raise Conflict(f"Inventory for '{listed}' on resource provider '{provider.uuid}' "
                       "in use.", code=errors.INVENTORY_INUSE)


def _standard_order(name: str) -> tuple[int, str]:
    return resource_classes.STANDARD_IDS.get(name, 1 << 30), name


def add(conn: sa.Connection, provider, name: str, record: dict) -> int:
    """Add one class to the provider's inventory; returns the new generation."""
    ids = resource_classes.ids_for(conn, [name])
    if name not in ids:
        raise BadRequest(f"Unable to create inventory for resource provider {provider.uuid}: "
                         f"No such resource class {name}.")
    new_generation = providers.bump_generation(conn, provider.id, provider.generation)
    exists = conn.execute(sa.select(inv.c.id).where(
        inv.c.resource_provider_id == provider.id,
        inv.c.resource_class_id == ids[name])).first()
    if exists:
        raise Conflict(f"Update conflict: Inventory for '{name}' on resource provider "
                       f"'{provider.uuid}' already exists.", code=errors.CONCURRENT_UPDATE)
    conn.execute(inv.insert().values(resource_provider_id=provider.id,
                                     resource_class_id=ids[name],
                                     **{f: record[f] for f in FIELDS}, **db.stamps()))
    return new_generation


def update_one(conn: sa.Connection, provider, generation: int, name: str,
               record: dict) -> int:
    """Change one class's inventory; returns the new generation."""
    rc_id = resource_classes.ids_for(conn, [name]).get(name)
    new_generation = providers.bump_generation(conn, provider.id, generation)
    done = 0
    if rc_id is not None:
        done = conn.execute(inv.update().where(
            inv.c.resource_provider_id == provider.id, inv.c.resource_class_id == rc_id)
            .values(**{f: record[f] for f in FIELDS}, updated_at=db.utcnow())).rowcount
    if not done:
        raise BadRequest(f"No inventory record with resource class for resource provider "
                         f"{provider.uuid}: No inventory of class {name} found.")
    return new_generation


def delete_one(conn: sa.Connection, provider, name: str) -> int:
    """Remove one class from the provider's inventory; returns the new generation."""
    rc_id = resource_classes.ids_for(conn, [name]).get(name)
    new_generation = providers.bump_generation(conn, provider.id, provider.generation)
    if rc_id is not None:
        _refuse_if_used(conn, provider, {rc_id})
    done = 0 if rc_id is None else conn.execute(inv.delete().where(
        inv.c.resource_provider_id == provider.id, inv.c.resource_class_id == rc_id)).rowcount
    if not done:
        raise NotFound(f"No inventory of class {name} found for delete")
    return new_generation
