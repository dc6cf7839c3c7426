"""Cells on first start of the all-in-one, `db sync` of mapped cells, and the upgrade checks."""

from __future__ import annotations

import pytest
from cellhelpers import add_compute_node

from stratus import conf as stratus_conf
from stratus.allinone import AllInOne
from stratus.cells import mappings, setup
from stratus.cmd import status
from stratus.common.db import make_engine, migration

sqlite_only = pytest.mark.parametrize("db_backend", ["sqlite"])
FAST_HASH = {"identity.password_hash_time_cost": 1, "identity.password_hash_memory_kib": 64}


def _cell_names(api_engine) -> dict[str, str]:
    with api_engine.connect() as conn:
        return {c.name: c.database_connection for c in mappings.list_cell_mappings(conn)}


def test_all_in_one_maps_cell0_and_n_cells_on_first_start_and_only_once(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATUS_STATE_DIR", str(tmp_path))
    conf = stratus_conf.load(None, overrides={**FAST_HASH, "state_dir": str(tmp_path),
                                              "cells.all_in_one_cells": 3})
    cloud = AllInOne(conf)
    cloud.prepare()
    cloud.prepare()  # a restart maps nothing new
    try:
        cells = _cell_names(cloud.databases.engine("api"))
    finally:
        cloud.databases.dispose()
    assert cells == {"cell0": f"sqlite:///{tmp_path}/cell0.sqlite",
                     **{f"cell{n}": f"sqlite:///{tmp_path}/cell{n}.sqlite" for n in (1, 2, 3)}}
    for url in cells.values():
        engine = make_engine(url)
        try:
            assert migration.current(engine) == migration.head(setup.CELL_TREE)
        finally:
            engine.dispose()


def test_all_in_one_accepts_cells_option():
    from stratus.cmd.main import build_parser

    assert build_parser().parse_args(["all-in-one", "--cells", "2"]).cells == 2


@pytest.mark.parametrize("base,pattern,expected", [
    ("sqlite:////var/lib/stratus/cell1.sqlite", None, "sqlite:////var/lib/stratus/cell4.sqlite"),
    ("postgresql+psycopg://u@db/stratus_cell1", None, "postgresql+psycopg://u@db/stratus_cell4"),
    ("mysql+pymysql://u@db/nova", "mysql+pymysql://u@db/nova_c{n}", "mysql+pymysql://u@db/nova_c4"),
])
def test_cell_database_url_follows_cell1_or_the_pattern(base, pattern, expected):
    conf = stratus_conf.new_conf()
    conf([], project="stratus", default_config_files=[])
    conf.set_override("connection", base, group="cell1_database")
    conf.set_override("database_connection_pattern", pattern, group="cells")
    assert setup.cell_database_url(conf, 4) == expected


def test_cell_database_url_without_cell1_in_url_asks_for_a_pattern():
    conf = stratus_conf.new_conf()
    conf([], project="stratus", default_config_files=[])
    conf.set_override("connection", "mysql+pymysql://u@db/nova", group="cell1_database")
    with pytest.raises(ValueError, match="database_connection_pattern"):
        setup.cell_database_url(conf, 2)


@sqlite_only
def test_db_sync_also_syncs_cells_mapped_beyond_the_configured_ones(cells_env):
    extra = f"sqlite:///{cells_env.tmp_path}/extra_cell.sqlite"
    # cells_env lends the network database to cell2; give db sync a real network one.
    with open(cells_env.tmp_path / "stratus.conf", "a") as conf_file:
        conf_file.write(f"\n[network_database]\nconnection = "
                        f"sqlite:///{cells_env.tmp_path}/real_network.sqlite\n")
    assert cells_env.manage("cell_v2", "create_cell", "--name", "extra",
                            "--database_connection", extra)[0] == 0

    code, out = cells_env.manage("db", "sync")

    head = migration.head(setup.CELL_TREE)
    assert code == 0 and f"cell extra: {head}  (upgraded from empty)" in out
    engine = make_engine(extra)
    try:
        assert migration.current(engine) == head
    finally:
        engine.dispose()


def _check(env) -> status.Result:
    return status.check_cells_v2(env.conf)


@sqlite_only
def test_cells_check_failure_success_and_warning_as_nova_status(cells_env):
    assert _check(cells_env).code == status.FAILURE and "map_cell0" in _check(cells_env).details
    cells_env.manage("cell_v2", "map_cell0")
    assert _check(cells_env).code == status.FAILURE
    assert "simple_cell_setup" in _check(cells_env).details

    cells_env.map_cells("cell1", "cell2")
    result = _check(cells_env)
    assert result.code == status.SUCCESS and "discover_hosts" in result.details

    add_compute_node(cells_env, "cell1", "host1")
    result = _check(cells_env)
    assert result.code == status.FAILURE and "No host mappings found" in result.details

    cells_env.manage("cell_v2", "discover_hosts")
    add_compute_node(cells_env, "cell2", "host2")
    result = _check(cells_env)
    assert result.code == status.WARNING and "host2" in result.details

    cells_env.manage("cell_v2", "discover_hosts")
    assert _check(cells_env) == status.Result(status.SUCCESS)
