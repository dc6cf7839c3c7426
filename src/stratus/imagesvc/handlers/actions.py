"""/v2/images/{image_id}/actions/deactivate and /reactivate."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import Forbidden
from stratus.imagesvc import store
from stratus.imagesvc.handlers import load, service


def _transition(req: Request, image_id: str, to_status: str) -> None:
    with service(req).writer.begin() as conn:
        image = load(req, conn, image_id, for_update=True)
        if image["status"] not in ("active", "deactivated"):
            verb = "deactivate" if to_status == "deactivated" else "reactivate"
            raise Forbidden(f"Not allowed to {verb} image in status '{image['status']}'")
        store.change_status(conn, image_id, ("active", "deactivated"), to_status)


def deactivate(req: Request, resp, image_id: str) -> None:
    _transition(req, image_id, "deactivated")
    send(resp, status=204)


def reactivate(req: Request, resp, image_id: str) -> None:
    _transition(req, image_id, "active")
    send(resp, status=204)
