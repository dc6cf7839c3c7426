"""Upgrade checks for ``stratus-status upgrade check``: cell mappings and host mappings.

Each check returns ``(code, details)`` with the codes of stratus.cmd.status (0 Success,
1 Warning, 2 Failure), and reads the API database and every cell database it names.
"""

from __future__ import annotations

import sqlalchemy as sa

from stratus.cells import mappings, schema_cell
from stratus.cells import schema_api as api
from stratus.common.db import migration

SUCCESS, WARNING, FAILURE = 0, 1, 2


def _compute_hosts(cell_dbs: mappings.CellDatabases,
                   cells: list[mappings.CellMapping]) -> tuple[set[str], list[str]]:
    """Hosts of live compute nodes in every cell except cell0; and cells that did not answer."""
    nodes = schema_cell.compute_nodes

    def hosts_in(_cell: mappings.CellMapping, engine: sa.Engine) -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(nodes.c.host).where(nodes.c.deleted == 0))
                       .scalars())

    results = cell_dbs.scatter_gather([c for c in cells if not c.is_cell0], hosts_in)
    hosts: set[str] = set()
    down = []
    for cell in cells:
        result = results.get(cell.uuid)
        if mappings.is_cell_failure(result):
            down.append(cell.label)
        elif result:
            hosts |= result
    return hosts, down


def check_cells_v2(api_engine: sa.Engine, cell_timeout_s: float = 60.0) -> tuple[int, str]:
    """cell0 and at least one cell mapped; every compute host has a host mapping."""
    if migration.current(api_engine) is None:
        return FAILURE, "The API database has no schema yet. Run: stratus-manage db sync"
    with api_engine.connect() as conn:
        cells = mappings.list_cell_mappings(conn)
        mapped = set(conn.execute(sa.select(api.host_mappings.c.host)).scalars())
    if not any(cell.is_cell0 for cell in cells):
        return FAILURE, ("No cell0 mapping found. Run command "
                         "'stratus-manage cell_v2 map_cell0' and then retry.")
    if len(cells) < 2:
        return FAILURE, ("There needs to be at least two cell mappings, one for cell0 and one "
                         "for your first cell. Run command 'stratus-manage cell_v2 "
                         "simple_cell_setup' and then retry.")
    cell_dbs = mappings.CellDatabases(api_engine, cell_timeout_s=cell_timeout_s)
    try:
        hosts, down = _compute_hosts(cell_dbs, cells)
    finally:
        cell_dbs.dispose()
    if down:
        return FAILURE, f"Cell database(s) could not be read: {', '.join(down)}."
    unmapped = sorted(hosts - mapped)
    if unmapped and not mapped:
        return FAILURE, ("No host mappings found but there are compute nodes. Run command "
                         "'stratus-manage cell_v2 discover_hosts' and then retry.")
    if unmapped:
        return WARNING, (f"Compute host(s) not mapped to a cell: {', '.join(unmapped)}. Run "
                         "command 'stratus-manage cell_v2 discover_hosts'.")
    if not hosts and not mapped:
        return SUCCESS, ("No host mappings or compute nodes were found. Remember to run "
                         "command 'stratus-manage cell_v2 discover_hosts' when new compute "
                         "hosts are deployed.")
    return SUCCESS, ""


def check_placement() -> tuple[int, str]:
    """Placement is not part of this tree yet: say so rather than pretend it was checked."""
    return WARNING, "placement not configured"
