"""stratus-manage: database and deployment commands.

Exit status: 0 success, 1 the command failed (the message says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

from stratus import conf as stratus_conf
from stratus.cells import cli as cells_cli
from stratus.cells import setup as cells_setup
from stratus.common.db import Databases, migration
from stratus.conf.database import DATABASES


def _db_sync(conf, args) -> int:
    names = [args.database] if args.database else list(DATABASES)
    dbs = Databases(conf)
    try:
        for name in names:
            before, after = _for_database(name, migration.sync, name, dbs.engine(name))
            state = "up to date" if before == after else f"upgraded from {before or 'empty'}"
            print(f"{name:<10} {after}  ({state})")
        if not args.database:
            _sync_mapped_cells(dbs)
    finally:
        dbs.dispose()
    return 0


def _sync_mapped_cells(dbs: Databases) -> None:
    """Cells mapped in the API database beyond the configured ones (create_cell, --cells N)."""
    configured = {dbs.url(name) for name in DATABASES}
    synced_cells = _for_database("api", lambda: cells_setup.sync_mapped_cells(
        dbs.engine("api"), skip_urls=configured))
    for synced in synced_cells:
        state = ("up to date" if synced.before == synced.after
                 else f"upgraded from {synced.before or 'empty'}")
        print(f"cell {synced.cell.name or synced.cell.uuid}: {synced.after}  ({state})")


def _db_version(conf, args) -> int:
    dbs = Databases(conf)
    try:
        for name in DATABASES:
            now = _for_database(name, migration.current, dbs.engine(name))
            newest = migration.head(name)
            note = "" if now == newest else f"  (head is {newest}; run stratus-manage db sync)"
            print(f"{name:<10} {now or 'not synced'}{note}")
    finally:
        dbs.dispose()
    return 0


class CommandError(Exception):
    """A failure an operator can act on, already phrased as one line."""


def _for_database(name: str, func, *args):
    """Run ``func``; a database error becomes one line naming the database."""
    try:
        return func(*args)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise CommandError(f"{name} database: {reason}") from None


def _bootstrap(conf, args) -> int:
    from stratus.identity import bootstrap

    dbs = Databases(conf)
    try:
        result = bootstrap.bootstrap(
            conf, dbs.engine("identity"), admin_password=args.bootstrap_password,
            admin_user=args.bootstrap_username, admin_project=args.bootstrap_project_name,
            public_url=args.bootstrap_public_url)
    finally:
        dbs.dispose()
    print(f"admin user {result.user_name} ({result.user_id}) in project "
          f"{result.project_name} ({result.project_id}) with role admin")
    return 0


def _placement_sync_aggregates(conf, args) -> int:
    """Exit 0: every aggregated host's providers are in its aggregates; 1: some could not be
    (listed), or Placement or a database failed."""
    from stratus.allinone import placement_client
    from stratus.cells.mappings import CellDatabases
    from stratus.scheduler.aggregate_sync import sync_aggregates

    placement = placement_client(conf)
    dbs = Databases(conf)
    cells = CellDatabases(dbs.engine("api"), cell_timeout_s=conf.cells.cell_timeout)
    try:
        result = _for_database("api", sync_aggregates, dbs.engine("api"), cells, placement)
    finally:
        cells.dispose()
        dbs.dispose()
    print(f"{len(result.updated)} resource provider(s) added to their host's aggregates")
    problems = ([f"host {h} has no compute node in any cell" for h in result.hosts_without_node]
                + [f"compute node {n} has no resource provider in placement"
                   for n in result.nodes_without_provider]
                + [f"cell {c} did not answer" for c in result.unreachable_cells])
    for problem in problems:
        print(f"  not mirrored: {problem}", file=sys.stderr)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratus-manage", description=__doc__.splitlines()[0])
    stratus_conf.add_common_arguments(parser)
    groups = parser.add_subparsers(dest="category", required=True, metavar="CATEGORY")

    db = groups.add_parser("db", help="database schema commands").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    sync = db.add_parser("sync", help="create or upgrade database schemas (idempotent)")
    sync.add_argument("database", nargs="?", choices=DATABASES,
                      help="only this database (default: all)")
    sync.set_defaults(func=_db_sync)
    db.add_parser("version", help="print each database's schema revision").set_defaults(
        func=_db_version)
    cells_cli.add_online_data_migrations(db)
    cells_cli.add_cell_v2(groups)

    placement = groups.add_parser("placement", help="placement commands").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    placement.add_parser(
        "sync_aggregates", help="add compute node providers to their host's aggregates in "
                                "placement ([placement] client credentials)",
    ).set_defaults(func=_placement_sync_aggregates)

    boot = groups.add_parser("bootstrap", help="create the admin user, project, roles and "
                                               "identity endpoint (idempotent)")
    boot.add_argument("--bootstrap-password", required=True)
    boot.add_argument("--bootstrap-username", default="admin")
    boot.add_argument("--bootstrap-project-name", default="admin")
    boot.add_argument("--bootstrap-public-url", default=None,
                      help="identity endpoint URL for the catalog "
                           "(default: [api] public_url + /identity)")
    boot.set_defaults(func=_bootstrap)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    conf = stratus_conf.load(args)
    try:
        return args.func(conf, args)
    except CommandError as exc:
        print(f"stratus-manage: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # an operator needs the reason, not a traceback
        print(f"stratus-manage: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
