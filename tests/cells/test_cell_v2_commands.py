"""``stratus-manage cell_v2``: every command's documented exit statuses, as an operator sees them.

Commands run through ``stratus.cmd.manage.main`` in this process (argument parsing included)
against real databases; tests where the database decides the outcome run on every backend,
the rest on SQLite.
"""

from __future__ import annotations

import argparse
import threading
import uuid

import pytest
import sqlalchemy as sa
from cellhelpers import add_compute_node, add_instances, add_service, instance_row

from stratus.cells import commands, mappings, schema_cell
from stratus.cells import schema_api as api

sqlite_only = pytest.mark.parametrize("db_backend", ["sqlite"])


def _cells(env) -> list[mappings.CellMapping]:
    with env.api.connect() as conn:
        return mappings.list_cell_mappings(conn)


def _hosts(env) -> list[tuple[str, str]]:
    with env.api.connect() as conn:
        return sorted((h.host, h.cell.name) for h in mappings.list_host_mappings(conn))


def _mapped_uuids(env) -> set[str]:
    im = api.instance_mappings
    with env.api.connect() as conn:
        return set(conn.execute(sa.select(im.c.instance_uuid).where(
            im.c.project_id != mappings.INSTANCE_MIGRATION_MARKER)).scalars())


# --- map_cell0 / create_cell / list_cells / update_cell / delete_cell ----------------------

@sqlite_only
def test_map_cell0_twice_exits_0_and_makes_one_all_zero_cell0(cells_env):
    first = cells_env.manage("cell_v2", "map_cell0")
    second = cells_env.manage("cell_v2", "map_cell0")

    assert first == (0, "")
    assert second == (0, "Cell0 is already setup\n")
    [cell0] = _cells(cells_env)
    assert (cell0.uuid, cell0.name, cell0.transport_url) == (api.CELL0_UUID, "cell0", "none:///")
    assert cell0.database_connection == cells_env.urls["cell0"]


@sqlite_only
def test_create_cell_exits_0_then_2_for_the_same_transport_and_database(cells_env):
    code, out = cells_env.manage("cell_v2", "create_cell", "--name", "one", "--verbose")
    assert code == 0
    created = uuid.UUID(out.strip())

    code, out = cells_env.manage("cell_v2", "create_cell", "--name", "again")
    assert code == 2 and str(created) in out
    assert [c.name for c in _cells(cells_env)] == ["one"]


@sqlite_only
@pytest.mark.parametrize("option,value", [("--transport-url", "not a url"),
                                          ("--database_connection", "nonsense")])
def test_create_cell_with_invalid_url_exits_1_and_writes_nothing(cells_env, option, value):
    code, out = cells_env.manage("cell_v2", "create_cell", option, value)
    assert code == 1 and "Invalid" in out
    assert _cells(cells_env) == []


@sqlite_only
def test_list_cells_masks_passwords_unless_verbose(cells_env):
    cells_env.manage("cell_v2", "create_cell", "--name", "c", "--transport-url",
                     "rabbit://user:s3cret@mq:5672/", "--database_connection",
                     "mysql+pymysql://nova:dbpass@db/nova_cell1")
    code, masked = cells_env.manage("cell_v2", "list_cells")
    assert code == 0
    assert "s3cret" not in masked and "dbpass" not in masked
    assert "rabbit://user:****@mq:5672/" in masked and "nova:****@db" in masked
    code, shown = cells_env.manage("cell_v2", "list_cells", "--verbose")
    assert code == 0 and "s3cret" in shown and "dbpass" in shown


@sqlite_only
def test_update_cell_exit_statuses(cells_env):
    cells = cells_env.map_cells("cell1", "cell2")
    c1 = cells["cell1"].uuid
    update = lambda *a: cells_env.manage("cell_v2", "update_cell", *a)[0]  # noqa: E731

    assert update("--cell_uuid", str(uuid.uuid4()), "--name", "x") == 1
    assert update("--cell_uuid", c1, "--enable", "--disable") == 4
    assert update("--cell_uuid", api.CELL0_UUID, "--disable") == 5
    assert update("--cell_uuid", c1, "--database_connection", cells_env.cell_url("cell2")) == 3
    assert update("--cell_uuid", c1, "--name", "renamed", "--disable") == 0
    by_uuid = {c.uuid: c for c in _cells(cells_env)}
    assert by_uuid[c1].name == "renamed" and by_uuid[c1].disabled
    assert by_uuid[c1].database_connection == cells_env.cell_url("cell1")
    assert update("--cell_uuid", c1, "--enable") == 0
    assert not {c.uuid: c for c in _cells(cells_env)}[c1].disabled


@sqlite_only
def test_delete_cell_refuses_while_hosts_or_instances_remain(cells_env):
    cells = cells_env.map_cells("cell1", "cell2")
    c1, c2 = cells["cell1"], cells["cell2"]
    delete = lambda *a: cells_env.manage("cell_v2", "delete_cell", *a)[0]  # noqa: E731
    add_compute_node(cells_env, "cell1", "host1")
    assert cells_env.manage("cell_v2", "discover_hosts")[0] == 0
    live = instance_row()
    gone = instance_row(deleted=1)
    add_instances(cells_env, c1, "cell1", [live])
    add_instances(cells_env, c2, "cell2", [gone])

    assert delete("--cell_uuid", str(uuid.uuid4())) == 1
    assert delete("--cell_uuid", c1.uuid) == 2          # host1 is mapped there
    assert delete("--cell_uuid", c1.uuid, "--force") == 3  # and it holds a live instance
    assert delete("--cell_uuid", c2.uuid) == 4          # only a deleted instance's mapping
    assert delete("--cell_uuid", c2.uuid, "--force") == 0

    assert {c.name for c in _cells(cells_env)} == {"cell0", "cell1"}
    assert gone["uuid"] not in _mapped_uuids(cells_env)
    assert _hosts(cells_env) == [("host1", "cell1")]


# --- discover_hosts ----------------------------------------------------------------------

@sqlite_only
def test_discover_hosts_maps_new_hosts_once_and_strict_reports_nothing_new(cells_env):
    cells_env.map_cells("cell1", "cell2")
    add_compute_node(cells_env, "cell1", "host1")
    add_compute_node(cells_env, "cell1", "host1", node="host1-node2")  # one host, two nodes
    add_compute_node(cells_env, "cell2", "host2")

    code, out = cells_env.manage("cell_v2", "discover_hosts", "--strict", "--verbose")
    assert code == 0
    assert "Skipping cell0" in out and "Creating host mapping for compute host 'host2'" in out
    assert _hosts(cells_env) == [("host1", "cell1"), ("host2", "cell2")]

    assert cells_env.manage("cell_v2", "discover_hosts", "--strict")[0] == 1
    assert cells_env.manage("cell_v2", "discover_hosts")[0] == 0
    add_compute_node(cells_env, "cell2", "host3")
    assert cells_env.manage("cell_v2", "discover_hosts", "--strict")[0] == 0
    assert _hosts(cells_env) == [("host1", "cell1"), ("host2", "cell2"), ("host3", "cell2")]
    with cells_env.cell_engine("cell1").connect() as conn:
        flags = conn.execute(sa.select(schema_cell.compute_nodes.c.mapped)).scalars().all()
    assert flags == [1, 1]


@sqlite_only
def test_discover_hosts_by_service_and_for_one_cell(cells_env):
    cells = cells_env.map_cells("cell1", "cell2")
    add_service(cells_env, "cell1", "ironic1")
    add_service(cells_env, "cell1", "conductor1", binary="nova-conductor")
    add_service(cells_env, "cell2", "ironic2")

    code, _ = cells_env.manage("cell_v2", "discover_hosts", "--by-service", "--cell_uuid",
                               cells["cell1"].uuid)
    assert code == 0
    assert _hosts(cells_env) == [("ironic1", "cell1")]
    assert cells_env.manage("cell_v2", "discover_hosts", "--cell_uuid", str(uuid.uuid4()))[0] == 1


@sqlite_only
def test_discover_hosts_exits_2_when_a_host_is_mapped_to_another_cell(cells_env):
    cells_env.map_cells("cell1", "cell2")
    add_compute_node(cells_env, "cell1", "moved")
    assert cells_env.manage("cell_v2", "discover_hosts")[0] == 0
    add_compute_node(cells_env, "cell2", "moved")

    code, out = cells_env.manage("cell_v2", "discover_hosts")
    assert code == 2 and "Duplicate host mapping" in out and "moved" in out
    assert _hosts(cells_env) == [("moved", "cell1")]


def test_concurrent_discover_hosts_map_every_host_exactly_once(cells_env):
    """Racing runs collide on host_mappings' unique host; each host ends with one mapping."""
    cells_env.map_cells("cell1", "cell2")
    for i in range(30):
        add_compute_node(cells_env, "cell1" if i % 2 else "cell2", f"host{i:02d}")
    args = argparse.Namespace(cell_uuid=None, verbose=False, strict=False, by_service=False)
    codes, errors = [], []
    start = threading.Barrier(4)

    def run() -> None:
        tool = commands.Tool(cells_env.conf, cells_env.api)
        try:
            start.wait()
            codes.append(commands.discover_hosts(tool, args))
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            tool.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == [] and codes == [0, 0, 0, 0]
    hosts = _hosts(cells_env)
    assert len(hosts) == 30 and len({h for h, _ in hosts}) == 30
    assert all(cell == ("cell1" if int(h[4:]) % 2 else "cell2") for h, cell in hosts)


# --- map_cell_and_hosts / simple_cell_setup -----------------------------------------------

@sqlite_only
def test_map_cell_and_hosts_without_hosts_exits_0_and_maps_nothing(cells_env):
    code, out = cells_env.manage("cell_v2", "map_cell_and_hosts")
    assert code == 0 and "No hosts found to map to cell" in out
    assert _cells(cells_env) == []
    assert cells_env.manage("cell_v2", "map_cell_and_hosts", "--transport-url", "bad")[0] == 1


@sqlite_only
def test_simple_cell_setup_needs_hosts_then_maps_cell0_cell_hosts_and_instances(cells_env):
    code, out = cells_env.manage("cell_v2", "simple_cell_setup")
    assert code == 1 and "No hosts found" in out

    add_compute_node(cells_env, "cell1", "host1")
    rows = [instance_row() for _ in range(120)]
    add_instances(cells_env, None, "cell1", rows, map_them=False)
    assert cells_env.manage("cell_v2", "simple_cell_setup")[0] == 0

    cells = {c.name: c for c in _cells(cells_env)}
    assert set(cells) == {"cell0", "cell1"}
    assert cells["cell1"].database_connection == cells_env.urls["cell1"]
    assert _hosts(cells_env) == [("host1", "cell1")]
    assert _mapped_uuids(cells_env) == {r["uuid"] for r in rows}
    code, out = cells_env.manage("cell_v2", "simple_cell_setup")
    assert code == 0 and "already" in out
    assert len(_cells(cells_env)) == 2


# --- map_instances / verify_instance ------------------------------------------------------

def _marker_rows(env) -> list[str]:
    im = api.instance_mappings
    with env.api.connect() as conn:
        return conn.execute(sa.select(im.c.instance_uuid).where(
            im.c.project_id == mappings.INSTANCE_MIGRATION_MARKER)).scalars().all()


def test_map_instances_resumes_where_it_stopped_and_reset_starts_over(cells_env):
    cells = cells_env.map_cells("cell1")
    rows = [instance_row(deleted=1 if i % 10 == 0 else 0) for i in range(120)]
    add_instances(cells_env, None, "cell1", rows, map_them=False)
    order = [r["uuid"] for r in rows]  # insertion order = id order = oldest first
    run = lambda *a: cells_env.manage("cell_v2", "map_instances", "--cell_uuid",  # noqa: E731
                                      cells["cell1"].uuid, *a)[0]

    assert run("--max-count", "50") == 1
    assert _mapped_uuids(cells_env) == set(order[:50])
    assert _marker_rows(cells_env) == [order[49].replace("-", " ")]
    assert run("--max-count", "50") == 1
    assert _mapped_uuids(cells_env) == set(order[:100])
    assert run("--max-count", "50") == 0
    assert _mapped_uuids(cells_env) == set(order)
    assert _marker_rows(cells_env) == []

    # An instance mapped by hand in between is not mapped twice when --reset starts over.
    with cells_env.api.begin() as conn:
        conn.execute(sa.delete(api.instance_mappings)
                     .where(api.instance_mappings.c.instance_uuid == order[3]))
    assert run("--max-count", "50", "--reset") == 1
    assert order[3] in _mapped_uuids(cells_env)
    assert run() == 0
    assert len(_mapped_uuids(cells_env)) == 120


@sqlite_only
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_map_instances_bad_max_count_exits_127(cells_env, value):
    cells = cells_env.map_cells("cell1")
    code, out = cells_env.manage("cell_v2", "map_instances", "--cell_uuid", cells["cell1"].uuid,
                                 "--max-count", value)
    assert code == 127 and "Must be greater than 0" in out


@sqlite_only
def test_map_instances_unknown_cell_exits_255(cells_env):
    assert cells_env.manage("cell_v2", "map_instances", "--cell_uuid", str(uuid.uuid4()))[0] == 255


@sqlite_only
def test_verify_instance_exit_statuses(cells_env):
    cells = cells_env.map_cells("cell1")
    live, deleted, archived = instance_row(), instance_row(deleted=1), instance_row()
    add_instances(cells_env, cells["cell1"], "cell1", [live, deleted, archived])
    with cells_env.cell_engine("cell1").begin() as conn:
        conn.execute(sa.delete(schema_cell.instances)
                     .where(schema_cell.instances.c.uuid == archived["uuid"]))
    building = str(uuid.uuid4())
    with cells_env.api.begin() as conn:
        mappings.create_instance_mapping(conn, instance_uuid=building, project_id="p1",
                                         user_id="u1")
    verify = lambda u, *a: cells_env.manage("cell_v2", "verify_instance",  # noqa: E731
                                            "--uuid", u, *a)

    code, out = verify(live["uuid"])
    assert code == 0 and "is in cell: cell1" in out
    assert verify(str(uuid.uuid4()))[0] == 1
    assert verify(building)[0] == 2
    assert verify(deleted["uuid"])[0] == 3
    assert verify(archived["uuid"])[0] == 4
    assert verify(archived["uuid"], "--quiet") == (4, "")


# --- list_hosts / delete_host -------------------------------------------------------------

@sqlite_only
def test_list_hosts_and_delete_host_exit_statuses(cells_env):
    cells = cells_env.map_cells("cell1", "cell2")
    c1 = cells["cell1"].uuid
    add_compute_node(cells_env, "cell1", "busy")
    add_compute_node(cells_env, "cell1", "idle")
    add_compute_node(cells_env, "cell2", "other")
    cells_env.manage("cell_v2", "discover_hosts")
    add_instances(cells_env, cells["cell1"], "cell1", [instance_row(host="busy")])

    code, out = cells_env.manage("cell_v2", "list_hosts", "--cell_uuid", c1)
    assert code == 0 and "busy" in out and "idle" in out and "other" not in out
    assert cells_env.manage("cell_v2", "list_hosts", "--cell_uuid", str(uuid.uuid4()))[0] == 1
    delete = lambda cell, host: cells_env.manage("cell_v2", "delete_host",  # noqa: E731
                                                 "--cell_uuid", cell, "--host", host)[0]
    assert delete(str(uuid.uuid4()), "idle") == 1
    assert delete(c1, "nosuchhost") == 2
    assert delete(c1, "other") == 3
    assert delete(c1, "busy") == 4
    assert delete(c1, "idle") == 0
    assert _hosts(cells_env) == [("busy", "cell1"), ("other", "cell2")]
    # The deleted host's node can be discovered again.
    assert cells_env.manage("cell_v2", "discover_hosts", "--strict")[0] == 0
    assert ("idle", "cell1") in _hosts(cells_env)
