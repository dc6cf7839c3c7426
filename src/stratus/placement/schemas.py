"""JSON Schemas of placement request bodies and query strings, per microversion.

Each ``*_BY_VERSION`` table lists (first microversion, compiled schema), newest first;
:func:`pick` returns the schema a request's version uses. Everything is compiled once
at import.
"""

from __future__ import annotations

import copy
import uuid as uuidlib
from typing import Any

import jsonschema

from stratus.common.wsgi.errors import BadRequest
from stratus.common.wsgi.microversion import Version

MAX_INT = 0x7FFFFFFF
FLOAT_MAX = 3.40282e38
UUID_PATTERN = "^[0-9a-fA-F-]{36}$"
NAME_PATTERN = "^[A-Z0-9_]+$"          # resource classes, traits, consumer types
CUSTOM_PATTERN = "^CUSTOM_[A-Z0-9_]+$"
GROUP_SUFFIX_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"

_FORMATS = jsonschema.FormatChecker(())


@_FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    """Any spelling uuid.UUID reads (with or without dashes), as Placement accepts."""
    if isinstance(value, str):
        uuidlib.UUID(value)
    return True


class Schema:
    """A compiled schema whose errors read as Placement's do."""

    def __init__(self, schema: dict, prefix: str = "JSON does not validate"):
        self.schema = schema  # the document itself, read by the API reference checks
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        self._validator = cls(schema, format_checker=_FORMATS)
        self._prefix = prefix

    def validate(self, instance: Any) -> Any:
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(instance))
        if error is not None:
            raise BadRequest(f"{self._prefix}: {error}")
        return instance


def pick(table: list[tuple[tuple[int, int], Schema]], version: Version) -> Schema:
    """The schema of the newest row whose first version ``version`` has reached."""
    for first, schema in table:
        if version.matches(first):
            return schema
    raise LookupError(f"no schema for {version}")


def _obj(properties: dict, required: list[str] = (), **extra) -> dict:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False, **extra}


UUID = {"type": "string", "format": "uuid"}
NULLABLE_UUID = {"anyOf": [UUID, {"type": "null"}]}
ID_STRING = {"type": "string", "minLength": 1, "maxLength": 255}

# --- resource providers ---------------------------------------------------------------
_RP_NAME = {"type": "string", "maxLength": 200}
RP_CREATE_BY_VERSION = [
    ((1, 14), Schema(_obj({"name": _RP_NAME, "uuid": UUID,
                           "parent_provider_uuid": NULLABLE_UUID}, ["name"]))),
    ((1, 0), Schema(_obj({"name": _RP_NAME, "uuid": UUID}, ["name"]))),
]
RP_UPDATE_BY_VERSION = [
    ((1, 14), Schema(_obj({"name": _RP_NAME, "parent_provider_uuid": NULLABLE_UUID},
                          ["name"]))),
    ((1, 0), Schema(_obj({"name": _RP_NAME}, ["name"]))),
]
_RP_QUERY = {"name": {"type": "string"}, "uuid": UUID}


def _query(extra: dict) -> Schema:
    return Schema(_obj({**_RP_QUERY, **extra}), "Invalid query string parameters")


RP_LIST_QUERY_BY_VERSION = [
    ((1, 18), _query({"member_of": {"type": "string"}, "resources": {"type": "string"},
                      "in_tree": UUID, "required": {"type": "string"}})),
    ((1, 14), _query({"member_of": {"type": "string"}, "resources": {"type": "string"},
                      "in_tree": UUID})),
    ((1, 4), _query({"member_of": {"type": "string"}, "resources": {"type": "string"}})),
    ((1, 3), _query({"member_of": {"type": "string"}})),
    ((1, 0), _query({})),
]

# --- inventories ----------------------------------------------------------------------
_COUNT = {"type": "integer", "maximum": MAX_INT, "minimum": 1}
_INVENTORY_FIELDS = {
    "total": _COUNT,
    "reserved": {"type": "integer", "maximum": MAX_INT, "minimum": 0},
    "min_unit": _COUNT, "max_unit": _COUNT, "step_size": _COUNT,
    "allocation_ratio": {"type": "number", "maximum": FLOAT_MAX},
}
INVENTORY_DEFAULTS = {"reserved": 0, "min_unit": 1, "max_unit": MAX_INT, "step_size": 1,
                      "allocation_ratio": 1.0}
_GENERATION = {"type": "integer"}
_INVENTORY_RECORD = _obj({"resource_provider_generation": _GENERATION,
                          **_INVENTORY_FIELDS}, ["total"])
INVENTORY_UPDATE = Schema(_obj({"resource_provider_generation": _GENERATION,
                                **_INVENTORY_FIELDS},
                               ["total", "resource_provider_generation"]))
INVENTORY_CREATE = Schema(_obj({"resource_provider_generation": _GENERATION,
                                "resource_class": {"type": "string",
                                                   "pattern": NAME_PATTERN},
                                **_INVENTORY_FIELDS}, ["total", "resource_class"]))
_INVENTORIES = _obj({"resource_provider_generation": _GENERATION,
                     # Other keys are checked as records too, then refused as unknown
                     # classes (400), as Placement words it.
                     "inventories": {"type": "object",
                                     "patternProperties": {NAME_PATTERN: _INVENTORY_RECORD},
                                     "additionalProperties": _INVENTORY_RECORD}},
                    ["resource_provider_generation", "inventories"])
INVENTORIES_SET = Schema(_INVENTORIES)

# --- resource classes, traits, aggregates ------------------------------------------------
RESOURCE_CLASS = Schema(_obj({"name": {"type": "string", "pattern": CUSTOM_PATTERN,
                                       "maxLength": 255}}, ["name"]))
_TRAIT = {"type": "string", "minLength": 1, "maxLength": 255}
PROVIDER_TRAITS = Schema(_obj({"traits": {"type": "array", "items": _TRAIT},
                               "resource_provider_generation": _GENERATION},
                              ["traits", "resource_provider_generation"]))
TRAITS_QUERY = Schema(_obj({"name": {"type": "string"}, "associated": {"type": "string"}}),
                      "Invalid query string parameters")
_AGGREGATE_LIST = {"type": "array", "items": UUID, "uniqueItems": True}
AGGREGATES_BY_VERSION = [
    ((1, 19), Schema(_obj({"aggregates": _AGGREGATE_LIST,
                           "resource_provider_generation": _GENERATION},
                          ["aggregates", "resource_provider_generation"]))),
    ((1, 1), Schema(_AGGREGATE_LIST)),
]

# --- usages -------------------------------------------------------------------------------
_USAGES_QUERY = {"project_id": ID_STRING, "user_id": ID_STRING}
USAGES_QUERY_BY_VERSION = [
    ((1, 38), Schema(_obj({**_USAGES_QUERY, "consumer_type": {
        "type": "string", "pattern": f"{NAME_PATTERN}|^all$|^unknown$",
        "minLength": 1, "maxLength": 255}}, ["project_id"]),
        "Invalid query string parameters")),
    ((1, 9), Schema(_obj(_USAGES_QUERY, ["project_id"]), "Invalid query string parameters")),
]

# --- allocations --------------------------------------------------------------------------
_RESOURCES = {"type": "object", "minProperties": 1,
              "patternProperties": {NAME_PATTERN: {"type": "integer", "minimum": 1}},
              "additionalProperties": False}
_LIST_ALLOCATIONS = _obj({"allocations": {"type": "array", "minItems": 1, "items": _obj(
    {"resource_provider": _obj({"uuid": UUID}, ["uuid"]), "resources": _RESOURCES},
    ["resource_provider", "resources"])}}, ["allocations"])
_LIST_ALLOCATIONS_1_8 = copy.deepcopy(_LIST_ALLOCATIONS)
_LIST_ALLOCATIONS_1_8["properties"].update(project_id=ID_STRING, user_id=ID_STRING)
_LIST_ALLOCATIONS_1_8["required"] += ["project_id", "user_id"]


def _dict_allocations(min_providers: int, since: tuple[int, int]) -> dict:
    """The dict form of one consumer's allocations (1.12+), with what ``since`` adds."""
    properties = {
        "allocations": {"type": "object", "minProperties": min_providers,
                        "patternProperties": {UUID_PATTERN: _obj(
                            {"generation": _GENERATION, "resources": _RESOURCES},
                            ["resources"])},
                        "additionalProperties": False},
        "project_id": ID_STRING, "user_id": ID_STRING}
    required = ["allocations", "project_id", "user_id"]
    if since >= (1, 28):
        properties["consumer_generation"] = {"type": ["integer", "null"]}
        required.append("consumer_generation")
    if since >= (1, 34):
        properties["mappings"] = {
            "type": "object", "minProperties": 1,
            "patternProperties": {GROUP_SUFFIX_PATTERN: {
                "type": "array", "minItems": 1, "items": UUID}}}
    if since >= (1, 38):
        properties["consumer_type"] = {"type": "string", "pattern": NAME_PATTERN,
                                       "minLength": 1, "maxLength": 255}
        required.append("consumer_type")
    return _obj(properties, required)


def _many(since: tuple[int, int], min_consumers: int = 1) -> dict:
    return {"type": "object", "minProperties": min_consumers, "additionalProperties": False,
            "patternProperties": {UUID_PATTERN: _dict_allocations(0, since)}}


ALLOCATIONS_PUT_BY_VERSION = [
    ((1, 38), Schema(_dict_allocations(0, (1, 38)))),
    ((1, 34), Schema(_dict_allocations(0, (1, 34)))),
    ((1, 28), Schema(_dict_allocations(0, (1, 28)))),
    ((1, 12), Schema(_dict_allocations(1, (1, 12)))),
    ((1, 8), Schema(_LIST_ALLOCATIONS_1_8)),
    ((1, 0), Schema(_LIST_ALLOCATIONS)),
]
ALLOCATIONS_POST_BY_VERSION = [
    ((1, 38), Schema(_many((1, 38)))),
    ((1, 34), Schema(_many((1, 34)))),
    ((1, 28), Schema(_many((1, 28)))),
    ((1, 13), Schema(_many((1, 13)))),
]

# --- reshaper -----------------------------------------------------------------------------
RESHAPER_BY_VERSION = [
    (first, Schema(_obj({
        "inventories": {"type": "object", "minProperties": 1, "additionalProperties": False,
                        "patternProperties": {UUID_PATTERN: _INVENTORIES}},
        "allocations": _many(first, min_consumers=0)}, ["inventories", "allocations"])))
    for first in ((1, 38), (1, 34), (1, 30))
]
