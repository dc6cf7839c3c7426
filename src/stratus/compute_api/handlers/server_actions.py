"""POST /servers/{server_id}/action: reboot, stop/start, pause, suspend, lock, reset, console,
createImage, resize (confirm, revert), migrate, rebuild, evacuate."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.compute_api import server_actions, server_lookup, server_moves, server_snapshot
from stratus.compute_api.handlers import allowed, authorize, service, want
from stratus.compute_api.schemas import server_actions as schemas
from stratus.compute_api.views import images as image_views

# Body key -> the action's name in the state machine (and in instance actions).
_CAST = {"reboot": "reboot", "os-stop": "stop", "os-start": "start", "pause": "pause",
         "unpause": "unpause", "suspend": "suspend", "resume": "resume"}


def _server(req: Request, server_id: str, action: str) -> server_lookup.Located:
    """The server, checked against the action's rule; 404 for another project's server."""
    try:
        located = server_lookup.locate(service(req).cells, server_id)
    except server_lookup.ServerNotFound:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    target = {"project_id": located.server["project_id"],
              "user_id": located.server["user_id"]}
    if target["project_id"] != req.auth.project_id and \
            not allowed(req, target, action=action):
        raise NotFound(f"Instance {server_id} could not be found.")
    authorize(req, target, action=action)
    return located


def _compute_rpc(req: Request, server_id: str):
    rpc = service(req).compute_rpc
    if rpc is None:  # an API running without compute agents
        raise Conflict(f"Instance {server_id} is not ready")
    return rpc


def server_action(req: Request, resp, server_id: str) -> None:
    body = json_body(req, schemas.for_version(lambda version: want(req, version)))
    key = next(iter(body))
    located = _server(req, server_id, key)
    try:
        if key in _CAST:
            kwargs = {}
            if key == "reboot":
                kwargs["reboot_type"] = body[key]["type"].upper()
            server_actions.start_action(service(req), _compute_rpc(req, server_id),
                                        req.auth, located, _CAST[key], **kwargs)
        elif key == "os-getConsoleOutput":
            length = body[key].get("length")
            length = None if length is None or int(length) < 0 else int(length)
            output = server_actions.console_output(_compute_rpc(req, server_id), req.auth,
                                                   located, length)
            send(resp, {"output": output})
            return
        elif key == "createImage":
            created = server_snapshot.create_image(
                service(req), _compute_rpc(req, server_id), req.auth, located,
                body[key]["name"], body[key].get("metadata") or {})
            # Below 2.45 (all of ours) the image is named by the Location header only.
            send(resp, status=202, headers={"Location": image_views.location(
                created.glance_endpoint, created.image_id)})
            return
        elif key == "os-resetState":
            server_actions.reset_state(service(req), req.auth, located, body[key]["state"])
        elif key in _MOVES:
            _MOVES[key](req, resp, located, body[key])
            return
        else:
            _lock(req, located, key == "lock")
    except server_actions.ActionRefused as refused:
        raise Conflict(str(refused)) from None
    except server_moves.MoveRefused as refused:
        raise BadRequest(str(refused)) from None
    except server_moves.HostNotFound as missing:
        raise NotFound(str(missing)) from None
    except server_lookup.ServerNotFound:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    send(resp, status=202)


def _lock(req: Request, located: server_lookup.Located, lock: bool) -> None:
    """lock/unlock; a lock set from the other side (owner vs. admin) is lifted only by
    whoever may override it, as Nova checks it."""
    if lock:
        server_actions.lock(service(req), req.auth, located)
        return
    if server_actions.locked_by_the_other_side(located.server, req.auth):
        authorize(req, {"project_id": located.server["project_id"]}, check="unlock_override")
    server_actions.unlock(service(req), located)


# --- moves (server_moves) -------------------------------------------------------------------

def _resize(req: Request, resp, located, body: dict) -> None:
    server_moves.resize(service(req), req.auth, located, body["flavorRef"])
    send(resp, status=202)


def _migrate(req: Request, resp, located, body) -> None:
    server_moves.migrate(service(req), req.auth, located)
    send(resp, status=202)


def _confirm(req: Request, resp, located, body) -> None:
    server_moves.confirm_resize(service(req), req.auth, located)
    send(resp, status=204)


def _revert(req: Request, resp, located, body) -> None:
    server_moves.revert_resize(service(req), req.auth, located)
    send(resp, status=202)


_REBUILT = {"name": "display_name", "accessIPv4": "access_ip_v4",
            "accessIPv6": "access_ip_v6", "metadata": "metadata"}


def _rebuild(req: Request, resp, located, body: dict) -> None:
    from stratus.compute_api.handlers import servers

    server_id = located.server["uuid"]
    changes = {column: body[field] for field, column in _REBUILT.items() if field in body}
    password, rebuilding = server_moves.rebuild(service(req), _compute_rpc(req, server_id),
                                                req.auth, located, body["imageRef"], changes)
    view = servers._render(req, rebuilding)
    view["adminPass"] = body.get("adminPass") or password
    send(resp, {"server": view}, status=202)


def _evacuate(req: Request, resp, located, body: dict) -> None:
    host = body.get("host")
    # Below 2.29 a named host is taken as it is (Nova forces it past the filters); from
    # 2.29 the filters check it unless the request says force.
    if want(req, "2.29"):
        force = body.get("force", False) in schemas.TRUE
        if force and host is None:
            raise BadRequest("Can't force to a non-provided destination")
    else:
        force = host is not None
    password = server_moves.evacuate(service(req), req.auth, located, host, force=force)
    if not want(req, "2.14"):
        send(resp, {"adminPass": body.get("adminPass") or password})
    else:
        send(resp, status=200)


_MOVES = {"resize": _resize, "migrate": _migrate, "confirmResize": _confirm,
          "revertResize": _revert, "rebuild": _rebuild, "evacuate": _evacuate}
