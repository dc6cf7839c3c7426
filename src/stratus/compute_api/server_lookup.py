"""Finding one server wherever it is (build request or cell), and changing or deleting it.

The instance mapping says where a server lives. A mapping without a cell means a build
request; if the build request has gone meanwhile, the conductor has just moved the server
into a cell, so the mapping is read again.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from stratus.cells import mappings
from stratus.cells.mappings import CellDatabases, CellMapping
from stratus.common.context import RequestContext
from stratus.common.db import writer
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import build_requests as build_store
from stratus.compute_api.store import instance_actions as action_store
from stratus.compute_api.store import instances as instance_store
from stratus.compute_api.store import server_groups as group_store


class ServerNotFound(LookupError):
    """No live server has this uuid."""


@dataclass(frozen=True)
class Located:
    """A server and where it lives: ``cell`` None means it is still a build request."""

    server: dict
    cell: CellMapping | None


def locate(cells: CellDatabases, instance_uuid: str, *, read_deleted: bool = False) -> Located:
    for _attempt in range(2):
        with cells.api_engine.connect() as conn:
            try:
                mapping = mappings.get_instance_mapping(conn, instance_uuid)
            except mappings.MappingNotFound:
                raise ServerNotFound(instance_uuid) from None
            if mapping.cell is None:
                try:
                    return Located(build_store.get(conn, instance_uuid), None)
                except NoSuchRow:
                    continue  # it left for a cell between the two reads: look again
        with cells.engine(mapping.cell).connect() as conn:
            try:
                return Located(instance_store.get(conn, instance_uuid,
                                                  read_deleted=read_deleted), mapping.cell)
            except NoSuchRow:
                raise ServerNotFound(instance_uuid) from None
    raise ServerNotFound(instance_uuid)


def update(cells: CellDatabases, located: Located, changes: dict) -> Located:
    """Apply column ``changes`` to the server where it lives."""
    uuid = located.server["uuid"]
    if located.cell is None:
        with cells.api_engine.begin() as conn:
            try:
                build_store.update(conn, uuid, changes)
                return Located(build_store.get(conn, uuid), None)
            except NoSuchRow:
                pass
        return update(cells, locate(cells, uuid), changes)
    with cells.engine(located.cell).begin() as conn:
        try:
            instance_store.update(conn, uuid, changes)
        except NoSuchRow:
            raise ServerNotFound(uuid) from None
    return locate(cells, uuid)


def delete(cells: CellDatabases, located: Located, context: RequestContext) -> None:
    """Delete a server at any stage, leaving no build request, spec or live instance behind.

    A build request goes with its request spec and mapping. An instance in a cell is marked
    deleted there (deleted = id, as Nova does) and its mapping queued for delete, so it is
    neither listed nor counted; archiving deleted rows removes both later.
    """
    uuid = located.server["uuid"]
    if located.cell is None:
        located = delete_build_request(cells, located)
        if located is None:
            return
    with cells.engine(located.cell).begin() as conn:
        try:
            instance_store.soft_delete(conn, uuid)
            action_store.record(conn, uuid, "delete", context)
        except NoSuchRow:
            raise ServerNotFound(uuid) from None
    with cells.api_engine.begin() as conn:
        mappings.set_queued_for_delete(conn, uuid)
        group_store.remove_member(conn, uuid)


def delete_build_request(cells: CellDatabases, located: Located) -> Located | None:
    """Delete a server that is still a build request (None), or, if the conductor has just
    moved it into a cell, say where it is now so the caller deletes it there."""
    uuid = located.server["uuid"]
    with cells.api_engine.begin() as conn:
        try:
            build_store.delete(conn, uuid)
            group_store.remove_member(conn, uuid)
            return None
        except NoSuchRow:
            pass
    located = locate(cells, uuid)
    if located.cell is None:
        raise ServerNotFound(uuid)
    return located


def in_cell(cells: CellDatabases, located: Located, fn) -> object:
    """Run ``fn(conn)`` in a transaction on the cell database of a server in a cell.

    The transaction is a writer's (IMMEDIATE on SQLite): ``fn`` reads, then writes, and a
    deferred one would fail with "database is locked" when the agent wrote in between."""
    assert located.cell is not None
    engine: sa.Engine = writer(cells.engine(located.cell))
    with engine.begin() as conn:
        return fn(conn)
