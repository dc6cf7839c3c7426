"""Request bodies of /servers per microversion (description 2.19, tags 2.26, networks 2.37)."""

from __future__ import annotations

import copy

from stratus.common.wsgi.body import Schema
from stratus.compute_api.schemas import BOOLEAN, METADATA, NAME, UUID, integer

_NETWORK = {"type": "object",
            "properties": {"fixed_ip": {"type": "string",
                                        "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
                           "port": {"type": ["string", "null"], "format": "uuid"},
                           "uuid": {"type": "string"}},
            "additionalProperties": False}
_NETWORK_TAGGED = copy.deepcopy(_NETWORK)
_NETWORK_TAGGED["properties"]["tag"] = {"type": "string", "maxLength": 60,
                                        "pattern": "^[^,/]*$"}
_NETWORK_V237 = copy.deepcopy(_NETWORK)
_NETWORK_V237["properties"]["uuid"] = UUID

_BLOCK_DEVICE = {"type": "object",
                 "properties": {
                     "source_type": {"type": "string",
                                     "enum": ["volume", "image", "snapshot", "blank"]},
                     "destination_type": {"type": "string", "enum": ["local", "volume"]},
                     "uuid": {"type": "string", "minLength": 1, "maxLength": 255,
                              "pattern": "^[a-zA-Z0-9._-]*$"},
                     "boot_index": {"type": ["integer", "string", "null"],
                                    "pattern": "^-?[0-9]+$"},
                     "volume_size": {"type": ["integer", "string"], "pattern": "^[0-9]+$",
                                     "minimum": 1},
                     "delete_on_termination": BOOLEAN,
                     "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                                     "pattern": "^[a-zA-Z0-9._/-]*$"},
                     "device_type": {"type": "string", "maxLength": 255},
                     "disk_bus": {"type": "string", "maxLength": 255},
                     "guest_format": {"type": "string", "maxLength": 255},
                 },
                 "additionalProperties": False}
_BLOCK_DEVICE_TAGGED = copy.deepcopy(_BLOCK_DEVICE)
_BLOCK_DEVICE_TAGGED["properties"]["tag"] = _NETWORK_TAGGED["properties"]["tag"]

_SCHEDULER_HINTS = {"type": "object",
                    "properties": {"group": UUID,
                                   "different_host": {"type": ["string", "array"]},
                                   "same_host": {"type": ["string", "array"]}},
                    "additionalProperties": True}

_SERVER = {
    "name": NAME,
    "imageRef": {"type": "string", "maxLength": 255},
    "flavorRef": {"type": ["string", "integer"], "minLength": 1},
    "adminPass": {"type": "string"},
    "metadata": METADATA,
    "networks": {"type": "array", "items": _NETWORK},
    "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
    "accessIPv4": {"type": "string", "format": "ipv4"},
    "accessIPv6": {"type": "string", "format": "ipv6"},
    "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
    "config_drive": BOOLEAN,
    "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
    "min_count": integer(1),
    "max_count": integer(1),
    "return_reservation_id": BOOLEAN,
    "security_groups": {"type": "array", "items": {
        "type": "object", "properties": {"name": {"type": "string", "minLength": 1,
                                                  "maxLength": 255}},
        "required": ["name"], "additionalProperties": False}},
    "user_data": {"type": "string", "format": "base64", "maxLength": 65535},
    "block_device_mapping_v2": {"type": "array", "items": _BLOCK_DEVICE},
}


def _create(server: dict, required: list[str]) -> Schema:
    return Schema({
        "type": "object",
        "properties": {
            "server": {"type": "object", "properties": server, "required": required,
                       "additionalProperties": False},
            "os:scheduler_hints": _SCHEDULER_HINTS,
            "OS-SCH-HNT:scheduler_hints": _SCHEDULER_HINTS,
        },
        "required": ["server"], "additionalProperties": False})


_DESCRIPTION = {"type": ["string", "null"], "maxLength": 255,
                "pattern": r"^[^\x00-\x1f\x7f]*$"}
_V219 = {**_SERVER, "description": _DESCRIPTION}
_V232 = {**_V219, "networks": {"type": "array", "items": _NETWORK_TAGGED},
         "block_device_mapping_v2": {"type": "array", "items": _BLOCK_DEVICE_TAGGED}}
_V237 = {**_V219, "networks": {"oneOf": [{"type": "array", "items": _NETWORK_V237},
                                         {"type": "string", "enum": ["none", "auto"]}]}}

create = [
    ("2.1", _create(_SERVER, ["name", "flavorRef"])),
    ("2.19", _create(_V219, ["name", "flavorRef"])),
    ("2.32", _create(_V232, ["name", "flavorRef"])),
    ("2.37", _create(_V237, ["name", "flavorRef", "networks"])),
]

_UPDATE = {"name": NAME, "accessIPv4": _SERVER["accessIPv4"],
           "accessIPv6": _SERVER["accessIPv6"], "OS-DCF:diskConfig": _SERVER["OS-DCF:diskConfig"]}


def _update(server: dict) -> Schema:
    return Schema({"type": "object",
                   "properties": {"server": {"type": "object", "properties": server,
                                             "additionalProperties": False}},
                   "required": ["server"], "additionalProperties": False})


update = [("2.1", _update(_UPDATE)), ("2.19", _update({**_UPDATE, "description": _DESCRIPTION}))]

metadata = Schema({"type": "object", "properties": {"metadata": METADATA},
                   "required": ["metadata"], "additionalProperties": False})
metadata_item = Schema({"type": "object",
                        "properties": {"meta": {**METADATA, "minProperties": 1,
                                                "maxProperties": 1}},
                        "required": ["meta"], "additionalProperties": False})

TAG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}
MAX_TAGS = 50
tags = Schema({"type": "object",
               "properties": {"tags": {"type": "array", "items": TAG, "maxItems": MAX_TAGS}},
               "required": ["tags"], "additionalProperties": False})
tag = Schema(TAG)
