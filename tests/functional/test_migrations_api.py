"""GET /os-migrations and /servers/{id}/migrations on an all-in-one with two fake hosts:
the records a resize and a cold migration leave, read back through the API (filters,
microversions, policy, Nova's error shapes) and through `openstack server migration list`.

Live migration is not served, so a live migration's record is written into the cell
database by hand (as Nova's conductor writes one) to show how an in-progress one is
listed, linked and shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid as uuidlib

import pytest
import sqlalchemy as sa
from boot_helpers import boot, default_image, make_flavor, show, wait_for
from compute_helpers import admin, cell, cell_engine, demo, fault
from harness import start_cloud, stop_cloud

from stratus.cells import mappings
from stratus.cells.schema_api import flavors as flavor_table
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import migrations

BIN = os.path.dirname(sys.executable)
# What Nova 2.1-2.22 shows of a migration; 2.23 adds migration_type.
KEYS = {"id", "status", "instance_uuid", "source_compute", "source_node", "dest_compute",
        "dest_node", "dest_host", "old_instance_type_id", "new_instance_type_id",
        "created_at", "updated_at"}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("migrations"), fake_hosts=2)
    yield running
    stop_cloud(running)


def _flavor_db_id(cloud, flavorid: str) -> int:
    """The integer id Nova's migration records name flavors by (instance_type_id)."""
    with cloud.aio.compute.api_engine.connect() as conn:
        return conn.execute(sa.select(flavor_table.c.id)
                            .where(flavor_table.c.flavorid == flavorid)).scalar_one()


def _action(compute, server_id: str, body: dict) -> None:
    resp = compute.post(f"/servers/{server_id}/action", body)
    assert resp.status_code in (202, 204), resp.text


def _wait_status(compute, server_id: str, status: str, timeout: float = 30) -> list[dict]:
    """The server's migrations once its newest one has ``status``."""
    deadline = time.monotonic() + timeout
    while True:
        found = compute.get(f"/os-migrations?instance_uuid={server_id}").json()["migrations"]
        if found and found[-1]["status"] == status:
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


@pytest.fixture(scope="module")
def moved(cloud) -> dict:
    """A demo server resized (then confirmed) and cold-migrated (left in VERIFY_RESIZE)."""
    compute, operator = demo(cloud), admin(cloud)
    small = make_flavor(operator, "mig.small", ram=256, vcpus=1, disk=1)
    big = make_flavor(operator, "mig.big", ram=512, vcpus=1, disk=1)
    server = boot(compute, "moving", small["id"], default_image(cloud, compute.token))
    wait_for(compute, server["id"], "ACTIVE")
    first = show(operator, server["id"])["OS-EXT-SRV-ATTR:host"]
    _action(compute, server["id"], {"resize": {"flavorRef": big["id"]}})
    wait_for(compute, server["id"], "VERIFY_RESIZE")
    second = show(operator, server["id"])["OS-EXT-SRV-ATTR:host"]
    _action(compute, server["id"], {"confirmResize": None})
    wait_for(compute, server["id"], "ACTIVE")
    _wait_status(operator, server["id"], "confirmed")
    _action(operator, server["id"], {"migrate": None})
    wait_for(compute, server["id"], "VERIFY_RESIZE")
    return {"id": server["id"], "first": first, "second": second,
            "small": _flavor_db_id(cloud, small["id"]), "big": _flavor_db_id(cloud, big["id"])}


def test_os_migrations_lists_the_resize_and_the_cold_migration_as_nova_does(cloud, moved):
    resize, migration = admin(cloud, "2.1").get("/os-migrations").json()["migrations"]
    assert set(resize) == set(migration) == KEYS
    assert resize["instance_uuid"] == migration["instance_uuid"] == moved["id"]
    assert (resize["status"], migration["status"]) == ("confirmed", "finished")
    assert (resize["source_compute"], resize["dest_compute"], resize["dest_host"]) == (
        moved["first"], moved["second"], moved["second"])
    assert (migration["source_compute"], migration["dest_compute"]) == (
        moved["second"], moved["first"])
    assert resize["source_node"] and resize["dest_node"] != resize["source_node"]
    assert (resize["old_instance_type_id"], resize["new_instance_type_id"]) == (
        moved["small"], moved["big"])
    # A cold migration keeps the flavor: both ids are the one it runs with.
    assert (migration["old_instance_type_id"], migration["new_instance_type_id"]) == (
        moved["big"], moved["big"])
    assert resize["id"] < migration["id"]
    # Nova's naive timestamps with microseconds.
    assert len(resize["created_at"]) == len("2016-01-29T13:42:02.000000")
    assert "Z" not in resize["updated_at"]

    at_2_23 = admin(cloud, "2.23").get("/os-migrations").json()["migrations"]
    assert [(m["migration_type"], "links" in m) for m in at_2_23] == [
        ("resize", False), ("migration", False)]
    assert set(at_2_23[0]) == KEYS | {"migration_type"}
    assert admin(cloud, None).get("/os-migrations").json()["migrations"] == \
        admin(cloud, "2.1").get("/os-migrations").json()["migrations"]


@pytest.mark.parametrize("query,expected", [
    ("", ["resize", "migration"]),
    ("?status=finished", ["migration"]),
    ("?status=confirmed", ["resize"]),
    ("?status=error", []),
    ("?migration_type=resize", ["resize"]),
    ("?migration_type=migration", ["migration"]),
    ("?migration_type=live-migration", []),
    ("?migration_type=not-a-type", []),  # Nova compares, it does not validate: 200, empty
    ("?instance_uuid={other}", []),
    ("?instance_uuid={server}", ["resize", "migration"]),
    ("?host={first}", ["resize", "migration"]),  # either end of the move
    ("?host=nowhere", []),
    ("?source_compute={first}", ["resize"]),
    ("?source_compute={second}", ["migration"]),
    # host wins: source_compute is not applied at all when host is given
    ("?host={second}&source_compute=nowhere", ["resize", "migration"]),
    ("?hidden=0", ["resize", "migration"]),
    ("?hidden=1", []),  # hidden records are never shown
    ("?status=finished&migration_type=resize", []),
    ("?frobnicate=1&limit=1&changes-since=yesterday", ["resize", "migration"]),  # ignored
    ("?status=error&status=finished", ["migration"]),  # a repeated filter: the last wins
])
def test_os_migrations_filters(cloud, moved, query, expected):
    query = query.format(server=moved["id"], other=uuidlib.uuid4(), first=moved["first"],
                         second=moved["second"])
    resp = admin(cloud).get(f"/os-migrations{query}")
    assert resp.status_code == 200, resp.text
    assert [m["migration_type"] for m in resp.json()["migrations"]] == expected


def test_os_migrations_is_for_admins_and_answers_bad_versions_in_novas_shape(cloud, moved):
    message = fault(demo(cloud).get("/os-migrations"), 403)
    assert "os_compute_api:os-migrations:index" in message
    fault(admin(cloud, "2.39").get("/os-migrations"), 406)
    assert "2.abc" in fault(admin(cloud, "2.abc").get("/os-migrations"), 400)


def test_server_migrations_need_2_23_and_list_no_resize(cloud, moved):
    server = moved["id"]
    unknown = "The resource could not be found."
    assert fault(admin(cloud, "2.22").get(f"/servers/{server}/migrations"), 404) == unknown
    assert fault(admin(cloud, "2.22").get(f"/servers/{server}/migrations/1"), 404) == unknown
    # Only in-progress live migrations are listed, and this server has had none.
    resp = admin(cloud, "2.23").get(f"/servers/{server}/migrations")
    assert (resp.status_code, resp.json()) == (200, {"migrations": []})
    resize_id = admin(cloud).get("/os-migrations").json()["migrations"][0]["id"]
    assert fault(admin(cloud).get(f"/servers/{server}/migrations/{resize_id}"), 404) == \
        f"Migration {resize_id} for server {server} is not live-migration."
    for missing in ("999999", "abc"):
        assert fault(admin(cloud).get(f"/servers/{server}/migrations/{missing}"), 404) == \
            f"In-progress live migration {missing} is not found for server {server}."
    nowhere = str(uuidlib.uuid4())
    assert fault(admin(cloud).get(f"/servers/{nowhere}/migrations"), 404) == \
        f"Instance {nowhere} could not be found."
    # Policy comes first, as in Nova: the owner of the server is refused, not told.
    assert "servers:migrations:index" in fault(demo(cloud).get(
        f"/servers/{server}/migrations"), 403)
    assert "servers:migrations:show" in fault(demo(cloud).get(
        f"/servers/{server}/migrations/{resize_id}"), 403)


@pytest.fixture
def live_migration(cloud, moved):
    """A running live migration of the moved server, as Nova's conductor records one."""
    values = {"uuid": str(uuidlib.uuid4()), "instance_uuid": moved["id"],
              "migration_type": "live-migration", "status": "running",
              "source_compute": moved["first"], "source_node": f"{moved['first']}-node",
              "dest_compute": moved["second"], "dest_node": f"{moved['second']}-node",
              "dest_host": "192.0.2.20", "old_instance_type_id": moved["big"],
              "new_instance_type_id": moved["big"], "created_at": utcnow()}
    engine = cell_engine(cloud)
    with engine.begin() as conn:
        migration_id = conn.execute(sa.insert(migrations).values(**values)
                                    ).inserted_primary_key[0]
    yield migration_id
    with engine.begin() as conn:
        conn.execute(sa.delete(migrations).where(migrations.c.id == migration_id))


def _set_status(cloud, migration_id: int, status: str) -> None:
    with cell_engine(cloud).begin() as conn:
        conn.execute(sa.update(migrations).where(migrations.c.id == migration_id)
                     .values(status=status))


def test_an_in_progress_live_migration_is_listed_linked_and_shown(cloud, moved,
                                                                  live_migration):
    server, compute = moved["id"], admin(cloud)
    listed = compute.get(f"/servers/{server}/migrations").json()["migrations"]
    assert [m["id"] for m in listed] == [live_migration]
    assert listed[0] == compute.get(
        f"/servers/{server}/migrations/{live_migration}").json()["migration"]
    assert set(listed[0]) == {
        "id", "status", "server_uuid", "source_compute", "source_node", "dest_compute",
        "dest_node", "dest_host", "created_at", "updated_at", "memory_total_bytes",
        "memory_processed_bytes", "memory_remaining_bytes", "disk_total_bytes",
        "disk_processed_bytes", "disk_remaining_bytes"}
    assert (listed[0]["server_uuid"], listed[0]["status"]) == (server, "running")

    [entry] = compute.get("/os-migrations?migration_type=live-migration").json()["migrations"]
    path = f"servers/{server}/migrations/{live_migration}"
    assert [(link["rel"], link["href"].split("/compute/", 1)[1]) for link in entry["links"]] \
        == [("self", f"v2.1/{path}"), ("bookmark", path)]
    [old] = admin(cloud, "2.22").get(
        "/os-migrations?migration_type=live-migration").json()["migrations"]
    assert set(old) == KEYS

    _set_status(cloud, live_migration, "completed")
    assert compute.get(f"/servers/{server}/migrations").json() == {"migrations": []}
    assert fault(compute.get(f"/servers/{server}/migrations/{live_migration}"), 404) == \
        f"Live migration {live_migration} for server {server} is not in progress."
    [done] = compute.get("/os-migrations?migration_type=live-migration").json()["migrations"]
    assert "links" not in done


def test_hidden_records_are_never_listed(cloud, moved, live_migration):
    with cell_engine(cloud).begin() as conn:
        conn.execute(sa.update(migrations).where(migrations.c.id == live_migration)
                     .values(hidden=True))
    assert admin(cloud).get("/os-migrations?migration_type=live-migration"
                            ).json()["migrations"] == []


def _osc(cloud, *args: str) -> list[dict]:
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": cloud.aio.clouds_yaml}
    result = subprocess.run([f"{BIN}/openstack", "--os-cloud", "stratus", *args,
                             "-f", "json"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_openstack_server_migration_list_shows_the_moves(cloud, moved):
    rows = _osc(cloud, "server", "migration", "list", "--os-compute-api-version", "2.23")
    assert [(r["Id"], r["Type"], r["Status"], r["Server UUID"]) for r in rows] == [
        (m["id"], m["migration_type"], m["status"], m["instance_uuid"])
        for m in admin(cloud).get("/os-migrations").json()["migrations"]]
    resize = rows[0]
    assert (resize["Source Compute"], resize["Dest Compute"]) == (moved["first"],
                                                                  moved["second"])
    assert (resize["Old Flavor"], resize["New Flavor"]) == (moved["small"], moved["big"])
    filtered = _osc(cloud, "server", "migration", "list", "--server", moved["id"],
                    "--type", "cold-migration", "--status", "finished")
    assert [r["Status"] for r in filtered] == ["finished"]
    assert _osc(cloud, "server", "migration", "list", "--host", "nowhere") == []
    assert _osc(cloud, "server", "migration", "list", "--server", moved["id"],
                "--os-compute-api-version", "2.1") == [
        {key: value for key, value in row.items() if key not in ("Id", "Type")}
        for row in rows]


@pytest.fixture(scope="module")
def two_cells(tmp_path_factory):
    """An all-in-one with two cells and no agents: records are written as a cell's
    conductor writes them."""
    running = start_cloud(tmp_path_factory.mktemp("migrations-cells"),
                          **{"cells.all_in_one_cells": 2})
    yield running
    stop_cloud(running)


def _record(cloud, cell_name: str, host: str) -> str:
    instance = str(uuidlib.uuid4())
    with cell_engine(cloud, cell_name).begin() as conn:
        conn.execute(sa.insert(migrations).values(
            uuid=str(uuidlib.uuid4()), instance_uuid=instance, migration_type="resize",
            status="finished", source_compute=host, source_node=host,
            dest_compute=f"{host}-b", dest_node=f"{host}-b", dest_host=f"{host}-b",
            old_instance_type_id=1, new_instance_type_id=2, created_at=utcnow()))
    return instance


def test_os_migrations_gathers_every_cell_and_skips_one_that_does_not_answer(two_cells):
    in_cell1 = [_record(two_cells, "cell1", "c1-host") for _ in range(2)]
    in_cell2 = [_record(two_cells, "cell2", "c2-host")]
    compute = admin(two_cells)
    listed = compute.get("/os-migrations").json()["migrations"]
    # Cell by cell (ids are per cell, so they repeat), each cell in id order.
    assert [m["instance_uuid"] for m in listed] == in_cell1 + in_cell2
    assert [m["id"] for m in listed] == [1, 2, 1]
    assert [m["instance_uuid"] for m in compute.get("/os-migrations?host=c2-host-b").json()[
        "migrations"]] == in_cell2

    cell2 = cell(two_cells, "cell2")
    with two_cells.aio.compute.api_engine.begin() as conn:
        mappings.update_cell_mapping(
            conn, cell2.uuid,
            database_connection="postgresql+psycopg://nobody@127.0.0.1:1/gone?connect_timeout=2")
    two_cells.aio.compute.cells.cells(refresh=True)
    resp = compute.get("/os-migrations")
    assert resp.status_code == 200, resp.text
    assert [m["instance_uuid"] for m in resp.json()["migrations"]] == in_cell1
