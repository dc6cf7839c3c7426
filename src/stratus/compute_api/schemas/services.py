"""Request bodies of PUT /os-services/{action}."""

from stratus.common.wsgi.body import Schema

_HOST = {"type": "string", "minLength": 1, "maxLength": 255}
_BASE = {"host": _HOST, "binary": _HOST}


def _schema(extra: dict, required: list[str]) -> Schema:
    return Schema({"type": "object", "properties": {**_BASE, **extra},
                   "required": ["host", "binary", *required], "additionalProperties": False})


ACTIONS = {
    "enable": _schema({}, []),
    "disable": _schema({}, []),
    "disable-log-reason": _schema({"disabled_reason": {"type": "string", "minLength": 1,
                                                       "maxLength": 255}},
                                  ["disabled_reason"]),
    "force-down": _schema({"forced_down": {"type": "boolean"}}, ["forced_down"]),
}
