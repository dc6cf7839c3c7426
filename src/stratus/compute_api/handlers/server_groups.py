"""/os-server-groups: list, create, show, delete (soft-* policies from 2.15)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import Forbidden, NotFound
from stratus.compute_api import quota_usage
from stratus.compute_api.handlers import authorize, bool_param, int_param, service, want
from stratus.compute_api.schemas import for_version
from stratus.compute_api.schemas import server_groups as schemas
from stratus.compute_api.store import NoSuchRow, quotas
from stratus.compute_api.store import server_groups as store

TOO_MANY = "Quota exceeded, too many server groups."


def _view(req: Request, row: dict) -> dict:
    body = {"id": row["uuid"], "name": row["name"], "policies": row["policies"],
            "members": row["members"], "metadata": {}}
    if want(req, "2.13"):
        body["project_id"] = row["project_id"]
        body["user_id"] = row["user_id"]
    return body


def _get(req: Request, conn, group_id: str) -> dict:
    try:
        row = store.get(conn, group_id)
    except NoSuchRow:
        row = None
    if row is None or (row["project_id"] != req.auth.project_id and not req.auth.is_admin):
        raise NotFound(f"Instance group {group_id} could not be found.")
    authorize(req, {"project_id": row["project_id"], "user_id": row["user_id"]})
    return row


def list_groups(req: Request, resp) -> None:
    authorize(req)
    project = req.auth.project_id
    if bool_param(req, "all_projects"):
        authorize(req, check="all_projects")
        project = None
    with service(req).api_engine.connect() as conn:
        rows = store.list_groups(conn, project, limit=int_param(req, "limit"),
                                 offset=int_param(req, "offset") or 0)
    send(resp, {"server_groups": [_view(req, row) for row in rows]})


def create_group(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, for_version(schemas.create, req.version))["server_group"]
    project, user = req.auth.project_id, req.auth.user_id
    engine = service(req).api_engine
    # Reads and writes in separate transactions (see keypairs.create_keypair).
    with engine.connect() as conn:
        limit = quotas.user_limits(conn, project, user)["server_groups"]
        quota_usage.check_count(store.count(conn, project), 1, limit, TOO_MANY)
    with engine.begin() as conn:
        row = store.create(conn, name=body["name"], policy=body["policies"][0],
                           project_id=project, user_id=user)
    # Nova's recheck after commit: of creates racing past the check, none stays over quota.
    with engine.connect() as conn:
        over = 0 <= limit < store.count(conn, project)
    if over:
        with engine.begin() as conn:
            store.delete(conn, row["id"])
        raise Forbidden(TOO_MANY)
    send(resp, {"server_group": _view(req, row)})


def show_group(req: Request, resp, group_id: str) -> None:
    with service(req).api_engine.connect() as conn:
        row = _get(req, conn, group_id)
    send(resp, {"server_group": _view(req, row)})


def delete_group(req: Request, resp, group_id: str) -> None:
    with service(req).api_engine.begin() as conn:
        row = _get(req, conn, group_id)
        store.delete(conn, row["id"])
    send(resp, status=204)
