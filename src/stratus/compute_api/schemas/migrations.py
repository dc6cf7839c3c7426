"""The query GET /os-migrations reads (2.1-2.58 in Nova): every filter a plain string.

Nova's schema for these versions allows any other parameter too (additionalProperties),
so nothing here is ever refused; the documented filters are Nova's own, and ``node``,
``uuid``, ``user_id`` and ``project_id`` are the further filters its database layer
applies when they are sent. The handler reads the parameters by name.
"""

from __future__ import annotations

from stratus.common.wsgi.body import Schema

_STRING = {"type": "string"}
FILTERS = ("host", "source_compute", "node", "status", "migration_type", "instance_uuid",
           "uuid", "user_id", "project_id")
list_query = Schema({"type": "object",
                     "properties": {**{name: _STRING for name in FILTERS},
                                    "hidden": _STRING},
                     "additionalProperties": True})
