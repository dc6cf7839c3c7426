"""``stratus-manage db online_data_migrations``: data fixes that run while the cloud is up.

A migration is a function ``(tool, count) -> (found, done)``: ``found`` is how many rows
still need it (before this call), ``done`` how many it fixed now, at most ``count``. Each is
idempotent (it only touches rows that still need it, re-checked in the UPDATE) so runs can
overlap or stop at any point. Exit status as nova-manage: 0 nothing left, 1 more remains
(run again), 2 a migration failed, 127 bad input.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

import sqlalchemy as sa

from stratus.cells import mappings, schema_cell
from stratus.cells import schema_api as api
from stratus.cells.commands import BAD_INPUT, INVALID, format_table, parse_max_count

LOG = logging.getLogger(__name__)

BATCH = 50

Migration = Callable[["object", int], tuple[int, int]]

_im = api.instance_mappings
_real_mappings = _im.c.project_id != mappings.INSTANCE_MIGRATION_MARKER


def _cells_by_id(tool) -> dict[int, mappings.CellMapping]:
    return {cell.id: cell for cell in tool.cell_dbs.cells(refresh=True)}


def _instances_of(tool, cell: mappings.CellMapping, uuids: list[str]) -> dict[str, sa.Row]:
    inst = schema_cell.instances
    with tool.cell_dbs.engine(cell).connect() as conn:
        rows = conn.execute(sa.select(inst.c.uuid, inst.c.deleted, inst.c.user_id)
                            .where(inst.c.uuid.in_(uuids)))
        return {row.uuid: row for row in rows}


def _per_cell(tool, rows: list[sa.Row],
              sort_out: Callable[[list[str], dict[str, sa.Row]], None]) -> Exception | None:
    """Read the instances of ``rows`` (mappings with a cell) from each cell, one query per
    cell; a cell that fails does not stop the others, and its error is returned."""
    cells = _cells_by_id(tool)
    failure = None
    for cell_id in {r.cell_id for r in rows if r.cell_id is not None}:
        uuids = [r.instance_uuid for r in rows if r.cell_id == cell_id]
        try:
            sort_out(uuids, _instances_of(tool, cells[cell_id], uuids))
        except sa.exc.SQLAlchemyError as exc:
            failure = exc
    return failure


def _update_mappings(tool, uuids: list[str], still_needed: sa.ColumnElement, **values) -> int:
    if not uuids:
        return 0
    with tool.api_engine.begin() as conn:
        return conn.execute(sa.update(_im).where(_im.c.instance_uuid.in_(uuids), still_needed)
                            .values(**values)).rowcount


def populate_queued_for_delete(tool, count: int) -> tuple[int, int]:
    """instance_mappings.queued_for_delete (api_0003) from the instance's state in its cell.

    Deleted or archived (gone from the cell) → True; live, or still a build request → False.
    """
    needs = sa.and_(_im.c.queued_for_delete.is_(None), _real_mappings)
    with tool.api_engine.connect() as conn:
        found = conn.execute(sa.select(sa.func.count()).select_from(_im).where(needs)).scalar()
        rows = conn.execute(sa.select(_im.c.instance_uuid, _im.c.cell_id).where(needs)
                            .order_by(_im.c.id).limit(count)).all()
    queued, not_queued = [], [r.instance_uuid for r in rows if r.cell_id is None]

    def sort_out(uuids: list[str], in_cell: dict[str, sa.Row]) -> None:
        for uuid in uuids:
            row = in_cell.get(uuid)
            (queued if row is None or row.deleted else not_queued).append(uuid)

    failure = _per_cell(tool, rows, sort_out)
    done = _update_mappings(tool, queued, needs, queued_for_delete=True)
    done += _update_mappings(tool, not_queued, needs, queued_for_delete=False)
    if failure:
        raise failure
    return found, done


def populate_user_id(tool, count: int) -> tuple[int, int]:
    """instance_mappings.user_id (api_0003) from the instance in its cell, or its build request.

    Mappings of instances already gone (queued_for_delete true) need no owner and are skipped,
    as are stale mappings with neither a cell nor a build request.
    """
    br = api.build_requests
    has_source = sa.or_(_im.c.cell_id.is_not(None), sa.exists().where(
        br.c.instance_uuid == _im.c.instance_uuid))
    needs = sa.and_(_im.c.user_id.is_(None), _real_mappings, has_source,
                    sa.or_(_im.c.queued_for_delete.is_(None),
                           _im.c.queued_for_delete == sa.false()))
    with tool.api_engine.connect() as conn:
        found = conn.execute(sa.select(sa.func.count()).select_from(_im).where(needs)).scalar()
        rows = conn.execute(sa.select(_im.c.instance_uuid, _im.c.cell_id).where(needs)
                            .order_by(_im.c.id).limit(count)).all()
        owners = dict(conn.execute(sa.select(br.c.instance_uuid, br.c.user_id).where(
            br.c.instance_uuid.in_([r.instance_uuid for r in rows if r.cell_id is None]))).all())
    gone = []

    def sort_out(uuids: list[str], in_cell: dict[str, sa.Row]) -> None:
        owners.update({uuid: row.user_id for uuid, row in in_cell.items()})
        gone.extend(uuid for uuid in uuids if uuid not in in_cell)

    failure = _per_cell(tool, rows, sort_out)
    # Archived since it was mapped: it needs no owner, and must not block later batches.
    _update_mappings(tool, gone, needs, queued_for_delete=True)
    done = 0
    for user_id in set(owners.values()):
        uuids = [uuid for uuid, owner in owners.items() if owner == user_id]
        done += _update_mappings(tool, uuids, needs, user_id=user_id)
    if failure:
        raise failure
    return found, done


# Run in this order: populate_user_id skips what populate_queued_for_delete marks as gone.
MIGRATIONS: list[tuple[str, Migration]] = [
    ("populate_queued_for_delete", populate_queued_for_delete),
    ("populate_user_id", populate_user_id),
]


def run(tool, max_count: int | None,
        migrations: list[tuple[str, Migration]] = MIGRATIONS
        ) -> tuple[dict[str, list[int]], int, list[str]]:
    """Run the migrations; ({name: [total needed, completed]}, rows still needed, failures).

    With ``max_count`` one pass migrates at most that many rows in total; without it, passes
    of ``BATCH`` repeat until one migrates nothing.
    """
    budget = max_count or BATCH
    totals: dict[str, list[int]] = {}
    failed: list[str] = []
    while True:
        ran = remaining = 0
        for name, migration in migrations:
            try:
                found, done = migration(tool, max(budget - ran, 0))
            except Exception:  # one broken migration must not stop the others
                LOG.exception("Error attempting to run %s", name)
                failed.append(name)
                continue
            totals.setdefault(name, [found, 0])[1] += done
            ran += done
            remaining += found - done
        if max_count is not None or ran == 0:
            return totals, remaining, sorted(set(failed))


def command(tool, args: argparse.Namespace) -> int:
    """Exit 0 nothing left; 1 more remains; 2 a migration failed; 127 bad --max-count."""
    max_count = parse_max_count(args.max_count, "Must supply a positive value for max_count")
    if max_count == INVALID:
        return BAD_INPUT
    if max_count is None:
        print(f"Running batches of {BATCH} until complete")
    totals, remaining, failed = run(tool, max_count)
    print(format_table(["Migration", "Total Needed", "Completed"],
                 [[name, str(needed), str(completed)]
                  for name, (needed, completed) in totals.items()]))
    if failed:
        print(f"Some migrations failed unexpectedly ({', '.join(failed)}). "
              "Check log for details.")
        return 2
    if remaining:
        print(f"{remaining} rows still need migrating; run the command again.")
        return 1
    return 0
