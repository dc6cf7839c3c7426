"""Argument parsers of ``stratus-manage cell_v2`` and ``db online_data_migrations``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from oslo_config import cfg

from stratus.cells import commands, online_migrations
from stratus.common.db import Databases


def add_cell_v2(groups: argparse._SubParsersAction) -> None:
    """Register the ``cell_v2`` category; each action's func is ``(tool, args) -> int``."""
    cell_v2 = groups.add_parser("cell_v2", help="Cells v2 mappings (as nova-manage cell_v2)")
    actions = cell_v2.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, func, help_text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text, description=func.__doc__)
        parser.set_defaults(func=_with_tool(func))
        return parser

    p = action("map_cell0", commands.map_cell0, "map cell0 (idempotent)")
    p.add_argument("--database_connection", "--database-connection", dest="database_connection",
                   help="cell0 database URL (default [cell0_database] connection)")

    p = action("simple_cell_setup", commands.simple_cell_setup,
               "map cell0, the local cell, its hosts and instances")
    p.add_argument("--transport-url", "--transport_url", dest="transport_url")

    p = action("create_cell", commands.create_cell, "create a cell mapping")
    p.add_argument("--name")
    p.add_argument("--transport-url", "--transport_url", dest="transport_url")
    p.add_argument("--database_connection", "--database-connection", dest="database_connection")
    p.add_argument("--verbose", action="store_true", help="print the new cell's uuid")
    p.add_argument("--disabled", action="store_true", help="create it disabled")

    p = action("list_cells", commands.list_cells, "list cell mappings")
    p.add_argument("--verbose", action="store_true", help="show passwords in URLs")

    p = action("update_cell", commands.update_cell, "change a cell mapping")
    p.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid", required=True)
    p.add_argument("--name")
    p.add_argument("--transport-url", "--transport_url", dest="transport_url")
    p.add_argument("--database_connection", "--database-connection", dest="database_connection")
    p.add_argument("--disable", action="store_true")
    p.add_argument("--enable", action="store_true")

    p = action("delete_cell", commands.delete_cell, "delete an empty cell mapping")
    p.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid", required=True)
    p.add_argument("--force", action="store_true",
                   help="also delete its host mappings and deleted instances' mappings")

    p = action("discover_hosts", commands.discover_hosts, "map new compute hosts to cells")
    p.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 1 unless a new host was mapped")
    p.add_argument("--by-service", "--by_service", dest="by_service", action="store_true",
                   help=f"find hosts from {commands.COMPUTE_BINARY} services, not compute nodes")

    p = action("map_cell_and_hosts", commands.map_cell_and_hosts,
               "map the local cell and its hosts")
    p.add_argument("--name")
    p.add_argument("--transport-url", "--transport_url", dest="transport_url")
    p.add_argument("--verbose", action="store_true")

    p = action("map_instances", commands.map_instances, "map a cell's instances (resumable)")
    p.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid", required=True)
    p.add_argument("--max-count", "--max_count", dest="max_count", type=str)
    p.add_argument("--reset", action="store_true", help="start again from the oldest instance")

    p = action("verify_instance", commands.verify_instance, "is an instance mapped?")
    p.add_argument("--uuid", required=True)
    p.add_argument("--quiet", action="store_true")

    p = action("list_hosts", commands.list_hosts, "list host mappings")
    p.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid")

    p = action("delete_host", commands.delete_host, "delete a host mapping")
    p.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid", required=True)
    p.add_argument("--host", required=True)


def add_online_data_migrations(db_actions: argparse._SubParsersAction) -> None:
    """Register ``db online_data_migrations``."""
    p = db_actions.add_parser("online_data_migrations",
                              help="run data migrations in batches (exit 0 done, 1 more, "
                                   "2 errors, 127 bad input)")
    p.add_argument("--max-count", "--max_count", dest="max_count", type=str,
                   help="migrate at most this many rows in total (default: all, in batches "
                        f"of {online_migrations.BATCH})")
    p.set_defaults(func=_with_tool(online_migrations.command))


def _with_tool(command: Callable[[commands.Tool, argparse.Namespace], int]):
    """stratus-manage calls ``func(conf, args)``; a cell_v2 command wants a Tool."""
    def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
        dbs = Databases(conf)
        tool = commands.Tool(conf, dbs.engine("api"))
        try:
            return command(tool, args)
        finally:
            tool.close()
            dbs.dispose()
    return run
