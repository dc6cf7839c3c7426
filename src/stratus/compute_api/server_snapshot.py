"""createImage: a snapshot of a server's disk, as a new image in the image service.

As in Nova, the API creates the image (queued) as the caller, with the base image's
formats, sizes and custom properties, moves the server into ``image_snapshot_pending``
in one conditional write and casts the work to the server's host; the agent there saves
the disk and uploads it (``compute/manager.py``). Nothing is left behind when the API
refuses: the image is deleted again if the server cannot take the snapshot after all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import APIError, BadRequest, Forbidden, PayloadTooLarge
from stratus.compute_api import image_api, server_actions
from stratus.compute_api.compute_rpc import ComputeRPC
from stratus.compute_api.server_lookup import Located
from stratus.compute_api.service import ComputeService
from stratus.image import glance

LOG = logging.getLogger(__name__)

ACTION = "createImage"
# Never copied from the base image: Nova's default [DEFAULT]
# non_inheritable_image_properties, and the signature of the base image's own bytes.
NON_INHERITABLE_PROPERTIES = frozenset({
    "cache_in_nova", "bittorrent", "img_signature", "img_signature_hash_method",
    "img_signature_key_type", "img_signature_certificate_uuid"})
# A server whose base image is gone (or was never an image) gets these.
DEFAULT_FORMATS = {"disk_format": "qcow2", "container_format": "bare"}


@dataclass(frozen=True)
class Created:
    """The queued image a snapshot goes into, and the image service that holds it."""

    image_id: str
    glance_endpoint: str


def create_image(compute: ComputeService, rpc: ComputeRPC, context: RequestContext,
                 located: Located, name: str, metadata: dict[str, str]) -> Created:
    """Create the snapshot's image and start the snapshot on the server's host.

    ActionRefused (409) for a locked server or one whose state does not allow it;
    an APIError when the image service refuses (then the server is left as it was).
    """
    server = located.server
    server_actions.check_not_locked(server, context)
    transition = server_actions.TRANSITIONS[ACTION]
    server_actions.check_state(server, ACTION, transition)
    host = server_actions.host_of(located)
    for key in metadata:
        if key in image_api.BASE_ATTRIBUTES:
            raise BadRequest(f"Invalid image metadata: {key} is an image attribute, "
                             "not a metadata item.")
    client = compute.image_api.client(context)
    base = _base_image(client, server.get("image_ref"))
    try:
        image = client.create(**image_attributes(base, server, context, name, metadata))
    except glance.ImageError as exc:
        raise _refused(client, exc, name) from None
    try:
        if image.get("visibility") == "shared":
            client.add_member(image["id"], server["project_id"])
        server_actions.move_into_task(compute, context, located, ACTION, transition)
    except BaseException as exc:
        _discard(client, image["id"])
        if isinstance(exc, glance.ImageError):
            raise _refused(client, exc, name) from None
        raise
    rpc.snapshot_instance(context, host, server["uuid"], image["id"])
    return Created(image["id"], client.endpoint)


def image_attributes(base: dict | None, server: dict, context: RequestContext, name: str,
                     metadata: dict[str, str]) -> dict:
    """The Glance v2 create body of a snapshot of ``server`` taken by ``context``.

    The base image's custom properties are inherited (but for the non-inheritable ones),
    then Nova's snapshot properties are set, then the request's metadata, which wins.
    A snapshot taken from outside the server's project is ``shared`` with that project
    (``instance_owner``), as Nova does, so the server's owner sees it; otherwise private.
    """
    base = base or {}
    properties = {key: value for key, value in image_api.properties(base).items()
                  if key not in NON_INHERITABLE_PROPERTIES}
    properties.update(image_type="snapshot", instance_uuid=server["uuid"],
                      user_id=context.user_id, base_image_ref=server.get("image_ref") or "")
    own_project = context.project_id == server["project_id"]
    if own_project:
        properties["owner_project_name"] = context.project_name
        if context.user_id == server.get("user_id"):
            properties["owner_user_name"] = context.user_name
    else:
        properties["instance_owner"] = server["project_id"]
    properties.update(metadata)
    attributes = {key: value for key, value in properties.items() if value is not None}
    attributes.update(
        name=name, visibility="private" if own_project else "shared",
        disk_format=base.get("disk_format") or DEFAULT_FORMATS["disk_format"],
        container_format=base.get("container_format") or DEFAULT_FORMATS["container_format"],
        min_ram=int(base.get("min_ram") or 0), min_disk=int(base.get("min_disk") or 0))
    return attributes


def _base_image(client: glance.GlanceClient, image_ref: str | None) -> dict | None:
    """The server's image as the caller sees it; None when it is gone or not visible
    (the snapshot then starts from the defaults, as one of a deleted image does)."""
    if not image_ref:
        return None
    try:
        return client.show(image_ref)
    except (glance.ImageNotFound, glance.ImageForbidden):
        return None
    except glance.ImageError as exc:
        raise _refused(client, exc, image_ref) from None


def _refused(client: glance.GlanceClient, exc: glance.ImageError, name: str) -> APIError:
    """The compute API's answer when the image service refused the snapshot's image."""
    if exc.status == 413:
        return PayloadTooLarge(f"Quota exceeded or out of space for image {name} in the "
                               f"image service: {exc.reason}")
    if isinstance(exc, (glance.ImageForbidden, glance.ImageNotAuthorized)):
        return Forbidden(f"Not authorized to create image {name}: {exc.reason}")
    if isinstance(exc, glance.ImageBadRequest):
        return BadRequest(exc.reason)
    return image_api.unavailable(client, exc)


def _discard(client: glance.GlanceClient, image_id: str) -> None:
    """Delete the image of a snapshot that is not going to happen."""
    try:
        client.delete(image_id)
    except glance.ImageError:
        LOG.exception("Could not delete image %s of a refused snapshot", image_id)
