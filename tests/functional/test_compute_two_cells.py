"""Acceptance: 1,000 servers over two cells page through GET /servers/detail exactly once,
in order; a cell whose database stops answering gives partial results, not a 500."""

import uuid as uuidlib

import orjson
import pytest
import sqlalchemy as sa
from compute_helpers import admin, admin_project_id, cell, ensure_flavor
from harness import start_cloud, stop_cloud

from stratus.cells import mappings
from stratus.cells.schema_api import instance_mappings, utcnow
from stratus.cells.schema_cell import instances

TOTAL = 1000


@pytest.fixture(scope="module")
def two_cells(tmp_path_factory):
    cloud = start_cloud(tmp_path_factory.mktemp("two-cells"), **{"cells.all_in_one_cells": 2})
    yield cloud
    stop_cloud(cloud)


def _fill(cloud) -> list[str]:
    """TOTAL instances alternating between cell1 and cell2, as the conductor would write."""
    project, user = admin_project_id(cloud), "u"
    cells = [cell(cloud, "cell1"), cell(cloud, "cell2")]
    flavor = orjson.dumps({"cur": {"flavorid": "tiny", "name": "tiny"}}).decode()
    names = [f"srv-{(i * 7919) % TOTAL:04d}" for i in range(TOTAL)]  # shuffled order
    rows: dict[int, list[dict]] = {0: [], 1: []}
    maps = []
    for index, name in enumerate(names):
        uuid = str(uuidlib.uuid4())
        which = index % 2
        rows[which].append({"uuid": uuid, "display_name": name, "project_id": project,
                            "user_id": user, "vm_state": "active", "power_state": 1,
                            "flavor": flavor, "created_at": utcnow(), "deleted": 0})
        maps.append({"instance_uuid": uuid, "cell_id": cells[which].id, "project_id": project,
                     "user_id": user, "queued_for_delete": False, "created_at": utcnow()})
    for which, target in enumerate(cells):
        with cloud.aio.compute.cells.engine(target).begin() as conn:
            conn.execute(sa.insert(instances), rows[which])
    with cloud.aio.compute.api_engine.begin() as conn:
        conn.execute(sa.insert(instance_mappings), maps)
    return sorted(names)


def test_paging_by_display_name_returns_every_server_once_in_order(two_cells):
    ensure_flavor(admin(two_cells), "tiny")
    expected = _fill(two_cells)
    compute = admin(two_cells)
    seen = []
    url = "/servers/detail?limit=100&sort_key=display_name&sort_dir=asc"
    pages = 0
    while url:
        resp = compute.get(url)
        assert resp.status_code == 200
        page = resp.json()
        seen += [s["name"] for s in page["servers"]]
        pages += 1
        links = page.get("servers_links")
        url = links[0]["href"].split("/compute/v2.1", 1)[1] if links else None
    assert seen == expected
    assert pages in (10, 11)  # the last full page links to an empty one

    # Stop cell2's database: its mapping now names a server that does not answer.
    cell2 = cell(two_cells, "cell2")
    api = two_cells.aio.compute.api_engine
    with api.begin() as conn:
        mappings.update_cell_mapping(
            conn, cell2.uuid,
            database_connection="postgresql+psycopg://nobody@127.0.0.1:1/gone?connect_timeout=2")
    two_cells.aio.compute.cells.cells(refresh=True)
    resp = compute.get("/servers/detail?limit=1000&sort_key=display_name&sort_dir=asc")
    assert resp.status_code == 200
    assert len(resp.json()["servers"]) == TOTAL // 2
