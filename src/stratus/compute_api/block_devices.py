"""Block device mappings (v2) of a server create: what this cloud can build, checked up front.

There is no block storage service, so a mapping that needs a volume is refused at the API
with 400 rather than accepted and failed later on a host. Image-backed local root disks
(what ``openstack server create --image`` sends beside ``imageRef``) and blank local disks
(ephemeral, swap) are kept and travel in the build request and request spec.
"""

from __future__ import annotations

from stratus.common.wsgi.errors import BadRequest

_INVALID = "Block Device Mapping is Invalid: "
_KEPT = ("source_type", "destination_type", "uuid", "boot_index", "volume_size",
         "delete_on_termination", "device_name", "device_type", "disk_bus", "guest_format",
         "tag")


def boot_image(image_ref: str, mappings: list[dict]) -> tuple[str, list[dict]]:
    """The image id the server boots from, and the mappings normalised; 400 when unbuildable."""
    normal = [_normalise(mapping) for mapping in mappings]
    boot = [m for m in normal if m["boot_index"] == 0]
    if len(boot) > 1:
        raise BadRequest(_INVALID + "Boot sequence for the instance and image/block device "
                         "mapping combination is not valid.")
    for mapping in normal:
        if mapping["source_type"] == "image" and mapping["boot_index"] != 0:
            raise BadRequest("Mapping image to local is not supported.")
    if boot:
        image = boot[0]["uuid"]
        if image_ref and _image_id(image_ref) != image:
            raise BadRequest(_INVALID + "imageRef and the boot device name different images.")
        return image, normal
    if not image_ref:
        raise BadRequest("Missing imageRef attribute")
    return _image_id(image_ref), normal


def _image_id(image_ref: str) -> str:
    """imageRef may be a bare id or an image URL ending in the id."""
    return image_ref.rstrip("/").rsplit("/", 1)[-1]


def _normalise(mapping: dict) -> dict:
    source = mapping.get("source_type")
    if source is None:
        raise BadRequest(_INVALID + "source_type is required.")
    destination = mapping.get("destination_type") or (
        "local" if source in ("image", "blank") else "volume")
    if destination == "volume" or source in ("volume", "snapshot"):
        raise BadRequest(_INVALID + "volumes need a block storage service, which this cloud "
                         "does not have.")
    if source == "image" and not mapping.get("uuid"):
        raise BadRequest(_INVALID + "an image mapping needs the image's uuid.")
    if source == "blank" and mapping.get("uuid"):
        raise BadRequest(_INVALID + "a blank mapping takes no uuid.")
    normal = {key: mapping.get(key) for key in _KEPT}
    normal["destination_type"] = destination
    index = mapping.get("boot_index")
    normal["boot_index"] = None if index is None else int(index)
    if normal["volume_size"] is not None:
        normal["volume_size"] = int(normal["volume_size"])
    return normal
