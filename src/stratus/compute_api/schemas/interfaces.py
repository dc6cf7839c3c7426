"""Request body of POST /servers/{id}/os-interface (Nova's attach_interfaces.create)."""

from __future__ import annotations

from stratus.common.wsgi.body import Schema
from stratus.compute_api.schemas import UUID

_IP = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}

create = Schema({
    "type": "object",
    "properties": {"interfaceAttachment": {
        "type": "object",
        "properties": {
            "net_id": UUID, "port_id": UUID,
            "fixed_ips": {"type": "array", "minItems": 1, "maxItems": 1,
                          "items": {"type": "object", "properties": {"ip_address": _IP},
                                    "required": ["ip_address"],
                                    "additionalProperties": False}}},
        "additionalProperties": False}},
    "additionalProperties": False})
