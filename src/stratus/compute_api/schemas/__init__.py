"""JSON Schemas of compute request bodies, per microversion, compiled once at import.

Each resource module exposes its schemas as ``Schema`` objects (or a
``by_version`` table of them); handlers pick one with ``for_version``.
"""

from __future__ import annotations

from stratus.common.wsgi.body import Schema
from stratus.common.wsgi.microversion import Version

INT_MAX = 2147483647

# Nova accepts integers written as strings ("512") wherever it takes an integer.
def integer(minimum: int = 0, maximum: int = INT_MAX) -> dict:
    return {"type": ["integer", "string"], "pattern": "^-?[0-9]+$",
            "minimum": minimum, "maximum": maximum}


# A name that neither starts nor ends with whitespace.
NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^(?!\s)[\s\S]*(?<!\s)$"}
UUID = {"type": "string", "format": "uuid"}
BOOLEAN = {"type": ["boolean", "string"],
           "enum": [True, False, "True", "False", "true", "false", "TRUE", "FALSE",
                    "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"]}
METADATA = {"type": "object",
            "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string",
                                                               "maxLength": 255}},
            "additionalProperties": False}


def as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1", "yes", "on", "t", "y")


def body(name: str, properties: dict, required: list[str] | None = None,
         additional: bool = False) -> dict:
    """A request body {name: {properties...}} whose inner object forbids unknown keys."""
    inner = {"type": "object", "properties": properties, "additionalProperties": additional}
    if required:
        inner["required"] = required
    return {"type": "object", "properties": {name: inner}, "required": [name],
            "additionalProperties": False}


def for_version(table: list[tuple[str, Schema]], version: Version) -> Schema:
    """The schema of the newest entry of ``table`` (oldest first) not above ``version``."""
    chosen = table[0][1]
    for since, schema in table:
        if version >= Version.parse(since):
            chosen = schema
    return chosen
