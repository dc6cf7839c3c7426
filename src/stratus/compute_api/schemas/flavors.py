"""Request bodies of /flavors, their extra specs and access actions."""

from stratus.common.wsgi.body import Schema
from stratus.compute_api.schemas import BOOLEAN, NAME, body, integer

FLAVOR_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
             "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"}

create = Schema(body("flavor", {
    "name": NAME,
    "id": FLAVOR_ID,
    "ram": integer(1),
    "vcpus": integer(1),
    "disk": integer(0),
    "OS-FLV-EXT-DATA:ephemeral": integer(0),
    "swap": integer(0),
    "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                    "minimum": 0, "exclusiveMinimum": 0, "maximum": 3.40282e38},
    "os-flavor-access:is_public": BOOLEAN,
}, required=["name", "ram", "vcpus", "disk"]))

_SPEC_KEY = "^[a-zA-Z0-9-_:. ]{1,255}$"
_SPEC_VALUE = {"type": ["string", "number", "boolean"], "maxLength": 255}

extra_specs = Schema({
    "type": "object",
    "properties": {"extra_specs": {"type": "object",
                                   "patternProperties": {_SPEC_KEY: _SPEC_VALUE},
                                   "additionalProperties": False}},
    "required": ["extra_specs"], "additionalProperties": False})

extra_spec_item = Schema({
    "type": "object", "patternProperties": {_SPEC_KEY: _SPEC_VALUE},
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False})

_TENANT = {"type": "object", "properties": {"tenant": {"type": "string", "minLength": 1,
                                                       "maxLength": 255}},
           "required": ["tenant"], "additionalProperties": False}

access_action = Schema({
    "type": "object",
    "properties": {"addTenantAccess": _TENANT, "removeTenantAccess": _TENANT},
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False})
