"""Cell, host and instance mappings in the API database, and the cell-database engines.

Data functions take an open ``sa.Connection`` on the API database so callers choose the
transaction (e.g. build request + request spec + instance mapping in one). ``CellDatabases``
holds one engine per cell database and runs a function in every cell at once
(``scatter_gather``), turning a cell that fails or is slow into a marker instead of an error.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa

from stratus.cells import schema_api as api
from stratus.common.db import make_engine

LOG = logging.getLogger(__name__)

T = TypeVar("T")

# Nova waits this long for a cell in scatter-gather (nova/context.py CELL_TIMEOUT).
DEFAULT_CELL_TIMEOUT_S = 60.0

# map_instances keeps its resume point as an instance mapping of this fake project, whose
# instance_uuid is the last mapped instance's uuid with '-' replaced by ' ' (so it can never
# be a real instance's mapping), as nova-manage does.
INSTANCE_MIGRATION_MARKER = "INSTANCE_MIGRATION_MARKER"


class MappingNotFound(LookupError):
    """No cell, host or instance mapping matches."""


class HostMappingExists(Exception):
    """The host is already mapped (possibly by a concurrent discover_hosts)."""


@dataclasses.dataclass(frozen=True)
class CellMapping:
    """One row of cell_mappings."""

    id: int
    uuid: str
    name: str | None
    transport_url: str
    database_connection: str
    disabled: bool

    @property
    def is_cell0(self) -> bool:
        return self.uuid == api.CELL0_UUID

    @property
    def label(self) -> str:
        """How logs and messages name the cell: name(uuid)."""
        return f"{self.name or ''}({self.uuid})"


@dataclasses.dataclass(frozen=True)
class HostMapping:
    """One row of host_mappings, with its cell."""

    id: int
    host: str
    cell: CellMapping


@dataclasses.dataclass(frozen=True)
class InstanceMapping:
    """One row of instance_mappings; ``cell`` is None while the instance is a build request."""

    id: int
    instance_uuid: str
    project_id: str
    user_id: str | None
    queued_for_delete: bool | None
    cell: CellMapping | None


# --- cell mappings -----------------------------------------------------------------------

def _cell(row: Any) -> CellMapping:
    return CellMapping(id=row.id, uuid=row.uuid, name=row.name, transport_url=row.transport_url,
                       database_connection=row.database_connection, disabled=bool(row.disabled))


def list_cell_mappings(conn: sa.Connection) -> list[CellMapping]:
    """Every cell mapping, cell0 first, then by name and uuid."""
    cm = api.cell_mappings
    rows = conn.execute(sa.select(cm).order_by(
        sa.case((cm.c.uuid == api.CELL0_UUID, 0), else_=1), cm.c.name, cm.c.uuid))
    return [_cell(row) for row in rows]


def get_cell_mapping(conn: sa.Connection, cell_uuid: str) -> CellMapping:
    row = conn.execute(sa.select(api.cell_mappings)
                       .where(api.cell_mappings.c.uuid == cell_uuid)).first()
    if row is None:
        raise MappingNotFound(f"Cell with uuid {cell_uuid} was not found.")
    return _cell(row)


def find_cell_mapping(conn: sa.Connection, *, transport_url: str,
                      database_connection: str) -> CellMapping | None:
    """The cell with exactly this transport URL and database, if one exists."""
    cm = api.cell_mappings
    row = conn.execute(sa.select(cm).where(cm.c.transport_url == transport_url,
                                           cm.c.database_connection == database_connection)
                       ).first()
    return None if row is None else _cell(row)


def create_cell_mapping(conn: sa.Connection, *, name: str | None, transport_url: str,
                        database_connection: str, disabled: bool = False,
                        cell_uuid: str | None = None) -> CellMapping:
    values = dict(uuid=cell_uuid or str(uuidlib.uuid4()), name=name,
                  transport_url=transport_url, database_connection=database_connection,
                  disabled=disabled)
    conn.execute(sa.insert(api.cell_mappings).values(**values))
    return get_cell_mapping(conn, values["uuid"])


def update_cell_mapping(conn: sa.Connection, cell_uuid: str, **fields: Any) -> CellMapping:
    """Set ``fields`` (name, transport_url, database_connection, disabled) on one cell."""
    if fields:
        conn.execute(sa.update(api.cell_mappings)
                     .where(api.cell_mappings.c.uuid == cell_uuid).values(**fields))
    return get_cell_mapping(conn, cell_uuid)


def delete_cell_mapping(conn: sa.Connection, cell_uuid: str) -> None:
    conn.execute(sa.delete(api.cell_mappings).where(api.cell_mappings.c.uuid == cell_uuid))


# --- host mappings -----------------------------------------------------------------------

def _host_mappings_query() -> sa.Select:
    hm, cm = api.host_mappings, api.cell_mappings
    return (sa.select(hm.c.id.label("host_mapping_id"), hm.c.host, cm)
            .join(cm, cm.c.id == hm.c.cell_id))


def _host(row: Any) -> HostMapping:
    return HostMapping(id=row.host_mapping_id, host=row.host, cell=_cell(row))


def get_host_mapping(conn: sa.Connection, host: str) -> HostMapping:
    row = conn.execute(_host_mappings_query().where(api.host_mappings.c.host == host)).first()
    if row is None:
        raise MappingNotFound(f"Host {host} is not mapped to a cell.")
    return _host(row)


def list_host_mappings(conn: sa.Connection, cell_id: int | None = None) -> list[HostMapping]:
    """Host mappings (of one cell if ``cell_id``), ordered by cell name and host."""
    query = _host_mappings_query()
    if cell_id is not None:
        query = query.where(api.host_mappings.c.cell_id == cell_id)
    query = query.order_by(api.cell_mappings.c.name, api.host_mappings.c.host)
    return [_host(row) for row in conn.execute(query)]


def mapped_hosts(conn: sa.Connection, hosts: Iterable[str]) -> set[str]:
    """Which of ``hosts`` already have a host mapping (one query)."""
    hosts = list(set(hosts))
    if not hosts:
        return set()
    hm = api.host_mappings
    return set(conn.execute(sa.select(hm.c.host).where(hm.c.host.in_(hosts))).scalars())


def create_host_mapping(engine: sa.Engine, host: str, cell_id: int) -> None:
    """Map ``host`` to a cell in its own transaction; HostMappingExists if it already is.

    The unique constraint on host decides between racing callers, so a host is mapped
    exactly once even when two discover_hosts run at the same time.
    """
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(api.host_mappings).values(host=host, cell_id=cell_id))
    except sa.exc.IntegrityError:
        raise HostMappingExists(host) from None


def delete_host_mapping(conn: sa.Connection, host: str) -> None:
    conn.execute(sa.delete(api.host_mappings).where(api.host_mappings.c.host == host))


# --- instance mappings -------------------------------------------------------------------

def _instance(row: Any) -> InstanceMapping:
    cell = None if row.cell_id is None else CellMapping(
        id=row.cell_id, uuid=row.cell_uuid, name=row.cell_name,
        transport_url=row.transport_url, database_connection=row.database_connection,
        disabled=bool(row.disabled))
    return InstanceMapping(id=row.id, instance_uuid=row.instance_uuid,
                           project_id=row.project_id, user_id=row.user_id,
                           queued_for_delete=row.queued_for_delete, cell=cell)


def _instance_mappings_query() -> sa.Select:
    im, cm = api.instance_mappings, api.cell_mappings
    return (sa.select(im, cm.c.uuid.label("cell_uuid"), cm.c.name.label("cell_name"),
                      cm.c.transport_url, cm.c.database_connection, cm.c.disabled)
            .outerjoin(cm, cm.c.id == im.c.cell_id))


def get_instance_mapping(conn: sa.Connection, instance_uuid: str) -> InstanceMapping:
    row = conn.execute(_instance_mappings_query()
                       .where(api.instance_mappings.c.instance_uuid == instance_uuid)).first()
    if row is None:
        raise MappingNotFound(f"Instance {instance_uuid} has no instance mapping.")
    return _instance(row)


def get_instance_mappings(conn: sa.Connection,
                          instance_uuids: Iterable[str]) -> dict[str, InstanceMapping]:
    """Mappings of many instances in one query, keyed by instance uuid (missing ones absent)."""
    uuids = list(set(instance_uuids))
    if not uuids:
        return {}
    rows = conn.execute(_instance_mappings_query()
                        .where(api.instance_mappings.c.instance_uuid.in_(uuids)))
    return {row.instance_uuid: _instance(row) for row in rows}


def create_instance_mapping(conn: sa.Connection, *, instance_uuid: str, project_id: str,
                            user_id: str, cell_id: int | None = None) -> None:
    conn.execute(sa.insert(api.instance_mappings).values(
        instance_uuid=instance_uuid, project_id=project_id, user_id=user_id, cell_id=cell_id,
        queued_for_delete=False))


def set_instance_cell(conn: sa.Connection, instance_uuid: str, cell_id: int) -> None:
    """Record that the instance now lives in cell ``cell_id`` (it left its build request)."""
    conn.execute(sa.update(api.instance_mappings)
                 .where(api.instance_mappings.c.instance_uuid == instance_uuid)
                 .values(cell_id=cell_id))


def set_queued_for_delete(conn: sa.Connection, instance_uuid: str, queued: bool = True) -> None:
    conn.execute(sa.update(api.instance_mappings)
                 .where(api.instance_mappings.c.instance_uuid == instance_uuid)
                 .values(queued_for_delete=queued))


def delete_instance_mapping(conn: sa.Connection, instance_uuid: str) -> None:
    conn.execute(sa.delete(api.instance_mappings)
                 .where(api.instance_mappings.c.instance_uuid == instance_uuid))


def cell_ids_with_instances(conn: sa.Connection, project_id: str | None = None) -> set[int]:
    """Cells holding instances (of ``project_id`` if given): listing can skip the others."""
    im, cm = api.instance_mappings, api.cell_mappings
    # One EXISTS per cell (an index probe on (project_id, cell_id)), not a DISTINCT over
    # every mapping of the project.
    held = sa.exists().where(im.c.cell_id == cm.c.id)
    if project_id is not None:
        held = held.where(im.c.project_id == project_id)
    return set(conn.execute(sa.select(cm.c.id).where(held)).scalars())


def count_instance_mappings(conn: sa.Connection, cell_id: int) -> int:
    im = api.instance_mappings
    return conn.execute(sa.select(sa.func.count()).select_from(im)
                        .where(im.c.cell_id == cell_id)).scalar_one()


# --- cell databases and scatter-gather ---------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CellTimeout:
    """Marker: the cell did not answer within the timeout."""

    cell: CellMapping


@dataclasses.dataclass(frozen=True)
class CellFailed:
    """Marker: running the function in the cell raised ``error``."""

    cell: CellMapping
    error: BaseException


def is_cell_failure(result: object) -> bool:
    """True for the CellTimeout / CellFailed markers scatter_gather puts in place of results."""
    return isinstance(result, (CellTimeout, CellFailed))


class CellDatabases:
    """Engines for cell databases, keyed by cell uuid and made on first use.

    Cache rule: an engine is reused while its cell mapping's database_connection is unchanged;
    a mapping whose URL changed (update_cell) gets a new engine and the old one is disposed.
    The list of cells is re-read from the API database at most every ``cells_ttl_s`` seconds
    (Nova caches it until restart; a short TTL lets create_cell take effect without one).
    """

    def __init__(self, api_engine: sa.Engine, *,
                 cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S, cells_ttl_s: float = 10.0,
                 engine_factory: Callable[[str], sa.Engine] = make_engine):
        self.api_engine = api_engine
        self.cell_timeout_s = cell_timeout_s
        self._cells_ttl_s = cells_ttl_s
        self._engine_factory = engine_factory
        self._engines: dict[str, tuple[str, sa.Engine]] = {}
        self._cells: list[CellMapping] | None = None
        self._cells_read_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_conf(cls, conf, api_engine: sa.Engine) -> CellDatabases:
        """Engines sized by the ``[cell1_database]`` pool options for every mapped cell, so
        a service's connections to each cell stay within what the operator set."""
        group = conf.cell1_database
        factory = functools.partial(make_engine, pool_size=group.pool_size,
                                    max_overflow=group.max_overflow,
                                    busy_timeout_ms=group.busy_timeout_ms)
        return cls(api_engine, cell_timeout_s=conf.cells.cell_timeout, engine_factory=factory)

    def cells(self, *, refresh: bool = False, include_cell0: bool = True,
              include_disabled: bool = True) -> list[CellMapping]:
        """The cell mappings (cached, see class docstring)."""
        with self._lock:
            stale = time.monotonic() - self._cells_read_at > self._cells_ttl_s
            if refresh or stale or self._cells is None:
                with self.api_engine.connect() as conn:
                    self._cells = list_cell_mappings(conn)
                self._cells_read_at = time.monotonic()
            cells = list(self._cells)
        return [c for c in cells if (include_cell0 or not c.is_cell0)
                and (include_disabled or not c.disabled)]

    def engine(self, cell: CellMapping) -> sa.Engine:
        """The engine of ``cell``'s database."""
        with self._lock:
            cached = self._engines.get(cell.uuid)
            if cached is not None and cached[0] == cell.database_connection:
                return cached[1]
            engine = self._engine_factory(cell.database_connection)
            self._engines[cell.uuid] = (cell.database_connection, engine)
        if cached is not None:
            cached[1].dispose()
        return engine

    def scatter_gather(self, cells: Iterable[CellMapping],
                       fn: Callable[[CellMapping, sa.Engine], T],
                       timeout: float | None = None) -> dict[str, T | CellTimeout | CellFailed]:
        """Run ``fn(cell, engine)`` in every cell (in parallel, but for SQLite cells);
        results keyed by cell uuid.

        A cell whose call raises gets a ``CellFailed``; one that has not answered within
        ``timeout`` seconds (default ``cell_timeout_s``) gets a ``CellTimeout``. Both are
        logged, never raised, so callers can answer with what the other cells returned.
        """
        cells = list(cells)
        timeout = self.cell_timeout_s if timeout is None else timeout
        results: dict[str, Any] = {}
        done = threading.Condition()

        def run(cell: CellMapping) -> None:
            try:
                result: Any = fn(cell, self.engine(cell))
            except Exception as exc:  # every failure becomes the cell's marker
                result = CellFailed(cell, exc)
            with done:
                results[cell.uuid] = result
                done.notify_all()

        # SQLite cells are local files read in this thread: threads would only fight over
        # the GIL turning rows into Python (a 1,000-row listing over two cells took twice
        # as long threaded), and a file read cannot hang like a network connection.
        local = [cell for cell in cells
                 if (cell.database_connection or "").startswith("sqlite")]
        deadline = time.monotonic() + timeout
        # Daemon threads: a cell that never answers must not keep the process alive.
        for cell in cells:
            if cell not in local:
                threading.Thread(target=run, args=(cell,), daemon=True,
                                 name=f"cell-{cell.name or cell.uuid}").start()
        for cell in local:
            run(cell)
        with done:
            while len(results) < len(cells):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                done.wait(left)
            answered = dict(results)
        for cell in cells:
            if cell.uuid not in answered:
                answered[cell.uuid] = CellTimeout(cell)
                LOG.warning("Cell %s did not respond within %.1f s", cell.label, timeout)
            elif isinstance(answered[cell.uuid], CellFailed):
                error = answered[cell.uuid].error
                LOG.error("Cell %s failed: %s: %s", cell.label, type(error).__name__,
                          str(error).strip().splitlines()[0] if str(error).strip() else "")
        return answered

    def dispose(self) -> None:
        with self._lock:
            engines = [engine for _, engine in self._engines.values()]
            self._engines.clear()
        for engine in engines:
            engine.dispose()
