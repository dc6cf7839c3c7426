"""The compute API's way to the image service: a Glance v2 client acting as the caller.

The endpoint is ``[glance] endpoint_override`` when set, else the image endpoint of the
service catalog this process was given (the all-in-one passes its own catalog). Either
way requests go over HTTP with the caller's token, so Glance enforces its own visibility
rules and a real Glance works unchanged.
"""

from __future__ import annotations

from oslo_config import cfg

from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import BadRequest, Forbidden, ServiceUnavailable
from stratus.image import glance


class ImageAPI:
    """Builds a per-request Glance client for the caller's token."""

    def __init__(self, conf: cfg.ConfigOpts, catalog: list[dict] | None = None):
        self._conf = conf
        self._catalog = catalog or []

    def client(self, context: RequestContext) -> glance.GlanceClient:
        try:
            return glance.GlanceClient.for_user(self._conf, context.auth_token, self._catalog,
                                                timeout=self._conf.glance.timeout)
        except glance.ImageServiceUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None


def unavailable(client: glance.GlanceClient, exc: glance.ImageError) -> ServiceUnavailable:
    """Nova's GlanceConnectionFailed, as a 503 the caller may retry."""
    return ServiceUnavailable(f"Connection to glance host {client.endpoint} failed: {exc}")


def common_error(client: glance.GlanceClient, exc: glance.ImageError, image_id: str):
    """The API error for image-service failures every caller handles alike, else None."""
    if isinstance(exc, (glance.ImageNotAuthorized, glance.ImageForbidden)):
        return Forbidden(f"Not authorized for image {image_id}.")
    if isinstance(exc, glance.ImageServiceUnavailable):
        return unavailable(client, exc)
    if isinstance(exc, glance.ImageBadRequest):
        return BadRequest(str(exc))
    return None
