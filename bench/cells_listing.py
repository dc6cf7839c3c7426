"""Data-layer half of bench/server_list.py: list_instances over 2 SQLite cells vs a raw read.

10,000 instances split over two cell databases; the median time of
``listing.list_instances(limit=1000)`` (default order, then by display_name, and a page in
the middle by marker) beside the time the same 1,000 rows take to read straight from one
database. The issue's goal for the whole API request is within 3x of the raw read and under
250 ms; this measures what the data layer leaves for HTTP and views.

    .venv/bin/python bench/cells_listing.py [--instances 10000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid

import sqlalchemy as sa

from stratus.cells import listing, mappings, schema_cell, setup
from stratus.cells import schema_api as api
from stratus.common.db import make_engine, migration


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="cells-bench-")
    api_engine = make_engine(f"sqlite:///{state}/api.sqlite")
    migration.sync("api", api_engine)
    cells = []
    with api_engine.begin() as conn:
        for n in (1, 2):
            url = f"sqlite:///{state}/cell{n}.sqlite"
            setup.sync_cell_database(url)
            cells.append(mappings.create_cell_mapping(conn, name=f"cell{n}",
                                                      transport_url="fake://",
                                                      database_connection=url))
    flavor = json.dumps({"cur": {"name": "m1.small", "vcpus": 1, "memory_mb": 512}})
    for i, cell in enumerate(cells):
        rows = [dict(uuid=str(uuid.uuid4()), display_name=f"server-{j:05d}", project_id="p1",
                     user_id="u1", vm_state="active", power_state=1, flavor=flavor,
                     memory_mb=512, vcpus=1, created_at=api.utcnow())
                for j in range(i, args.instances, 2)]
        engine = make_engine(cell.database_connection)
        with engine.begin() as conn:
            conn.execute(sa.insert(schema_cell.instances), rows)
        with api_engine.begin() as conn:
            conn.execute(sa.insert(api.instance_mappings), [
                dict(instance_uuid=r["uuid"], project_id="p1", user_id="u1", cell_id=cell.id)
                for r in rows])
        engine.dispose()

    cell_dbs = mappings.CellDatabases(api_engine)
    where = [schema_cell.instances.c.project_id == "p1", schema_cell.instances.c.deleted == 0]
    first = listing.list_instances(cell_dbs, where=where, limit=1000,
                                   sort_keys=[("display_name", "asc")])
    marker = first.records[-1].row["uuid"]
    raw_engine = cell_dbs.engine(cells[0])

    def raw() -> None:
        with raw_engine.connect() as conn:
            conn.execute(sa.select(schema_cell.instances).where(*where)
                         .order_by(schema_cell.instances.c.created_at.desc()).limit(1000)).all()

    raw_ms = _median_ms(raw, args.repeat)
    print(f"{args.instances} instances over 2 cells; raw read of 1000 rows: {raw_ms:.1f} ms")
    for label, kwargs in [
        ("default order (created_at desc)", {}),
        ("sort_key=display_name", {"sort_keys": [("display_name", "asc")]}),
        ("sort_key=display_name, 2nd page", {"sort_keys": [("display_name", "asc")],
                                             "marker": marker}),
    ]:
        ms = _median_ms(lambda kw=kwargs: listing.list_instances(
            cell_dbs, where=where, limit=1000, **kw), args.repeat)
        print(f"  list_instances limit=1000, {label:<34} {ms:7.1f} ms  ({ms / raw_ms:.1f}x raw)")
    cell_dbs.dispose()
    api_engine.dispose()


if __name__ == "__main__":
    main()
