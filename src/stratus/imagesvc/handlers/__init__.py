"""Image API handlers: parse and validate, check policy, call the data layer, render."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.common.wsgi.app import Request
from stratus.imagesvc import store
from stratus.imagesvc.service import ImageService


def service(req: Request) -> ImageService:
    return req.service


def viewer(req: Request) -> store.Viewer:
    return ImageService.viewer(req.auth)


def target(image: dict | None, req: Request) -> dict:
    """The policy target of an image: its owner is the project the rules compare with."""
    if image is None:
        return {"project_id": req.auth.project_id}
    return {"project_id": image["owner"], "owner": image["owner"],
            "visibility": image["visibility"], "member_id": req.auth.project_id}


def authorize(req: Request, image: dict | None = None, *, check: str | None = None) -> None:
    """Check the route's rule for this method with the image as target.

    ``check`` names a further rule the route declares (``Route.checks``), such as the
    one for making an image public.
    """
    rule = req.route.rule_for(req.method, check=check)
    req.service.policy.authorize(req.auth, rule, target(image, req))


def load(req: Request, conn: sa.Connection, image_id: str, *, for_update: bool = False) -> dict:
    """The image if the caller may see it (404 otherwise), then the route's policy check."""
    image = store.get_image(conn, image_id, viewer(req), for_update=for_update)
    authorize(req, image)
    return image
