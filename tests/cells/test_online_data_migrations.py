"""``stratus-manage db online_data_migrations`` on an API database written in its older shape.

Each test syncs the API database to api_0002 (before instance_mappings had user_id and
queued_for_delete), writes mappings as that release did, upgrades to head, and migrates.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from cellhelpers import add_instances, instance_row

from stratus.cells import online_migrations, schema_cell, setup
from stratus.cells import schema_api as api
from stratus.common.db import migration


def _old_shape_env(env, rows_by_cell: dict[str, list[dict]], building: list[str] = ()):
    """API DB at api_0002 with cells and mappings (no user_id column yet), then at head."""
    # cells_env synced the API database to head; start over at the baseline.
    with env.api.begin() as conn:
        for table in reversed(api.metadata.sorted_tables):
            conn.execute(sa.text(f"DROP TABLE {table.name}"))
        conn.execute(sa.text("DROP TABLE alembic_version"))
    migration.sync("api", env.api, "api_0002")
    old = sa.table("instance_mappings", sa.column("instance_uuid"), sa.column("cell_id"),
                   sa.column("project_id"), sa.column("created_at"))
    with env.api.begin() as conn:
        cells = {"cell0": setup.ensure_cell0(conn, env.urls["cell0"])[0]}
        for name in rows_by_cell:
            cells[name], _ = setup.ensure_cell(conn, name=name, transport_url="fake://",
                                               database_connection=env.cell_url(name))
        for name, rows in rows_by_cell.items():
            conn.execute(sa.insert(old), [dict(instance_uuid=r["uuid"], cell_id=cells[name].id,
                                               project_id=r["project_id"],
                                               created_at=api.utcnow()) for r in rows])
        for instance_uuid in building:
            conn.execute(sa.insert(old).values(instance_uuid=instance_uuid, cell_id=None,
                                               project_id="p1", created_at=api.utcnow()))
            conn.execute(sa.insert(api.build_requests).values(
                instance_uuid=instance_uuid, project_id="p1", user_id="builder",
                instance="{}"))
    for name, rows in rows_by_cell.items():
        add_instances(env, None, name, rows, map_them=False)
    migration.sync("api", env.api)
    return cells


def _mapping_values(env) -> dict[str, tuple]:
    im = api.instance_mappings
    with env.api.connect() as conn:
        return {r.instance_uuid: (r.user_id, r.queued_for_delete) for r in conn.execute(
            sa.select(im.c.instance_uuid, im.c.user_id, im.c.queued_for_delete))}


def test_migrations_fill_user_id_and_queued_for_delete_from_the_cells(cells_env):
    live = [instance_row(user_id=f"user{i}") for i in range(70)]
    deleted = [instance_row(user_id="gone", deleted=1) for _ in range(5)]
    elsewhere = [instance_row(user_id="other") for _ in range(10)]
    building = str(uuid.uuid4())
    _old_shape_env(cells_env, {"cell1": live + deleted, "cell2": elsewhere}, [building])
    assert set(_mapping_values(cells_env).values()) == {(None, None)}

    code, out = cells_env.manage("db", "online_data_migrations")

    assert code == 0, out
    assert "populate_user_id" in out and "populate_queued_for_delete" in out
    values = _mapping_values(cells_env)
    assert all(values[r["uuid"]] == (r["user_id"], False) for r in live + elsewhere)
    assert all(values[r["uuid"]][1] is True for r in deleted)
    assert values[building] == ("builder", False)
    # Idempotent: a second run finds nothing and changes nothing.
    assert cells_env.manage("db", "online_data_migrations")[0] == 0
    assert _mapping_values(cells_env) == values


def test_max_count_bounds_each_run_and_exit_1_until_done(cells_env):
    rows = [instance_row(user_id="u") for _ in range(30)]
    _old_shape_env(cells_env, {"cell1": rows})
    codes = []
    for _ in range(10):
        code, out = cells_env.manage("db", "online_data_migrations", "--max-count", "20")
        codes.append(code)
        if code == 0:
            break
    # 60 row-fixes (30 rows x 2 migrations) in runs of at most 20: the third run finishes.
    assert codes == [1, 1, 0], out
    assert set(_mapping_values(cells_env).values()) == {("u", False)}


def test_mapping_of_an_archived_instance_is_marked_deleted_and_needs_no_owner(cells_env):
    rows = [instance_row() for _ in range(3)]
    _old_shape_env(cells_env, {"cell1": rows})
    with cells_env.cell_engine("cell1").begin() as conn:
        conn.execute(sa.delete(schema_cell.instances)
                     .where(schema_cell.instances.c.uuid == rows[0]["uuid"]))

    assert cells_env.manage("db", "online_data_migrations")[0] == 0
    assert _mapping_values(cells_env)[rows[0]["uuid"]] == (None, True)


@pytest.mark.parametrize("db_backend", ["sqlite"])
@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_bad_max_count_exits_127(cells_env, value):
    code, out = cells_env.manage("db", "online_data_migrations", "--max-count", value)
    assert code == 127 and "positive" in out


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_a_failing_migration_exits_2_and_the_others_still_run(cells_env):
    """A cell database that cannot be read makes its migration fail, not the whole run."""
    rows = [instance_row() for _ in range(4)]
    _old_shape_env(cells_env, {"cell1": rows})
    with cells_env.cell_engine("cell1").begin() as conn:
        conn.execute(sa.text("DROP TABLE tags"))
        conn.execute(sa.text("DROP TABLE instance_faults"))
        conn.execute(sa.text("DROP TABLE instance_metadata"))
        conn.execute(sa.text("DROP TABLE instance_system_metadata"))
        conn.execute(sa.text("DROP TABLE instances"))
    building = str(uuid.uuid4())
    with cells_env.api.begin() as conn:
        conn.execute(sa.insert(api.instance_mappings).values(
            instance_uuid=building, project_id="p1", cell_id=None, queued_for_delete=None))

    code, out = cells_env.manage("db", "online_data_migrations")

    assert code == 2 and "failed unexpectedly" in out
    assert _mapping_values(cells_env)[building] == (None, False)  # the batch's cell-less rows


def test_registry_runs_queued_for_delete_before_user_id():
    names = [name for name, _ in online_migrations.MIGRATIONS]
    assert names.index("populate_queued_for_delete") < names.index("populate_user_id")
