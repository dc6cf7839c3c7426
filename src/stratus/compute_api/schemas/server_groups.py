"""Request body of POST /os-server-groups per microversion (soft-* policies from 2.15)."""

from stratus.common.wsgi.body import Schema
from stratus.compute_api.schemas import NAME, body


def _create(policies: list[str]) -> Schema:
    return Schema(body("server_group", {
        "name": NAME,
        "policies": {"type": "array", "items": {"type": "string", "enum": policies},
                     "minItems": 1, "maxItems": 1, "uniqueItems": True},
    }, required=["name", "policies"]))


create = [("2.1", _create(["affinity", "anti-affinity"])),
          ("2.15", _create(["affinity", "anti-affinity", "soft-affinity",
                            "soft-anti-affinity"]))]
