"""/v2/images/{image_id}/members: share an image with projects, who accept or reject it."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import Forbidden, NotFound, PayloadTooLarge
from stratus.imagesvc import schemas, store, views
from stratus.imagesvc.handlers import load, service, viewer


def _is_owner(req: Request, image: dict) -> bool:
    return viewer(req).is_admin or image["owner"] == req.auth.project_id


def list_members(req: Request, resp, image_id: str) -> None:
    with service(req).engine.connect() as conn:
        image = load(req, conn, image_id)
        # A member sees only its own membership; the owner sees them all.
        only = None if _is_owner(req, image) else req.auth.project_id
        rows = store.list_members(conn, image_id, only=only)
    send(resp, views.members(rows))


def add_member(req: Request, resp, image_id: str) -> None:
    body = json_body(req)
    schemas.validate_member_create(body)
    svc = service(req)
    with svc.writer.begin() as conn:
        image = load(req, conn, image_id, for_update=True)
        if not _is_owner(req, image):
            raise Forbidden("You are not permitted to add members to this image.")
        if image["visibility"] != "shared":
            raise Forbidden(f"Image {image_id} visibility is {image['visibility']}: only "
                            "shared images have members.")
        if store.count_members(conn, image_id) >= svc.options.image_member_quota:
            raise PayloadTooLarge(f"Maximum: {svc.options.image_member_quota}: too many "
                                  "image members.")
        row = store.add_member(conn, image_id, body["member"])
    send(resp, views.member(row))


def show_member(req: Request, resp, image_id: str, member_id: str) -> None:
    with service(req).engine.connect() as conn:
        image = load(req, conn, image_id)
        if not _is_owner(req, image) and member_id != req.auth.project_id:
            raise NotFound(f"{member_id} is not a member of image {image_id}.")
        row = store.get_member(conn, image_id, member_id)
    send(resp, views.member(row))


def update_member(req: Request, resp, image_id: str, member_id: str) -> None:
    body = json_body(req)
    schemas.validate_member_update(body)
    with service(req).writer.begin() as conn:
        image = load(req, conn, image_id)
        if member_id != req.auth.project_id:
            # The owner shares; only the project it shares with accepts or rejects.
            if image["owner"] == req.auth.project_id:
                raise Forbidden("You are not permitted to modify 'status' on this image "
                                "member.")
            if not viewer(req).is_admin:
                raise NotFound(f"{member_id} is not a member of image {image_id}.")
        row = store.update_member(conn, image_id, member_id, body["status"])
    send(resp, views.member(row))


def delete_member(req: Request, resp, image_id: str, member_id: str) -> None:
    with service(req).writer.begin() as conn:
        image = load(req, conn, image_id)
        if not _is_owner(req, image):
            raise Forbidden("You are not permitted to delete members of this image.")
        store.delete_member(conn, image_id, member_id)
    send(resp, status=204)
