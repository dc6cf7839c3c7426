"""GET /servers/detail?limit=1000 over 10,000 servers in two cells, beside the raw read.

Goal (issue 3): the API's median within 3x of reading the same rows from the cell databases
directly, and under 250 ms on SQLite. Prints both medians and the ratio.

    .venv/bin/python bench/server_list.py [--servers 10000] [--runs 15]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
import uuid as uuidlib

import orjson
import requests
import sqlalchemy as sa

from stratus import conf as stratus_conf
from stratus.allinone import AllInOne
from stratus.cells.schema_api import instance_mappings, utcnow
from stratus.cells.schema_cell import instance_metadata, instances, tags
from stratus.common.wsgi.server import Server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fill(aio: AllInOne, project: str, total: int) -> list:
    cells = [c for c in aio.compute.cells.cells(refresh=True) if not c.is_cell0]
    flavor = orjson.dumps({"cur": {"flavorid": "tiny", "name": "tiny"}}).decode()
    per_cell: dict[str, list[dict]] = {c.uuid: [] for c in cells}
    maps = []
    for index in range(total):
        target = cells[index % len(cells)]
        uuid = str(uuidlib.uuid4())
        per_cell[target.uuid].append({
            "uuid": uuid, "display_name": f"server-{index:05d}", "project_id": project,
            "user_id": "bench", "vm_state": "active", "power_state": 1, "flavor": flavor,
            "created_at": utcnow(), "deleted": 0})
        maps.append({"instance_uuid": uuid, "cell_id": target.id, "project_id": project,
                     "user_id": "bench", "queued_for_delete": False, "created_at": utcnow()})
    for target in cells:
        with aio.compute.cells.engine(target).begin() as conn:
            conn.execute(sa.insert(instances), per_cell[target.uuid])
    with aio.compute.api_engine.begin() as conn:
        conn.execute(sa.insert(instance_mappings), maps)
    return cells


def raw_read(aio: AllInOne, cells: list, project: str, limit: int) -> None:
    """The same page read straight from the cells: rows, metadata and tags, no merge."""
    for target in cells:
        with aio.compute.cells.engine(target).connect() as conn:
            rows = conn.execute(sa.select(instances).where(
                instances.c.project_id == project, instances.c.deleted == 0)
                .order_by(instances.c.created_at.desc(), instances.c.uuid.desc())
                .limit(limit)).all()
            uuids = [row.uuid for row in rows]
            conn.execute(sa.select(instance_metadata)
                         .where(instance_metadata.c.instance_uuid.in_(uuids))).all()
            conn.execute(sa.select(tags).where(tags.c.resource_id.in_(uuids))).all()


def median_ms(fn, runs: int) -> float:
    fn()  # warm caches and connection pools
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="stratus-bench-")
    port = free_port()
    conf = stratus_conf.load(None, {"state_dir": state, "api.port": port,
                                    "cells.all_in_one_cells": 2})
    aio = AllInOne(conf)
    admin = aio.prepare()[0]
    server = Server(aio.wsgi_app(), "127.0.0.1", port, threads=4)
    server.start()
    try:
        base = f"http://127.0.0.1:{port}"
        login = requests.post(f"{base}/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": admin.username, "domain": {"id": "default"},
                "password": admin.password}}},
            "scope": {"project": {"name": admin.project_name, "domain": {"id": "default"}}}}})
        token = login.headers["X-Subject-Token"]
        project = login.json()["token"]["project"]["id"]
        cells = fill(aio, project, args.servers)
        session = requests.Session()
        session.headers.update({"X-Auth-Token": token,
                                "OpenStack-API-Version": "compute 2.38"})

        def api() -> None:
            resp = session.get(f"{base}/compute/v2.1/servers/detail?limit=1000")
            assert resp.status_code == 200 and len(resp.json()["servers"]) == 1000

        api_ms = median_ms(api, args.runs)
        raw_ms = median_ms(lambda: raw_read(aio, cells, project, 1000), args.runs)
        print(f"servers: {args.servers} over {len(cells)} cells, page of 1000")
        print(f"GET /servers/detail median: {api_ms:.1f} ms (goal < 250 ms: "
              f"{api_ms / 250:.2f}x of budget)")
        print(f"raw read of the same rows median: {raw_ms:.1f} ms")
        print(f"ratio API / raw: {api_ms / raw_ms:.2f} (goal <= 3)")
    finally:
        server.stop()
        aio.compute.cells.dispose()
        aio.databases.dispose()


if __name__ == "__main__":
    main()
