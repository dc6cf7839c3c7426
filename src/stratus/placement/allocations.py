"""Allocations: what consumers hold on providers, written atomically and never over capacity.

One write (PUT or POST /allocations, or the reshaper) replaces the allocations of
one or more consumers inside the caller's transaction:

1. providers named in the new allocations (and those held by a consumer this write
   empties) are read, and their generations bumped at
   once with ``UPDATE ... WHERE generation = <read>``, in uuid order. The bump takes the
   row lock, so a concurrent writer on the same provider waits and then finds the
   generation moved: it gets 409 and writes nothing. A write that empties no consumer
   (every claim) reads its providers ``FOR UPDATE`` instead (PostgreSQL and MySQL;
   SQLite writers are serialised already), so concurrent claims on one provider queue
   behind each other rather than all but one failing with 409 and retrying. Every
   writer takes provider rows in uuid order, so they never deadlock;
2. consumers are checked (generation from 1.28), created or updated;
3. old allocations are replaced by the new ones;
4. one query reads inventory and resulting usage of every (provider, class) touched,
   and any limit broken (capacity, min_unit, max_unit, step_size) rolls it all back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from stratus.common.wsgi.errors import BadRequest, Conflict
from stratus.placement import db, errors, inventories, resource_classes
from stratus.placement import schema as t

a = t.allocations
c = t.consumers
rp = t.resource_providers
# Allocations written before microversion 1.8 name no project or user.
INCOMPLETE_CONSUMER_ID = "00000000-0000-0000-0000-000000000000"


def _many(name: str) -> sa.BindParameter:
    return sa.bindparam(name, expanding=True)


# Statements of the write path, built once (building them per request costs more than
# running them on SQLite).
_PROVIDERS = (sa.select(rp.c.id, rp.c.uuid, rp.c.generation)
              .where(rp.c.uuid.in_(_many("uuids"))).order_by(rp.c.uuid))
# The first statement of its transaction: on MySQL the snapshot the later reads (the
# limits check) see is then taken after these locks are held.
_PROVIDERS_LOCKED = _PROVIDERS.with_for_update()
_BUMP = (rp.update().where(rp.c.id == sa.bindparam("b_id"),
                           rp.c.generation == sa.bindparam("b_gen"))
         .values(generation=sa.bindparam("b_new")))
_HELD_BY = (sa.select(rp.c.id, rp.c.uuid, rp.c.generation).distinct()
            .select_from(a.join(rp, rp.c.id == a.c.resource_provider_id))
            .where(a.c.consumer_id.in_(_many("uuids"))))
_CONSUMERS = sa.select(c.c.uuid, c.c.generation).where(c.c.uuid.in_(_many("uuids")))
_DELETE = a.delete().where(a.c.consumer_id.in_(_many("uuids")))
_DELETE_CONSUMERS = c.delete().where(c.c.uuid.in_(_many("uuids")))
_INSERT = a.insert()
_usage = (sa.select(a.c.resource_provider_id, a.c.resource_class_id,
                    sa.func.sum(a.c.used).label("used"))
          .where(a.c.resource_provider_id.in_(_many("rp_ids")))
          .group_by(a.c.resource_provider_id, a.c.resource_class_id).subquery())
_inv = t.inventories
_LIMITS = (sa.select(_inv.c.resource_provider_id, _inv.c.resource_class_id, _inv.c.total,
                     _inv.c.reserved, _inv.c.allocation_ratio, _inv.c.min_unit,
                     _inv.c.max_unit, _inv.c.step_size,
                     sa.func.coalesce(_usage.c.used, 0).label("used"))
           .select_from(_inv.outerjoin(_usage, sa.and_(
               _usage.c.resource_provider_id == _inv.c.resource_provider_id,
               _usage.c.resource_class_id == _inv.c.resource_class_id)))
           .where(_inv.c.resource_provider_id.in_(_many("rp_ids2"))))


@dataclass
class ConsumerWrite:
    """The new state of one consumer's allocations: {provider uuid: {class: amount}}."""

    uuid: str
    allocations: dict[str, dict[str, int]]
    project_id: str = INCOMPLETE_CONSUMER_ID
    user_id: str = INCOMPLETE_CONSUMER_ID
    generation: int | None = None
    consumer_type: str | None = None
    providers: dict = field(default_factory=dict)


def write(conn: sa.Connection, writes: list[ConsumerWrite], *, check_generation: bool,
          set_type: bool, missing_provider_message: str) -> None:
    """Replace the allocations of every consumer in ``writes`` (see the module docstring)."""
    try:
        _write(conn, writes, check_generation=check_generation, set_type=set_type,
               missing_provider_message=missing_provider_message)
    except sa.exc.IntegrityError:
        # Only a consumer created by a concurrent request can collide here.
        raise Conflict("consumer generation conflict - another request created or changed "
                       "one of these consumers; refresh and retry",
                       code=errors.CONCURRENT_UPDATE) from None


def _write(conn: sa.Connection, writes: list[ConsumerWrite], *, check_generation: bool,
           set_type: bool, missing_provider_message: str) -> None:
    wanted_rps = {u for w in writes for u in w.allocations}
    # A consumer emptied by this write also changes the providers it held, as in Placement.
    emptied = [w.uuid for w in writes if not w.allocations]
    providers = _providers(conn, wanted_rps, missing_provider_message, lock=not emptied)
    released = conn.execute(_HELD_BY, {"uuids": emptied}).all() if emptied else []
    touched = {row.uuid: row for row in (*providers.values(), *released)}
    for provider_uuid in sorted(touched):
        _bump(conn, touched[provider_uuid])
    class_names = {name for w in writes for res in w.allocations.values() for name in res}
    class_ids = resource_classes.ids_for(conn, class_names)
    unknown = sorted(class_names - set(class_ids))
    if unknown:
        raise BadRequest(f"Unable to allocate inventory for consumer {writes[0].uuid}: "
                         f"No such resource class {unknown[0]}.")
    _write_consumers(conn, writes, check_generation=check_generation, set_type=set_type)
    uuids = [w.uuid for w in writes]
    conn.execute(_DELETE, {"uuids": uuids})
    now = db.utcnow()
    rows = [{"resource_provider_id": providers[rp_uuid].id, "consumer_id": w.uuid,
             "resource_class_id": class_ids[name], "used": used,
             "created_at": now, "updated_at": now}
            for w in writes for rp_uuid, res in w.allocations.items()
            for name, used in res.items()]
    if rows:
        conn.execute(_INSERT, rows)
        _check_limits(conn, rows, providers, class_ids)
    if emptied:
        conn.execute(_DELETE_CONSUMERS, {"uuids": emptied})


def _providers(conn: sa.Connection, uuids: set[str], message: str, *,
               lock: bool = False) -> dict[str, sa.Row]:
    if not uuids:
        return {}
    rows = conn.execute(_PROVIDERS_LOCKED if lock else _PROVIDERS, {"uuids": list(uuids)}).all()
    found = {row.uuid: row for row in rows}
    for uuid in sorted(uuids):
        if uuid not in found:
            raise BadRequest(message.format(rp_uuid=uuid))
    return found


def _bump(conn: sa.Connection, provider: sa.Row) -> None:
    done = conn.execute(_BUMP, {"b_id": provider.id, "b_gen": provider.generation,
                                "b_new": provider.generation + 1})
    if done.rowcount != 1:
        raise Conflict("Inventory and/or allocations changed while attempting to allocate: "
                       "Another thread concurrently updated the data. Please retry your "
                       "update", code=errors.CONCURRENT_UPDATE)


def _write_consumers(conn: sa.Connection, writes: list[ConsumerWrite], *,
                     check_generation: bool, set_type: bool) -> None:
    existing = {row.uuid: row for row in conn.execute(
        _CONSUMERS, {"uuids": [w.uuid for w in writes]})}
    if check_generation:
        for w in writes:
            have = existing.get(w.uuid)
            if have is None and w.generation is not None:
                raise Conflict(f"consumer generation conflict - expected null but got "
                               f"{w.generation}", code=errors.CONCURRENT_UPDATE)
            if have is not None and have.generation != w.generation:
                raise Conflict(f"consumer generation conflict - expected {have.generation} "
                               f"but got {w.generation}", code=errors.CONCURRENT_UPDATE)
    projects = db.ensure_named(conn, t.projects, "external_id", {w.project_id for w in writes})
    users = db.ensure_named(conn, t.users, "external_id", {w.user_id for w in writes})
    types = db.ensure_named(conn, t.consumer_types, "name",
                            {w.consumer_type for w in writes if w.consumer_type}) \
        if set_type else {}
    now = db.utcnow()
    for w in writes:
        values = {"project_id": projects[w.project_id], "user_id": users[w.user_id],
                  "updated_at": now}
        if set_type:
            values["consumer_type_id"] = types.get(w.consumer_type)
        have = existing.get(w.uuid)
        if have is None:
            if not w.allocations:
                continue
            # No savepoint: a concurrent insert of the same consumer fails the whole
            # write, and the caller's transaction rolls back (see write()).
            conn.execute(c.insert().values(uuid=w.uuid, generation=1, created_at=now,
                                           **values))
            continue
        done = conn.execute(c.update().where(c.c.uuid == w.uuid,
                                             c.c.generation == have.generation)
                            .values(generation=have.generation + 1, **values))
        if done.rowcount != 1:
            raise Conflict(f"consumer generation conflict - consumer {w.uuid} was changed by "
                           "another request; refresh and retry",
                           code=errors.CONCURRENT_UPDATE)


def _check_limits(conn: sa.Connection, rows: list[dict], providers: dict[str, sa.Row],
                  class_ids: dict[str, int]) -> None:
    """One query for inventory and usage of every touched pair; any breach rolls back."""
    rp_ids = sorted({r["resource_provider_id"] for r in rows})
    found = {(r.resource_provider_id, r.resource_class_id): r
             for r in conn.execute(_LIMITS, {"rp_ids": rp_ids, "rp_ids2": rp_ids})}
    uuid_of = {p.id: p.uuid for p in providers.values()}
    name_of = {v: k for k, v in class_ids.items()}
    for row in rows:
        key = (row["resource_provider_id"], row["resource_class_id"])
        where = f"'{name_of[key[1]]}' on resource provider '{uuid_of[key[0]]}'"
        record = found.get(key)
        if record is None:
            raise Conflict(f"Unable to allocate inventory: Inventory for {where} invalid.")
        amount = row["used"]
        if amount < record.min_unit or amount > record.max_unit or \
                amount % record.step_size:
            raise Conflict(f"Unable to allocate inventory: Unable to create allocation for "
                           f"{where}. The requested amount would violate inventory "
                           "constraints.")
        if record.used > inventories.capacity(record._mapping):
            raise Conflict(f"Unable to allocate inventory: Unable to create allocation for "
                           f"{where}. The requested amount would exceed the capacity.")


def for_consumer(conn: sa.Connection, consumer_uuid: str) -> tuple[list[sa.Row], sa.Row | None]:
    """(allocation rows with provider uuid/generation, consumer row) of one consumer."""
    rows = conn.execute(
        sa.select(rp.c.uuid.label("rp_uuid"), rp.c.generation, a.c.resource_class_id,
                  a.c.used, a.c.updated_at)
        .select_from(a.join(rp, rp.c.id == a.c.resource_provider_id))
        .where(a.c.consumer_id == consumer_uuid)).all()
    consumer = None
    if rows:
        consumer = conn.execute(
            sa.select(c.c.generation, t.projects.c.external_id.label("project_id"),
                      t.users.c.external_id.label("user_id"),
                      t.consumer_types.c.name.label("consumer_type"))
            .select_from(c.join(t.projects, t.projects.c.id == c.c.project_id)
                         .join(t.users, t.users.c.id == c.c.user_id)
                         .outerjoin(t.consumer_types,
                                    t.consumer_types.c.id == c.c.consumer_type_id))
            .where(c.c.uuid == consumer_uuid)).first()
    return rows, consumer


def for_provider(conn: sa.Connection, provider_id: int) -> list[sa.Row]:
    """Allocation rows on one provider, with each consumer's generation."""
    return conn.execute(
        sa.select(a.c.consumer_id, a.c.resource_class_id, a.c.used, a.c.updated_at,
                  c.c.generation.label("consumer_generation"))
        .select_from(a.outerjoin(c, c.c.uuid == a.c.consumer_id))
        .where(a.c.resource_provider_id == provider_id)).all()


def delete_consumer(conn: sa.Connection, consumer_uuid: str) -> bool:
    """Remove every allocation of a consumer and the consumer; False if it had none."""
    done = conn.execute(a.delete().where(a.c.consumer_id == consumer_uuid)).rowcount
    conn.execute(c.delete().where(c.c.uuid == consumer_uuid))
    return bool(done)
