"""The image JSON Schema: request validation and the documents at /v2/schemas/*.

Glance publishes the schema an image must match; the same dict here validates
create and PATCH bodies and is what ``GET /v2/schemas/image`` returns.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema

from stratus.common.wsgi.errors import BadRequest, Forbidden

DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
VISIBILITIES = ["community", "public", "private", "shared"]
STATUSES = ["queued", "saving", "active", "killed", "deleted", "uploading", "importing",
            "pending_delete", "deactivated"]

# Attributes a client never sets, attributes kept for Glance's own use, and the prefix
# Glance reserves for itself.
READ_ONLY = ("created_at", "updated_at", "status", "checksum", "size", "virtual_size",
             "direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value",
             "stores", "locations")
RESERVED = ("location", "deleted", "deleted_at")
RESERVED_PREFIX = "os_glance"
# Attributes stored as columns; every other key is a custom property.
CORE = ("name", "visibility", "protected", "os_hidden", "container_format", "disk_format",
        "min_disk", "min_ram", "owner", "tags")

_UUID = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


IMAGE_PROPERTIES: dict[str, dict] = {
    "id": {"type": "string", "description": "An identifier for the image", "pattern": _UUID},
    "name": _nullable("string", maxLength=255,
                      description="Descriptive name for the image"),
    "status": {"type": "string", "readOnly": True, "enum": STATUSES,
               "description": "Status of the image"},
    "visibility": {"type": "string", "enum": VISIBILITIES,
                   "description": "Scope of image accessibility"},
    "protected": {"type": "boolean",
                  "description": "If true, image will not be deletable."},
    "os_hidden": {"type": "boolean",
                  "description": "If true, image will not appear in default image list "
                                 "response."},
    "checksum": _nullable("string", readOnly=True, maxLength=32,
                          description="md5 hash of image contents."),
    "os_hash_algo": _nullable("string", readOnly=True, maxLength=64,
                              description="Algorithm to calculate the os_hash_value"),
    "os_hash_value": _nullable("string", readOnly=True, maxLength=128,
                               description="Hexdigest of the image contents using the "
                                           "algorithm specified by the os_hash_algo"),
    "owner": _nullable("string", maxLength=255, description="Owner of the image"),
    "size": _nullable("integer", readOnly=True,
                      description="Size of image file in bytes"),
    "virtual_size": _nullable("integer", readOnly=True,
                              description="Virtual size of image in bytes"),
    "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS],
                         "description": "Format of the container"},
    "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS],
                    "description": "Format of the disk"},
    "created_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of image registration"},
    "updated_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of the last image modification"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 255},
             "description": "List of strings related to the image"},
    "min_ram": {"type": "integer", "minimum": 0,
                "description": "Amount of ram (in MB) required to boot image."},
    "min_disk": {"type": "integer", "minimum": 0,
                 "description": "Amount of disk space (in GB) required to boot image."},
    "self": {"type": "string", "readOnly": True,
             "description": "An image self url"},
    "file": {"type": "string", "readOnly": True,
             "description": "An image file url"},
    "schema": {"type": "string", "readOnly": True,
               "description": "An image schema url"},
}

IMAGE_LINKS = [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
               {"rel": "describedby", "href": "{schema}"}]

IMAGE_SCHEMA = {"name": "image", "properties": IMAGE_PROPERTIES,
                "additionalProperties": {"type": "string"}, "links": IMAGE_LINKS}

MEMBER_PROPERTIES = {
    "member_id": {"type": "string", "description": "An identifier for the image member "
                                                   "(tenantId)"},
    "image_id": {"type": "string", "description": "An identifier for the image",
                 "pattern": _UUID},
    "created_at": {"type": "string", "description": "Date and time of image member "
                                                    "creation"},
    "updated_at": {"type": "string", "description": "Date and time of last modification "
                                                    "of image member"},
    "status": {"type": "string", "enum": ["pending", "accepted", "rejected"],
               "description": "The status of this image member"},
    "schema": {"type": "string", "readOnly": True},
}
MEMBER_SCHEMA = {"name": "member", "properties": MEMBER_PROPERTIES}


def collection_schema(name: str, item: dict, links: list[dict]) -> dict:
    return {"name": name, "properties": {
        name: {"type": "array", "items": item},
        "schema": {"type": "string"}, "first": {"type": "string"},
        "next": {"type": "string"}}, "links": links}


IMAGES_SCHEMA = collection_schema("images", IMAGE_SCHEMA, [
    {"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
    {"rel": "describedby", "href": "{schema}"}])
MEMBERS_SCHEMA = collection_schema("members", MEMBER_SCHEMA,
                                   [{"rel": "describedby", "href": "{schema}"}])
DOCUMENTS = {"image": IMAGE_SCHEMA, "images": IMAGES_SCHEMA, "member": MEMBER_SCHEMA,
             "members": MEMBERS_SCHEMA}

_WRITABLE = {k: v for k, v in IMAGE_PROPERTIES.items() if not v.get("readOnly")}
# Compiled validators; their ``schema`` documents are what the API reference is checked
# against (``Route.specs`` in imagesvc/app.py).
IMAGE_WRITE = jsonschema.Draft4Validator({
    "type": "object", "properties": _WRITABLE, "additionalProperties": {"type": "string"}})
MEMBER_CREATE = jsonschema.Draft4Validator({
    "type": "object", "required": ["member"],
    "properties": {"member": {"type": "string", "minLength": 1, "maxLength": 255}}})
MEMBER_UPDATE = jsonschema.Draft4Validator({
    "type": "object", "required": ["status"],
    "properties": {"status": MEMBER_PROPERTIES["status"]}})


def check_attribute_name(name: str) -> None:
    """403 for an attribute no client may write, as Glance words it."""
    if name in READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{name}' is reserved.")


def validate_image(image: dict[str, Any]) -> None:
    """400 unless ``image`` (writable attributes and custom properties) matches the schema."""
    for key in image:
        if len(key) > 255:
            raise BadRequest("Custom property should not be greater than 255 characters.")
    _raise_first(IMAGE_WRITE, image, "image")


def validate_member_create(body: Any) -> None:
    _raise_first(MEMBER_CREATE, body, "member")


def validate_member_update(body: Any) -> None:
    _raise_first(MEMBER_UPDATE, body, "member")


def _raise_first(validator: jsonschema.Validator, instance: Any, name: str) -> None:
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise BadRequest(f"Provided object does not match schema '{name}': {error.message}")


def document(name: str) -> dict:
    return copy.deepcopy(DOCUMENTS[name])
