"""os-migrations (every cell's migration records, for admins) and a server's in-progress
live migrations (/servers/{id}/migrations, 2.23)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import NotFound
from stratus.compute_api import server_lookup
from stratus.compute_api.handlers import authorize, service, want
from stratus.compute_api.schemas.migrations import FILTERS
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import migrations as store
from stratus.compute_api.views import migrations as views

_TRUE = ("1", "t", "true", "on", "y", "yes")


def list_migrations(req: Request, resp) -> None:
    """GET /os-migrations: no parameter is refused before 2.59, unknown ones are ignored."""
    authorize(req)
    if (req.get_param("hidden") or "").strip().lower() in _TRUE:
        # Hidden records are never shown (Nova drops them from its answer), so asking for
        # only those lists nothing.
        send(resp, {"migrations": []})
        return
    filters = store.Filters(**{name: req.get_param(name) for name in FILTERS})
    rows, _down = store.list_in_cells(service(req).cells, filters)
    send(resp, {"migrations": [views.migration(req.prefix, row, req.version)
                               for row in rows]})


def _server(req: Request, server_id: str) -> server_lookup.Located:
    """The server, after the route's rule (Nova checks policy first); another project's
    server is not found unless the caller is an admin, as Nova's lookup has it. Before
    2.23 the route is unknown."""
    if not want(req, "2.23"):
        raise NotFound("The resource could not be found.")
    authorize(req)
    missing = NotFound(f"Instance {server_id} could not be found.")
    try:
        located = server_lookup.locate(service(req).cells, server_id)
    except server_lookup.ServerNotFound:
        raise missing from None
    if located.server["project_id"] != req.auth.project_id and not req.auth.is_admin:
        raise missing
    return located


def _read(req: Request, located: server_lookup.Located, fn):
    with service(req).cells.engine(located.cell).connect() as conn:
        return fn(conn)


def list_server_migrations(req: Request, resp, server_id: str) -> None:
    located = _server(req, server_id)
    rows = [] if located.cell is None else _read(
        req, located, lambda conn: store.live_in_progress(conn, server_id))
    send(resp, {"migrations": [views.server_migration(row) for row in rows]})


def show_server_migration(req: Request, resp, server_id: str, migration_id: str) -> None:
    located = _server(req, server_id)
    try:
        if located.cell is None or not migration_id.isdigit():
            raise NoSuchRow(migration_id)
        row = _read(req, located,
                    lambda conn: store.get_for_instance(conn, int(migration_id), server_id))
    except NoSuchRow:
        raise NotFound(f"In-progress live migration {migration_id} is not found for "
                       f"server {server_id}.") from None
    if row["migration_type"] != store.LIVE_MIGRATION:
        raise NotFound(f"Migration {migration_id} for server {server_id} is not "
                       "live-migration.")
    if row["status"] not in store.LIVE_IN_PROGRESS:
        raise NotFound(f"Live migration {migration_id} for server {server_id} is not in "
                       "progress.")
    send(resp, {"migration": views.server_migration(row)})
