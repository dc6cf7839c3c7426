"""/servers/{id}/os-instance-actions: what was done to a server, with events for admins."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import NotFound
from stratus.compute_api import server_lookup
from stratus.compute_api.handlers import allowed, authorize, service, want
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import instance_actions as store
from stratus.compute_api.views import isotime_micro


def _server(req: Request, server_id: str) -> server_lookup.Located:
    """The server (a deleted one too from 2.21), checked against the route's rule."""
    try:
        located = server_lookup.locate(service(req).cells, server_id,
                                       read_deleted=want(req, "2.21"))
    except server_lookup.ServerNotFound:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    target = {"project_id": located.server["project_id"]}
    if located.server["project_id"] != req.auth.project_id and not allowed(req, target):
        raise NotFound(f"Instance {server_id} could not be found.")
    authorize(req, target)
    return located


def _action(row: dict) -> dict:
    return {"action": row["action"], "instance_uuid": row["instance_uuid"],
            "request_id": row["request_id"], "user_id": row["user_id"],
            "project_id": row["project_id"], "start_time": isotime_micro(row["start_time"]),
            "message": row["message"]}


def _event(row: dict) -> dict:
    return {"event": row["event"], "start_time": isotime_micro(row["start_time"]),
            "finish_time": isotime_micro(row["finish_time"]), "result": row["result"],
            "traceback": row["traceback"]}


def list_actions(req: Request, resp, server_id: str) -> None:
    located = _server(req, server_id)
    if located.cell is None:  # a build request: nothing has been done to it yet
        send(resp, {"instanceActions": []})
        return
    rows = server_lookup.in_cell(service(req).cells, located,
                                 lambda conn: store.list_actions(conn, server_id))
    send(resp, {"instanceActions": [_action(row) for row in rows]})


def show_action(req: Request, resp, server_id: str, request_id: str) -> None:
    located = _server(req, server_id)
    missing = NotFound(f"Action for request_id {request_id} on instance {server_id} "
                       "not found")
    if located.cell is None:
        raise missing
    try:
        row, events = server_lookup.in_cell(service(req).cells, located,
                                            lambda conn: store.get(conn, server_id, request_id))
    except NoSuchRow:
        raise missing from None
    body = _action(row)
    if allowed(req, {"project_id": located.server["project_id"]}, check="events"):
        body["events"] = [_event(event) for event in events]
    send(resp, {"instanceAction": body})
