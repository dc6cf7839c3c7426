"""/v2/images and /v2/images/{image_id}: list, create, show, update, delete."""

from __future__ import annotations

import uuid

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Forbidden, PayloadTooLarge
from stratus.imagesvc import listing, patch, schemas, store, views
from stratus.imagesvc.handlers import authorize, load, service, viewer

PATCH_TYPES = tuple(patch.MEDIA_TYPES)
# Visibilities only some callers may give an image, and the rule that decides.
def list_images(req: Request, resp) -> None:
    authorize(req)
    params = [(k, v) for k, values in req.params.items()
              for v in (values if isinstance(values, list) else [values])]
    opts = service(req).options
    query = listing.parse_query(params, opts.limit_param_default, opts.api_limit_max)
    with service(req).engine.connect() as conn:
        rows = listing.list_images(conn, viewer(req), query)
    send(resp, views.images(rows, params, query.limit))


def create_image(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req)
    if not isinstance(body, dict):
        raise BadRequest("Provided object does not match schema 'image': body must be an "
                         "object")
    for key in body:
        if key != "id":
            schemas.check_attribute_name(key)
    schemas.validate_image(body)
    values = {k: body.get(k) for k in ("name", "disk_format", "container_format")}
    values.update(id=body.get("id") or str(uuid.uuid4()),
                  visibility=body.get("visibility", "shared"),
                  owner=body.get("owner") or req.auth.project_id,
                  protected=body.get("protected", False), os_hidden=body.get("os_hidden", False),
                  min_disk=body.get("min_disk", 0), min_ram=body.get("min_ram", 0))
    if values["owner"] != req.auth.project_id and not req.auth.is_admin:
        raise Forbidden(f"You are not permitted to create images owned by "
                        f"'{values['owner']}'.")
    _check_visibility_change(req, values, None)
    properties = {k: v for k, v in body.items() if k not in schemas.CORE and k != "id"}
    tags = body.get("tags", [])
    _check_quotas(req, properties, tags)
    with service(req).writer.begin() as conn:
        row = store.create_image(conn, values, properties, tags)
    send(resp, views.image(row), status=201,
         headers={"Location": f"{req.prefix}/v2/images/{row['id']}"})


def show_image(req: Request, resp, image_id: str) -> None:
    with service(req).engine.connect() as conn:
        row = load(req, conn, image_id)
    send(resp, views.image(row))


def update_image(req: Request, resp, image_id: str) -> None:
    patch.check_media_type(req.content_type)
    body = json_body(req, extra_types=PATCH_TYPES)
    changes = patch.parse_changes(body)
    with service(req).writer.begin() as conn:
        image = load(req, conn, image_id, for_update=True)
        core, properties, tags = patch.apply(image, changes)
        if core["owner"] != image["owner"] and not req.auth.is_admin:
            raise Forbidden("You are not permitted to modify 'owner' on this image.")
        _check_visibility_change(req, core, image)
        _check_quotas(req, properties, tags)
        row = store.update_image(conn, image, core, properties, tags)
    send(resp, views.image(row))


def delete_image(req: Request, resp, image_id: str) -> None:
    with service(req).writer.begin() as conn:
        image = load(req, conn, image_id, for_update=True)
        if image["protected"]:
            raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
        store.delete_image(conn, image_id)
    service(req).files.delete(image_id)
    send(resp, status=204)


def _check_visibility_change(req: Request, values: dict, image: dict | None) -> None:
    wanted = values["visibility"]
    if image is not None and image["visibility"] == wanted:
        return
    if wanted in req.route.checks.get(req.method, {}):
        authorize(req, image or {"owner": values["owner"], "visibility": wanted},
                  check=wanted)


def _check_quotas(req: Request, properties: dict, tags: list) -> None:
    opts = service(req).options
    if len(properties) > opts.image_property_quota:
        raise PayloadTooLarge(f"Attempted: {len(properties)}, Maximum: "
                              f"{opts.image_property_quota}: too many image properties.")
    if len(set(tags)) > opts.image_tag_quota:
        raise PayloadTooLarge(f"Attempted: {len(set(tags))}, Maximum: "
                              f"{opts.image_tag_quota}: too many image tags.")
