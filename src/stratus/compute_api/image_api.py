"""The compute API's way to the image service: a Glance v2 client acting as the caller.

The endpoint is ``[glance] endpoint_override`` when set, else the image endpoint of the
service catalog this process was given (the all-in-one passes its own catalog). Either
way requests go over HTTP with the caller's token, so Glance enforces its own visibility
rules and a real Glance works unchanged.
"""

from __future__ import annotations

from oslo_config import cfg

from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import APIError, BadRequest, Forbidden, ServiceUnavailable
from stratus.image import glance

# Glance v2 attributes that are not custom properties; every other top-level key is one.
BASE_ATTRIBUTES = frozenset({
    "id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
    "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk",
    "container_format", "disk_format", "created_at", "updated_at", "tags", "self", "file",
    "schema", "direct_url", "locations", "stores"})


def properties(image: dict) -> dict:
    """The custom properties of a Glance v2 image (top-level keys that are not base ones)."""
    return {key: value for key, value in image.items() if key not in BASE_ATTRIBUTES}


class ImageAPI:
    """Builds a per-request Glance client for the caller's token."""

    def __init__(self, conf: cfg.ConfigOpts, catalog: list[dict] | None = None):
        self._clients = glance.UserImageClients(conf, catalog)

    def client(self, context: RequestContext) -> glance.GlanceClient:
        try:
            return self._clients.client(context)
        except glance.ImageServiceUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None


def unavailable(client: glance.GlanceClient, exc: glance.ImageError) -> ServiceUnavailable:
    """Nova's GlanceConnectionFailed, as a 503 the caller may retry."""
    return ServiceUnavailable(f"Connection to glance host {client.endpoint} failed: {exc}")


def api_error(client: glance.GlanceClient, exc: glance.ImageError, image_id: str,
              not_found: APIError) -> APIError:
    """The compute API error for a failed image call; ``not_found`` is the caller's 404."""
    if isinstance(exc, glance.ImageNotFound):
        return not_found
    if isinstance(exc, (glance.ImageNotAuthorized, glance.ImageForbidden)):
        return Forbidden(f"Not authorized for image {image_id}.")
    if isinstance(exc, glance.ImageBadRequest):
        return BadRequest(exc.reason)
    return unavailable(client, exc)
