"""The image a server boots from: fetched from the image service as the caller, checked
against the flavor as Nova checks it, and turned into the request spec's ``image``."""

from __future__ import annotations

from stratus.common.wsgi.errors import BadRequest
from stratus.compute_api import image_api
from stratus.image import glance

GIB = 1024 ** 3

# What the request spec keeps of the base attributes (Nova's ImageMeta fields).
SPEC_ATTRIBUTES = ("id", "name", "status", "checksum", "owner", "size", "virtual_size",
                   "min_ram", "min_disk", "container_format", "disk_format", "created_at",
                   "updated_at", "tags")


def fetch(client: glance.GlanceClient, image_id: str) -> dict:
    """The image as the caller sees it; 400 when it is missing or not visible."""
    try:
        return client.show(image_id)
    except glance.ImageError as exc:
        raise image_api.api_error(client, exc, image_id, BadRequest(
            f"Image {image_id} could not be found.")) from None


def check_for_flavor(image: dict, flavor: dict) -> None:
    """Nova's boot checks: the image is active and fits the flavor's memory and root disk.

    A flavor with a 0 GB root disk takes its disk size from the image, so the disk
    checks are skipped for it, as in Nova.
    """
    if image.get("status") != "active":
        raise BadRequest(f"Image {image['id']} is not active.")
    if flavor["memory_mb"] < int(image.get("min_ram") or 0):
        raise BadRequest("Flavor's memory is too small for requested image.")
    root_bytes = flavor["root_gb"] * GIB
    if root_bytes == 0:
        return
    size = int(image.get("size") or 0)
    if size > root_bytes:
        raise BadRequest(f"Flavor's disk is too small for requested image. Flavor disk is "
                         f"{root_bytes} bytes, image is {size} bytes.")
    min_disk = int(image.get("min_disk") or 0) * GIB
    if min_disk > root_bytes:
        raise BadRequest(f"Flavor's disk is too small for requested image. Flavor disk is "
                         f"{root_bytes} bytes, minimum size is {min_disk} bytes.")


def for_request_spec(image: dict) -> dict:
    """The request spec's ``image``: what the scheduler's image filters and traits read."""
    spec = {key: image.get(key) for key in SPEC_ATTRIBUTES}
    spec["properties"] = image_api.properties(image)
    return spec
