"""/v2/images/{image_id}/tags/{tag}: add or remove one tag."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import BadRequest, PayloadTooLarge
from stratus.imagesvc import store
from stratus.imagesvc.handlers import load, service


def add_tag(req: Request, resp, image_id: str, tag: str) -> None:
    if len(tag) > 255:
        raise BadRequest("Tag is too long: a tag has at most 255 characters.")
    svc = service(req)
    with svc.writer.begin() as conn:
        image = load(req, conn, image_id, for_update=True)
        if tag not in image["tags"] and len(image["tags"]) >= svc.options.image_tag_quota:
            raise PayloadTooLarge(f"Maximum: {svc.options.image_tag_quota}: too many image "
                                  "tags.")
        store.add_tag(conn, image_id, tag)
    send(resp, status=204)


def delete_tag(req: Request, resp, image_id: str, tag: str) -> None:
    with service(req).writer.begin() as conn:
        load(req, conn, image_id, for_update=True)
        store.delete_tag(conn, image_id, tag)
    send(resp, status=204)
