"""Request bodies of /os-aggregates and its actions."""

from stratus.common.wsgi.body import Schema
from stratus.compute_api.schemas import body

_NAME = {"type": "string", "minLength": 1, "maxLength": 255,
         "pattern": r"^(?!\s)[\s\S]*(?<!\s)$"}
_AZ = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
       "pattern": r"^(?!\s)[^:]*(?<!\s)$"}
_HOST = {"type": "object",
         "properties": {"host": {"type": "string", "minLength": 1, "maxLength": 255}},
         "required": ["host"], "additionalProperties": False}

create = Schema(body("aggregate", {"name": _NAME, "availability_zone": _AZ},
                     required=["name"]))
_update = body("aggregate", {"name": _NAME, "availability_zone": _AZ})
_update["properties"]["aggregate"]["minProperties"] = 1
update = Schema(_update)

action = Schema({
    "type": "object",
    "properties": {
        "add_host": _HOST, "remove_host": _HOST,
        "set_metadata": {"type": "object", "properties": {"metadata": {
            "type": "object", "minProperties": 1,
            "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {
                "type": ["string", "null"], "maxLength": 255}},
            "additionalProperties": False}},
            "required": ["metadata"], "additionalProperties": False},
    },
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False})
