"""Request bodies of POST /servers/{server_id}/action: one key, naming the action.

``evacuate`` loses ``onSharedStorage`` at 2.14 (Nova finds out for itself from then on)
and gains ``force`` at 2.29, so the body schema is versioned: ``ACTION`` for the route's
Spec, ``for_version`` for the handler.
"""

import copy

from stratus.common.wsgi.body import Schema
from stratus.common.wsgi.spec import Versioned
from stratus.compute_api.schemas import METADATA, NAME

_NOTHING = {"type": "null"}
_FLAVOR_REF = {"type": ["string", "integer"], "minLength": 1}
_LOCK = {"type": ["null", "object"], "properties": {}, "additionalProperties": False}

_ACTIONS = {
    "type": "object",
    "properties": {
        "reboot": {"type": "object",
                   "properties": {"type": {"type": "string",
                                           "enum": ["HARD", "Hard", "hard",
                                                    "SOFT", "Soft", "soft"]}},
                   "required": ["type"], "additionalProperties": False},
        "os-stop": _NOTHING, "os-start": _NOTHING,
        "pause": _NOTHING, "unpause": _NOTHING,
        "suspend": _NOTHING, "resume": _NOTHING,
        "lock": _LOCK, "unlock": _NOTHING,
        "os-resetState": {"type": "object",
                          "properties": {"state": {"type": "string",
                                                   "enum": ["active", "error"]}},
                          "required": ["state"], "additionalProperties": False},
        "createImage": {"type": "object",
                        "properties": {"name": NAME, "metadata": METADATA},
                        "required": ["name"], "additionalProperties": False},
        "resize": {"type": "object",
                   "properties": {"flavorRef": _FLAVOR_REF,
                                  "OS-DCF:diskConfig": {"type": "string",
                                                        "enum": ["AUTO", "MANUAL"]}},
                   "required": ["flavorRef"], "additionalProperties": False},
        "confirmResize": _NOTHING, "revertResize": _NOTHING, "migrate": _NOTHING,
        "rebuild": {"type": "object",
                    "properties": {"imageRef": {"type": "string", "minLength": 1},
                                   "name": NAME, "adminPass": {"type": "string"},
                                   "metadata": METADATA,
                                   "accessIPv4": {"type": "string", "format": "ipv4"},
                                   "accessIPv6": {"type": "string", "format": "ipv6"},
                                   "OS-DCF:diskConfig": {"type": "string",
                                                         "enum": ["AUTO", "MANUAL"]},
                                   "preserve_ephemeral": {"type": "boolean"}},
                    "required": ["imageRef"], "additionalProperties": False},
        "evacuate": {"type": "object",
                     "properties": {"host": {"type": "string", "minLength": 1,
                                             "maxLength": 255},
                                    "adminPass": {"type": "string"},
                                    "onSharedStorage": {"type": ["boolean", "string"]}},
                     "additionalProperties": False},
        "os-getConsoleOutput": {
            "type": "object",
            # Nova takes an integer or a string of one; -1 (or none) means the whole log.
            "properties": {"length": {"type": ["integer", "string", "null"],
                                      "pattern": "^-?[0-9]+$", "minimum": -1}},
            "additionalProperties": False},
    },
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False}


# Nova's boolean: JSON true/false or one of its spellings as a string.
_BOOLEAN = {"type": ["boolean", "string"],
            "enum": [True, False, "True", "TRUE", "true", "1", "ON", "On", "on", "YES",
                     "Yes", "yes", "y", "t", "False", "FALSE", "false", "0", "OFF", "Off",
                     "off", "NO", "No", "no", "n", "f"]}
TRUE = frozenset({True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
                  "y", "t"})


def _evacuate(changes) -> dict:
    body = copy.deepcopy(_ACTIONS)
    changes(body["properties"]["evacuate"]["properties"])
    return body


action = Schema(_ACTIONS)
action_2_14 = Schema(_evacuate(lambda props: props.pop("onSharedStorage")))
action_2_29 = Schema(_evacuate(lambda props: (props.pop("onSharedStorage"),
                                              props.update(force=_BOOLEAN))))
ACTION = (Versioned(action, None, "2.13"), Versioned(action_2_14, "2.14", "2.28"),
          Versioned(action_2_29, "2.29"))


def for_version(want) -> Schema:
    """The action schema of a request; ``want(version)``: is it at least that version."""
    if want("2.29"):
        return action_2_29
    return action_2_14 if want("2.14") else action
