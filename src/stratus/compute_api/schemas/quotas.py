"""Request body of PUT /os-quota-sets/{project_id}; network quotas only before 2.36."""

from stratus.common.wsgi.body import Schema
from stratus.compute_api.schemas import integer
from stratus.compute_api.store.quotas import NETWORK_DEFAULTS, RESOURCES

_LIMIT = integer(-1)


def _update(resources) -> Schema:
    properties = {name: _LIMIT for name in resources}
    properties["force"] = {"type": ["boolean", "string"],
                           "enum": [True, False, "True", "False", "true", "false"]}
    return Schema({"type": "object",
                   "properties": {"quota_set": {"type": "object", "properties": properties,
                                                "additionalProperties": False}},
                   "required": ["quota_set"], "additionalProperties": False})


update = [("2.1", _update([*RESOURCES, *NETWORK_DEFAULTS])), ("2.36", _update(RESOURCES))]
