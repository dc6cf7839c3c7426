"""Resource providers: create, read, update (incl. re-parenting), delete, and generations.

Rows returned carry the provider's own columns plus ``parent_provider_uuid`` and
``root_provider_uuid``, read in the same query.
"""

from __future__ import annotations

import uuid as uuidlib
from types import SimpleNamespace

import sqlalchemy as sa

from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.placement import db, errors
from stratus.placement.schema import (
    allocations,
    inventories,
    resource_provider_aggregates,
    resource_provider_traits,
    resource_providers,
)

rp = resource_providers
_parent = rp.alias("parent")
_root = rp.alias("root")

SELECT = (sa.select(rp.c.id, rp.c.uuid, rp.c.name, rp.c.generation, rp.c.created_at,
                    rp.c.updated_at, rp.c.root_provider_id, rp.c.parent_provider_id,
                    _parent.c.uuid.label("parent_provider_uuid"),
                    _root.c.uuid.label("root_provider_uuid"))
          .select_from(rp.outerjoin(_parent, rp.c.parent_provider_id == _parent.c.id)
                       .outerjoin(_root, rp.c.root_provider_id == _root.c.id)))


# Statements of the write paths every provider goes through, built once: SQLAlchemy
# then finds their compiled form by a cache key computed once per statement object.
_BY_UUID = SELECT.where(rp.c.uuid == sa.bindparam("uuid"))
_INSERT = rp.insert()
_SET_ROOT = rp.update().where(rp.c.id == sa.bindparam("row_id")).values(
    root_provider_id=sa.bindparam("row_id"))
_BUMP = (rp.update()
         .where(rp.c.id == sa.bindparam("row_id"), rp.c.generation == sa.bindparam("expected"))
         .values(generation=sa.bindparam("new_generation"),
                 updated_at=sa.bindparam("now")))


class Duplicate(Exception):
    """A new provider's uuid or name is taken; :func:`conflict` says which, once the
    failed transaction is rolled back."""

    def __init__(self, uuid: str, name: str):
        super().__init__(uuid, name)
        self.uuid, self.name = uuid, name


def get(conn: sa.Connection, uuid: str) -> sa.Row:
    """The provider ``uuid``, or NotFound."""
    row = conn.execute(_BY_UUID, {"uuid": uuid}).first()
    if row is None:
        raise NotFound(f"No resource provider with uuid {uuid} found",
                       code=errors.RESOURCE_PROVIDER_NOT_FOUND)
    return row


def find(conn: sa.Connection, uuid: str) -> sa.Row | None:
    return conn.execute(_BY_UUID, {"uuid": uuid}).first()


def list_providers(conn: sa.Connection, *, uuid: str | None = None, name: str | None = None,
                   in_tree: str | None = None, ids: sa.Select | None = None) -> list[sa.Row]:
    """Providers matching every given filter; ``ids`` is a subquery of allowed provider ids."""
    query = SELECT
    if uuid is not None:
        query = query.where(rp.c.uuid == uuid)
    if name is not None:
        query = query.where(rp.c.name == name)
    if in_tree is not None:
        tree_root = sa.select(rp.c.root_provider_id).where(rp.c.uuid == in_tree)
        query = query.where(rp.c.root_provider_id == tree_root.scalar_subquery())
    if ids is not None:
        query = query.where(rp.c.id.in_(ids))
    return conn.execute(query.order_by(rp.c.id)).all()


def create(conn: sa.Connection, *, name: str, uuid: str | None,
           parent_uuid: str | None):
    """A new provider (a root, or a child of ``parent_uuid``), as :func:`get` shows it.

    Raises :class:`Duplicate` when the uuid or name is taken: the transaction is then
    spoilt on some databases, so the caller rolls it back and asks :func:`conflict`.
    """
    uuid = str(uuidlib.UUID(uuid)) if uuid else str(uuidlib.uuid4())
    root_id = parent_id = None
    root_uuid = uuid
    if parent_uuid is not None:
        if parent_uuid == uuid:
            raise BadRequest(f'Unable to create resource provider "{name}", {uuid}: parent '
                             "provider UUID cannot be same as UUID. Please set parent "
                             "provider UUID to None if there is no parent.")
        parent = find(conn, parent_uuid)
        if parent is None:
            raise BadRequest(f'Unable to create resource provider "{name}", {uuid}: '
                             "parent provider UUID does not exist.")
        root_id, parent_id = parent.root_provider_id, parent.id
        parent_uuid, root_uuid = parent.uuid, parent.root_provider_uuid
    stamps = db.stamps()
    try:
        new_id = conn.execute(_INSERT, {
            "uuid": uuid, "name": name, "generation": 0, "root_provider_id": root_id,
            "parent_provider_id": parent_id, **stamps}).inserted_primary_key[0]
    except sa.exc.IntegrityError as exc:
        if db.is_duplicate(exc):
            raise Duplicate(uuid, name) from None
        raise
    if root_id is None:
        root_id = new_id
        conn.execute(_SET_ROOT, {"row_id": new_id})
    # What get() would read back, without reading it: every column was just written.
    return SimpleNamespace(id=new_id, uuid=uuid, name=name, generation=0, **stamps,
                           root_provider_id=root_id, parent_provider_id=parent_id,
                           parent_provider_uuid=parent_uuid, root_provider_uuid=root_uuid)


def conflict(conn: sa.Connection, clash: Duplicate) -> Conflict:
    """The 409 for a :class:`Duplicate`, naming what exists (read after the rollback)."""
    uuid, name = clash.uuid, clash.name
    rows = conn.execute(sa.select(rp.c.uuid, rp.c.name).where(
        sa.or_(rp.c.uuid == uuid, rp.c.name == name))).all()
    found = [f"uuid: {uuid}" for row in rows if row.uuid == uuid] + \
        [f"name: {name}" for row in rows if row.name == name and row.uuid != uuid]
    if not found:  # the clashing provider was deleted meanwhile
        return Conflict(f"Conflicting resource provider name: {name} already exists.",
                        code=errors.DUPLICATE_NAME)
    return Conflict(f"Conflicting resource provider {', '.join(found)} already exists.",
                    code=errors.DUPLICATE_NAME)


def update(conn: sa.Connection, uuid: str, changes: dict, *, allow_reparenting: bool) -> sa.Row:
    """Rename and/or re-parent ``uuid``; re-parenting rules depend on the microversion."""
    row = get(conn, uuid)
    values: dict = {}
    if "name" in changes and changes["name"] != row.name:
        if conn.execute(sa.select(rp.c.id).where(rp.c.name == changes["name"])).first():
            raise Conflict(f"Conflicting resource provider {changes['name']} already exists.",
                           code=errors.DUPLICATE_NAME)
        values["name"] = changes["name"]
    new_root = None
    if "parent_provider_uuid" in changes:
        new_root = _reparent(conn, row, changes["parent_provider_uuid"], allow_reparenting,
                             values)
    if values:
        values["updated_at"] = db.utcnow()
        conn.execute(rp.update().where(rp.c.id == row.id).values(**values))
    if new_root is not None and new_root != row.root_provider_id:
        subtree = descendants(conn, row.id)
        conn.execute(rp.update().where(rp.c.id.in_(subtree))
                     .values(root_provider_id=new_root))
    return get(conn, uuid)


def _reparent(conn: sa.Connection, row: sa.Row, parent_uuid: str | None,
              allow_reparenting: bool, values: dict) -> int | None:
    """Fill ``values`` for a parent change; returns the subtree's new root id."""
    def refuse(reason: str) -> BadRequest:
        return BadRequest(f"Unable to save resource provider {row.uuid}: Object action "
                          f"update failed because: {reason}")

    if parent_uuid is None:
        if row.parent_provider_id is None:
            return None
        if not allow_reparenting:
            raise refuse("un-parenting a provider is not currently allowed.")
        values["parent_provider_id"] = None
        return row.id
    parent = find(conn, parent_uuid)
    if parent is None:
        raise BadRequest(f"Unable to save resource provider {row.uuid}: Object action create "
                         "failed because: parent provider UUID does not exist.")
    if parent.id == row.parent_provider_id:
        return None
    if row.parent_provider_id is not None and not allow_reparenting:
        raise refuse("re-parenting a provider is not currently allowed.")
    if parent.id in descendants(conn, row.id):
        raise refuse("creating loop in the provider tree is not allowed.")
    values["parent_provider_id"] = parent.id
    return parent.root_provider_id


def descendants(conn: sa.Connection, provider_id: int) -> set[int]:
    """``provider_id`` and every provider below it, from one query over its tree."""
    root = sa.select(rp.c.root_provider_id).where(rp.c.id == provider_id).scalar_subquery()
    pairs = conn.execute(sa.select(rp.c.id, rp.c.parent_provider_id)
                         .where(rp.c.root_provider_id == root)).all()
    children: dict[int, list[int]] = {}
    for child, parent in pairs:
        children.setdefault(parent, []).append(child)
    found, stack = set(), [provider_id]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, ()))
    return found


def delete(conn: sa.Connection, uuid: str) -> None:
    """Delete ``uuid``: 409 while it has children or allocations."""
    row = find(conn, uuid)
    if row is None:
        raise NotFound(f"No resource provider with uuid {uuid} found for delete",
                       code=errors.RESOURCE_PROVIDER_NOT_FOUND)
    if conn.execute(sa.select(rp.c.id).where(rp.c.parent_provider_id == row.id)).first():
        raise Conflict(f"Unable to delete parent resource provider {uuid}: It has child "
                       "resource providers.", code=errors.PROVIDER_CANNOT_DELETE_PARENT)
    if conn.execute(sa.select(allocations.c.id)
                    .where(allocations.c.resource_provider_id == row.id).limit(1)).first():
        raise Conflict(f"Unable to delete resource provider {uuid}: Resource provider has "
                       "allocations.", code=errors.PROVIDER_IN_USE)
    for table in (inventories, resource_provider_aggregates, resource_provider_traits):
        conn.execute(table.delete().where(table.c.resource_provider_id == row.id))
    conn.execute(rp.update().where(rp.c.id == row.id).values(root_provider_id=None))
    try:
        with conn.begin_nested():
            conn.execute(rp.delete().where(rp.c.id == row.id))
    except sa.exc.IntegrityError:
        # A child was attached concurrently.
        raise Conflict(f"Unable to delete parent resource provider {uuid}: It has child "
                       "resource providers.",
                       code=errors.PROVIDER_CANNOT_DELETE_PARENT) from None


def bump_generation(conn: sa.Connection, provider_id: int, expected: int) -> int:
    """Move the provider's generation from ``expected`` on; 409 if someone else did first.

    Runs inside the caller's write transaction, so the change it guards and the
    generation bump commit (or fail) together.
    """
    done = conn.execute(_BUMP, {"row_id": provider_id, "expected": expected,
                                "new_generation": expected + 1, "now": db.utcnow()})
    if done.rowcount != 1:
        raise errors.concurrent_update()
    return expected + 1
