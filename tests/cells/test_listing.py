"""Listing instances across cells: merged order, marker paging, and cells that do not answer."""

from __future__ import annotations

import datetime
import logging
import random
import socket
import time
import uuid

import pytest
import sqlalchemy as sa
from cellhelpers import add_instances, instance_row

from stratus.cells import listing, mappings, schema_cell
from stratus.cells.mappings import CellFailed, CellTimeout


def unreachable_url() -> str:
    """A PostgreSQL URL on a port nothing listens on: connecting is refused at once."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere"


def _page_through(cell_dbs, limit: int, **kwargs) -> list[listing.CellRecord]:
    seen, marker = [], None
    while True:
        page = listing.list_instances(cell_dbs, limit=limit, marker=marker, **kwargs)
        assert page.down_cells == []
        seen += page.records
        if len(page.records) < limit:
            return seen
        marker = page.records[-1].row["uuid"]


def _spread_instances(env, cells, count: int, names) -> list[dict]:
    rows = []
    start = datetime.datetime(2024, 1, 1)
    for i in range(count):
        rows.append(instance_row(display_name=names(i),
                                 created_at=start + datetime.timedelta(seconds=i % 97)))
    random.Random(7).shuffle(rows)
    add_instances(env, cells["cell1"], "cell1", rows[: count // 2])
    add_instances(env, cells["cell2"], "cell2", rows[count // 2:])
    return rows


def test_1000_instances_in_2_cells_page_by_display_name_exactly_once_in_order(cells_env):
    cells = cells_env.map_cells("cell1", "cell2")
    # Names repeat (ties broken by uuid) and mix case, digits and punctuation.
    rows = _spread_instances(cells_env, cells, 1000,
                             lambda i: random.Random(i).choice(["web", "Web", "db-1", "a_b"])
                             + str(i % 300))
    cell_dbs = cells_env.cell_dbs()
    try:
        seen = _page_through(cell_dbs, 100, sort_keys=[("display_name", "asc")])
    finally:
        cell_dbs.dispose()

    got = [(r.row["display_name"], r.row["uuid"]) for r in seen]
    assert got == sorted((r["display_name"], r["uuid"]) for r in rows)
    assert {r.cell.name for r in seen} == {"cell1", "cell2"}


def test_descending_multi_key_order_with_nulls_pages_exactly_once(cells_env):
    cells = cells_env.map_cells("cell1", "cell2")
    rows = _spread_instances(cells_env, cells, 300,
                             lambda i: None if i % 7 == 0 else f"n{i % 11}")
    cell_dbs = cells_env.cell_dbs()
    try:
        seen = _page_through(cell_dbs, 17, sort_keys=[("display_name", "desc"),
                                                      ("created_at", "asc")])
    finally:
        cell_dbs.dispose()

    def key(r):  # NULL lowest: last when descending
        return (r["display_name"] is not None, r["display_name"] or "")

    expected = sorted(rows, key=lambda r: r["uuid"], reverse=True)
    expected = sorted(expected, key=lambda r: r["created_at"])
    expected = sorted(expected, key=key, reverse=True)
    assert [r.row["uuid"] for r in seen] == [r["uuid"] for r in expected]


def test_a_cell_holding_most_of_a_page_is_asked_again_for_more(cells_env):
    """Each cell first answers its share of the page (limit/cells + 10%, at least 100);
    a lopsided page needs further batches from the fuller cell, in order."""
    cells = cells_env.map_cells("cell1", "cell2")
    crowded = [instance_row(display_name=f"a{i:04d}") for i in range(600)]
    sparse = [instance_row(display_name=f"a{i:04d}x") for i in range(0, 600, 50)]
    add_instances(cells_env, cells["cell1"], "cell1", crowded)
    add_instances(cells_env, cells["cell2"], "cell2", sparse)
    cell_dbs = cells_env.cell_dbs()
    try:
        seen = _page_through(cell_dbs, 450, sort_keys=[("display_name", "asc")])
    finally:
        cell_dbs.dispose()
    assert [r.row["display_name"] for r in seen] == sorted(
        r["display_name"] for r in crowded + sparse)


def test_default_order_is_newest_first_and_where_filters_every_cell(cells_env):
    cells = cells_env.map_cells("cell1", "cell2")
    old = instance_row(project_id="p1", created_at=datetime.datetime(2020, 1, 1))
    new = instance_row(project_id="p1", created_at=datetime.datetime(2023, 1, 1))
    other = instance_row(project_id="p2", created_at=datetime.datetime(2022, 1, 1))
    add_instances(cells_env, cells["cell1"], "cell1", [old, other])
    add_instances(cells_env, cells["cell2"], "cell2", [new])
    cell_dbs = cells_env.cell_dbs()
    try:
        page = listing.list_instances(cell_dbs, where=[schema_cell.instances.c.project_id == "p1"])
    finally:
        cell_dbs.dispose()
    assert [r.row["uuid"] for r in page.records] == [new["uuid"], old["uuid"]]


def test_unknown_marker_raises_marker_not_found(cells_env):
    cells_env.map_cells("cell1")
    cell_dbs = cells_env.cell_dbs()
    try:
        with pytest.raises(listing.MarkerNotFound):
            listing.list_instances(cell_dbs, marker=str(uuid.uuid4()))
    finally:
        cell_dbs.dispose()


def test_unknown_sort_key_is_a_value_error(cells_env):
    cell_dbs = cells_env.cell_dbs()
    try:
        with pytest.raises(ValueError, match="unknown sort key"):
            listing.list_instances(cell_dbs, sort_keys=[("password", "asc")])
    finally:
        cell_dbs.dispose()


def test_unreachable_cell_gives_partial_results_and_is_logged(cells_env, caplog):
    cells = cells_env.map_cells("cell1")
    rows = [instance_row(display_name=f"vm{i}") for i in range(5)]
    add_instances(cells_env, cells["cell1"], "cell1", rows)
    with cells_env.api.begin() as conn:
        down = mappings.create_cell_mapping(conn, name="down", transport_url="fake://",
                                            database_connection=unreachable_url())
    cell_dbs = cells_env.cell_dbs(cell_timeout_s=20)
    caplog.set_level(logging.ERROR, logger="stratus.cells.mappings")
    try:
        page = listing.list_instances(cell_dbs, sort_keys=[("display_name", "asc")])
    finally:
        cell_dbs.dispose()
    assert [r.row["display_name"] for r in page.records] == [f"vm{i}" for i in range(5)]
    assert [c.uuid for c in page.down_cells] == [down.uuid]
    assert any(down.uuid in rec.getMessage() and "failed" in rec.getMessage()
               for rec in caplog.records)


def test_scatter_gather_marks_failed_and_slow_cells(cells_env, caplog):
    """A cell whose server accepts but never answers is a CellTimeout after the timeout."""
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(8)  # never accept(): the connection stalls in the handshake
    port = black_hole.getsockname()[1]
    cells = cells_env.map_cells("cell1")
    with cells_env.api.begin() as conn:
        slow = mappings.create_cell_mapping(
            conn, name="slow", transport_url="fake://",
            database_connection=f"postgresql+psycopg://postgres@127.0.0.1:{port}/x")
        failed = mappings.create_cell_mapping(conn, name="failed", transport_url="fake://",
                                              database_connection=unreachable_url())
    cell_dbs = cells_env.cell_dbs()
    caplog.set_level(logging.WARNING, logger="stratus.cells.mappings")

    def count(_cell, engine):
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(
                schema_cell.instances)).scalar()

    try:
        started = time.monotonic()
        results = cell_dbs.scatter_gather(cell_dbs.cells(), count, timeout=1.5)
        elapsed = time.monotonic() - started
    finally:
        black_hole.close()
        cell_dbs.dispose()
    assert results[cells["cell0"].uuid] == 0 and results[cells["cell1"].uuid] == 0
    assert isinstance(results[slow.uuid], CellTimeout)
    assert isinstance(results[failed.uuid], CellFailed)
    assert 1.4 < elapsed < 5
    messages = " ".join(rec.getMessage() for rec in caplog.records)
    assert f"{slow.uuid}) did not respond" in messages and f"{failed.uuid}) failed" in messages


def test_cell_engines_from_conf_are_sized_by_the_cell1_database_pool_options(tmp_path):
    """Regression: services opened 10 + 20 connections to every cell whatever the operator
    set, so four processes on PostgreSQL ran out of its 100 connections under load."""
    from stratus import conf as stratus_conf

    conf = stratus_conf.load(None, {"state_dir": str(tmp_path), "cell1_database.pool_size": 3,
                                    "cell1_database.max_overflow": 0})
    api_engine = sa.create_engine("sqlite://")
    cells = mappings.CellDatabases.from_conf(conf, api_engine)
    cell = mappings.CellMapping(id=2, uuid=str(uuid.uuid4()), name="cell2", transport_url="",
                                database_connection="postgresql+psycopg://u@127.0.0.1:1/c2",
                                disabled=False)
    engine = cells.engine(cell)  # made, not connected
    assert (engine.pool.size(), engine.pool._max_overflow) == (3, 0)
    assert cells.cell_timeout_s == conf.cells.cell_timeout
    cells.dispose()
