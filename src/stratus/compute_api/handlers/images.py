"""/images and /images/{id}/metadata: Nova's deprecated image proxy over the Glance v2 API.

As in Nova, ``/images`` answers 404 from microversion 2.36 and the metadata calls from
2.39. Every call goes to the image service with the caller's token, so which images the
caller sees, and may change, is the image service's decision.
"""

from __future__ import annotations

import datetime

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Forbidden, NotFound
from stratus.compute_api import image_api
from stratus.compute_api.handlers import authorize, int_param, service, want
from stratus.compute_api.schemas import servers as server_schemas
from stratus.compute_api.store import quotas
from stratus.compute_api.views import images as views
from stratus.compute_api.views import paged
from stratus.image import glance

IMAGES_GONE_IN = "2.36"
METADATA_GONE_IN = "2.39"
# Nova's list filters that Glance v2 applies itself, and the Glance name of each.
_GLANCE_FILTERS = {"name": "name", "status": "status", "server": "instance_uuid",
                   "type": "image_type"}


def _client(req: Request, gone_in: str) -> glance.GlanceClient:
    if want(req, gone_in):
        raise NotFound("The resource could not be found.")
    authorize(req)
    return service(req).image_api.client(req.auth)


def _failed(client: glance.GlanceClient, exc: glance.ImageError, image_id: str):
    return image_api.api_error(client, exc, image_id, NotFound("Image not found."))


def _get(client: glance.GlanceClient, image_id: str) -> dict:
    try:
        return client.show(image_id)
    except glance.ImageError as exc:
        raise _failed(client, exc, image_id) from None


# --- list, show, delete ---------------------------------------------------------------------

def _changes_since(value: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(value.replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid filter field: changes-since. "
                         f"Value {value} is not an ISO 8601 time.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _filters(req: Request):
    """(filters Glance applies, a predicate for the ones applied here)."""
    filters = {}
    for param in req.params:
        value = req.get_param(param)  # one value even when the parameter is repeated
        if param in _GLANCE_FILTERS:
            filters[_GLANCE_FILTERS[param]] = value
        elif param.startswith("property-"):
            filters[param.removeprefix("property-")] = value
    if "status" in filters:
        filters["status"] = filters["status"].lower()
    if "instance_uuid" in filters:
        filters["instance_uuid"] = filters["instance_uuid"].rstrip("/").rsplit("/", 1)[-1]
    since = req.get_param("changes-since")
    since = _changes_since(since) if since is not None else None
    min_ram, min_disk = int_param(req, "minRam"), int_param(req, "minDisk")

    def keep(image: dict) -> bool:
        if since is not None and _changes_since(image["updated_at"]) < since:
            return False
        if min_ram is not None and int(image.get("min_ram") or 0) < min_ram:
            return False
        return min_disk is None or int(image.get("min_disk") or 0) >= min_disk

    return filters, keep


def _list(req: Request, resp, render, path: str) -> None:
    client = _client(req, IMAGES_GONE_IN)
    limit = int_param(req, "limit")
    wanted = service(req).max_limit if limit is None else min(limit, service(req).max_limit)
    filters, keep = _filters(req)
    marker = req.get_param("marker")
    if marker is not None:
        filters["marker"] = marker
    images: list[dict] = []
    try:
        for image in (client.list(page_size=min(wanted, 100), **filters) if wanted else ()):
            if keep(image):
                images.append(image)
                if len(images) == wanted:
                    break
    except glance.ImageError as exc:
        raise _failed(client, exc, marker or "") from None
    send(resp, paged("images", [render(client.endpoint, image) for image in images],
                     base=req.prefix, path=path, params=req.params, limit=limit))


def list_images(req: Request, resp) -> None:
    _list(req, resp, lambda glance_url, image: views.summary(req.prefix, glance_url, image),
          "images")


def list_images_detail(req: Request, resp) -> None:
    _list(req, resp, lambda glance_url, image: views.detail(req.prefix, glance_url, image),
          "images/detail")


def show_image(req: Request, resp, image_id: str) -> None:
    client = _client(req, IMAGES_GONE_IN)
    send(resp, {"image": views.detail(req.prefix, client.endpoint, _get(client, image_id))})


def delete_image(req: Request, resp, image_id: str) -> None:
    client = _client(req, IMAGES_GONE_IN)
    try:
        client.delete(image_id)
    except (glance.ImageForbidden, glance.ImageNotAuthorized):
        raise Forbidden("You are not allowed to delete the image.") from None
    except glance.ImageError as exc:
        raise _failed(client, exc, image_id) from None
    send(resp, status=204)


# --- metadata -------------------------------------------------------------------------------

def _properties(client: glance.GlanceClient, image_id: str) -> dict:
    return image_api.properties(_get(client, image_id))


def _check_keys(items: dict) -> None:
    """Metadata is the image's custom properties; a base attribute is not one."""
    for key in items:
        if key in image_api.BASE_ATTRIBUTES:
            raise BadRequest(f"Invalid image metadata: {key} is an image attribute, "
                             "not a metadata item.")


def _check_quota(req: Request, count: int) -> None:
    with service(req).api_engine.connect() as conn:
        limit = quotas.project_limits(conn, req.auth.project_id)["metadata_items"]
    if 0 <= limit < count:
        raise Forbidden("Image metadata limit exceeded")


def _update(req: Request, client: glance.GlanceClient, image_id: str, set_: dict,
            remove: list[str], count: int) -> dict:
    _check_keys(set_)
    if set_:  # removing items is always allowed, even over a lowered quota (as Nova)
        _check_quota(req, count)
    try:
        return image_api.properties(client.update(image_id, set_, remove))
    except glance.ImageError as exc:
        raise _failed(client, exc, image_id) from None


def list_metadata(req: Request, resp, image_id: str) -> None:
    client = _client(req, METADATA_GONE_IN)
    send(resp, {"metadata": _properties(client, image_id)})


def create_metadata(req: Request, resp, image_id: str) -> None:
    client = _client(req, METADATA_GONE_IN)
    items = json_body(req, server_schemas.metadata)["metadata"]
    current = _properties(client, image_id)
    merged = _update(req, client, image_id, items, [], len({**current, **items}))
    send(resp, {"metadata": merged})


def replace_metadata(req: Request, resp, image_id: str) -> None:
    client = _client(req, METADATA_GONE_IN)
    items = json_body(req, server_schemas.metadata)["metadata"]
    current = _properties(client, image_id)
    _update(req, client, image_id, items, [key for key in current if key not in items],
            len(items))
    send(resp, {"metadata": items})


def show_metadata_item(req: Request, resp, image_id: str, key: str) -> None:
    metadata = _properties(_client(req, METADATA_GONE_IN), image_id)
    if key not in metadata:
        raise NotFound("Metadata item was not found")
    send(resp, {"meta": {key: metadata[key]}})


def update_metadata_item(req: Request, resp, image_id: str, key: str) -> None:
    client = _client(req, METADATA_GONE_IN)
    meta = json_body(req, server_schemas.metadata_item)["meta"]
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    current = _properties(client, image_id)
    _update(req, client, image_id, meta, [], len({**current, **meta}))
    send(resp, {"meta": meta})


def delete_metadata_item(req: Request, resp, image_id: str, key: str) -> None:
    client = _client(req, METADATA_GONE_IN)
    current = _properties(client, image_id)
    if key not in current:
        raise NotFound("Invalid metadata key")
    _update(req, client, image_id, {}, [key], len(current) - 1)
    send(resp, status=204)
