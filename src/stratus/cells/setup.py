"""Setting cells up: cell0 and numbered cells from configuration, and every mapped cell's schema.

Used by ``stratus-manage cell_v2``, ``stratus-manage db sync`` and the all-in-one.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from oslo_config import cfg

from stratus.cells import mappings
from stratus.cells import schema_api as api
from stratus.common.db import make_engine, migration

# Every cell database (cell0, cell1, cellN) follows the one cell migration tree; migration.py
# names that tree after its configured cells, so "cell1" stands for any cell here.
CELL_TREE = "cell1"
# Why a cell's conductor or a direct compute agent will not start on it.
CELL_NOT_SYNCED = ("the cell database is not at the newest schema; run "
                   "`stratus-manage db sync` first")


def cell_database_url(conf: cfg.ConfigOpts, number: int) -> str:
    """Database URL of cell ``number`` (1 = [cell1_database]; others from the pattern)."""
    base = conf.cell1_database.connection
    if number == 1:
        return base
    pattern = conf.cells.database_connection_pattern
    if pattern:
        return pattern.replace("{n}", str(number))
    at = base.rfind("cell1")
    if at < 0:
        raise ValueError("[cell1_database] connection does not name 'cell1'; set "
                         "[cells] database_connection_pattern to place more cells")
    return f"{base[:at]}cell{number}{base[at + len('cell1'):]}"


def ensure_cell0(conn: sa.Connection, database_connection: str
                 ) -> tuple[mappings.CellMapping, bool]:
    """The cell0 mapping, created if missing; (mapping, created)."""
    try:
        return mappings.get_cell_mapping(conn, api.CELL0_UUID), False
    except mappings.MappingNotFound:
        cell = mappings.create_cell_mapping(
            conn, cell_uuid=api.CELL0_UUID, name=api.CELL0_NAME,
            transport_url=api.CELL0_TRANSPORT_URL, database_connection=database_connection)
        return cell, True


def ensure_cell(conn: sa.Connection, *, name: str, transport_url: str,
                database_connection: str) -> tuple[mappings.CellMapping, bool]:
    """The cell with this transport URL and database, created if missing; (mapping, created)."""
    existing = mappings.find_cell_mapping(conn, transport_url=transport_url,
                                          database_connection=database_connection)
    if existing is not None:
        return existing, False
    return mappings.create_cell_mapping(conn, name=name, transport_url=transport_url,
                                        database_connection=database_connection), True


@dataclasses.dataclass(frozen=True)
class CellSync:
    """The outcome of syncing one mapped cell's database."""

    cell: mappings.CellMapping
    before: str | None
    after: str | None


def sync_cell_database(url: str) -> tuple[str | None, str | None]:
    """Bring the cell database at ``url`` to head; (revision before, after)."""
    engine = make_engine(url)
    try:
        now = migration.current(engine)
        if now == migration.head(CELL_TREE):
            return now, now  # skip alembic's start-up cost when nothing is to do
        return migration.sync(CELL_TREE, engine)
    finally:
        engine.dispose()


def sync_mapped_cells(api_engine: sa.Engine, *, skip_urls: set[str]) -> list[CellSync]:
    """Sync every mapped cell whose database is not in ``skip_urls`` (already synced)."""
    with api_engine.connect() as conn:
        cells = mappings.list_cell_mappings(conn)
    done = []
    for cell in cells:
        if cell.database_connection in skip_urls:
            continue
        before, after = sync_cell_database(cell.database_connection)
        done.append(CellSync(cell, before, after))
        skip_urls.add(cell.database_connection)
    return done


def ensure_numbered_cells(conf: cfg.ConfigOpts, api_engine: sa.Engine,
                          count: int) -> list[mappings.CellMapping]:
    """Map cell0 and cells 1..count (databases from configuration) and sync their schemas.

    Idempotent: a cell whose transport URL and database are already mapped is reused.
    """
    with api_engine.begin() as conn:
        cell0, _ = ensure_cell0(conn, conf.cell0_database.connection)
        cells = [cell0]
        for number in range(1, count + 1):
            cell, _ = ensure_cell(conn, name=f"cell{number}", transport_url=conf.transport_url,
                                  database_connection=cell_database_url(conf, number))
            cells.append(cell)
    for cell in cells:
        sync_cell_database(cell.database_connection)
    return cells
