"""PATCH /v2/images/{id}: Glance's JSON-patch dialect applied to an image's attributes."""

from __future__ import annotations

import re
from typing import Any

from stratus.common.wsgi.errors import BadRequest, Conflict, Forbidden, UnsupportedMediaType
from stratus.imagesvc import schemas

MEDIA_TYPES = ("application/openstack-images-v2.0-json-patch",
               "application/openstack-images-v2.1-json-patch")
OPERATIONS = ("add", "remove", "replace")
# Only while an image has no data may the description of that data change.
QUEUED_ONLY = ("disk_format", "container_format")


def check_media_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        allowed = ", ".join(MEDIA_TYPES)
        raise UnsupportedMediaType(
            f"The request media type {content_type or '(none)'} is not supported by this "
            f"server. Image PATCH expects Content-Type one of: {allowed}",
            headers={"Accept-Patch": allowed})


def parse_changes(body: Any) -> list[tuple[str, list[str], Any]]:
    """(op, path parts, value) of each change; 400 for anything malformed."""
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    changes = []
    for raw in body:
        if not isinstance(raw, dict):
            raise BadRequest("Operations must be JSON objects.")
        op = raw.get("op")
        if op not in OPERATIONS:
            raise BadRequest(f"Invalid operation: `{op}`. It must be one of the following: "
                             f"{', '.join(OPERATIONS)}.")
        if "path" not in raw or not isinstance(raw["path"], str):
            raise BadRequest("Unable to find 'path' in JSON Schema change")
        path = _decode_pointer(raw["path"])
        if op != "remove" and "value" not in raw:
            raise BadRequest(f'Operation "{op}" requires a member named "value".')
        schemas.check_attribute_name(path[0])
        changes.append((op, path, raw.get("value")))
    return changes


def _decode_pointer(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if pointer.endswith("/") or re.search(r"//", pointer):
        raise BadRequest(f"Pointer `{pointer}` contains an empty part.")
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise BadRequest(f'Pointer `{pointer}` contains "~" not part of a recognized '
                         "escape sequence.")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def apply(image: dict, changes: list[tuple[str, list[str], Any]]) -> tuple[dict, dict, list]:
    """The image's new core attributes, custom properties and tags after ``changes``.

    Raises 403/409/400 as Glance does, before anything is written.
    """
    core = {k: image[k] for k in schemas.CORE if k != "tags"}
    properties = dict(image["properties"])
    tags = list(image["tags"])
    for op, path, value in changes:
        name = path[0]
        if name == "tags":
            tags = _patch_tags(tags, op, path, value)
        elif len(path) > 1:
            raise BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
        elif name in core:
            if op == "remove":
                raise Forbidden(f"Properties {name} must not be removed.")
            if name in QUEUED_ONLY and image["status"] != "queued" and value != core[name]:
                raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
            core[name] = value
        elif op == "add":
            if name in properties:
                raise Conflict(f"Property {name} already present.")
            properties[name] = value
        elif name not in properties:
            raise Conflict(f"Property {name} does not exist.")
        elif op == "remove":
            del properties[name]
        else:
            properties[name] = value
    schemas.validate_image({**core, **properties, "tags": tags})
    return core, properties, tags


def _patch_tags(tags: list[str], op: str, path: list[str], value: Any) -> list[str]:
    if len(path) == 1:
        if op == "remove":
            return []
        if not isinstance(value, list):
            raise BadRequest("Provided object does not match schema 'image': tags must be "
                             "an array")
        return list(value)
    if op == "add" and path[1] == "-":
        return [*tags, value]
    raise BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
