"""Attribute maps: what each Neutron resource accepts on create and update, as data.

An :class:`Attribute` says whether clients may set it (``post``/``put``), its default,
how a value is checked and converted, which table column holds it, and the policy check
(``Route.checks`` name) that guards setting it. Unknown attributes are a 400, as in
Neutron.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stratus.netsvc.errors import bad_request, invalid_input

REQUIRED = object()
UNSET = object()


@dataclass(frozen=True)
class Attribute:
    name: str
    column: str | None = None  # the table column; None when computed or stored elsewhere
    default: Any = UNSET  # UNSET: not given means not stored by the generic path
    post: bool = True
    put: bool = True
    convert: Callable[[str, Any], Any] | None = None
    check: str | None = None  # the route check guarding a client-set value
    filter: Callable[[str], Any] | None = None  # converts a query value for SQL filtering


def parse_body(attributes: dict[str, Attribute], singular: str, body: Any, *,
               creating: bool) -> dict[str, Any]:
    """The resource's values from ``{singular: {...}}``, converted; defaults on create."""
    if not isinstance(body, dict) or not isinstance(body.get(singular), dict):
        raise bad_request(f"Resource body required with key '{singular}'"
                          if not isinstance(body, dict) or singular not in body
                          else f"Invalid format: {body.get(singular)}")
    data = body[singular]
    unknown = sorted(k for k in data if k not in attributes)
    if unknown:
        raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    values: dict[str, Any] = {}
    for name, value in data.items():
        attr = attributes[name]
        allowed = attr.post if creating else attr.put
        if not allowed:
            raise bad_request(f"Attribute '{name}' not allowed in "
                              f"{'POST' if creating else 'PUT'}")
        values[name] = attr.convert(name, value) if attr.convert else value
    if creating:
        for name, attr in attributes.items():
            if name in values or not attr.post:
                continue
            if attr.default is REQUIRED:
                raise bad_request(f"Failed to parse request. Required attribute '{name}' "
                                  "not specified")
            if attr.default is not UNSET:
                values[name] = attr.default() if callable(attr.default) else attr.default
    return values


# --- converters: (attribute name, value) -> value, or InvalidInput ------------------------

def to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise invalid_input(f"'{value}' cannot be converted to boolean")


def to_str(name: str, value: Any, max_len: int = 255) -> str:
    if not isinstance(value, str):
        raise invalid_input(f"'{value}' is not a valid string")
    if len(value) > max_len:
        raise invalid_input(f"'{value}' exceeds maximum length of {max_len}")
    return value


def to_str_or_none(name: str, value: Any) -> str | None:
    return None if value is None else to_str(name, value)


def to_uuid(name: str, value: Any) -> str:
    try:
        return str(uuid.UUID(str(value))) if isinstance(value, str) else _raise()
    except ValueError:
        raise invalid_input(f"'{value}' is not a valid UUID") from None


def to_uuid_or_none(name: str, value: Any) -> str | None:
    return None if value is None else to_uuid(name, value)


def _raise():
    raise ValueError


def to_int_range(low: int, high: int) -> Callable[[str, Any], int]:
    def convert(name: str, value: Any) -> int:
        try:
            number = int(value) if not isinstance(value, bool) else _raise()
        except (TypeError, ValueError):
            raise invalid_input(f"'{value}' is not an integer") from None
        if not low <= number <= high:
            raise invalid_input(f"'{number}' is not in range {low} through {high}")
        return number
    return convert


def to_int_or_none(low: int, high: int) -> Callable[[str, Any], int | None]:
    convert = to_int_range(low, high)
    return lambda name, value: None if value is None else convert(name, value)


def to_ip_version(name: str, value: Any) -> int:
    number = to_int_range(4, 6)(name, value)
    if number not in (4, 6):
        raise invalid_input(f"'{value}' is not in [4, 6]")
    return number


def to_ip(name: str, value: Any) -> str:
    try:
        return str(ipaddress.ip_address(value)) if isinstance(value, str) else _raise()
    except ValueError:
        raise invalid_input(f"'{value}' is not a valid IP address") from None


def to_ip_or_none(name: str, value: Any) -> str | None:
    return None if value is None else to_ip(name, value)


def to_cidr(name: str, value: Any) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False)) if isinstance(value, str) \
            else _raise()
    except ValueError:
        raise invalid_input(f"'{value}' is not a valid IP subnet") from None


def to_cidr_list(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise invalid_input(f"'{value}' is not a list")
    return [to_cidr(name, item) for item in value]


def to_ip_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_input(f"'{value}' is not a list")
    found = [to_ip(name, item) for item in value]
    if len(set(found)) != len(found):
        raise invalid_input(f"Duplicate nameserver '{value}'")
    return found


def to_host_routes(name: str, value: Any) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
            isinstance(r, dict) and set(r) == {"destination", "nexthop"} for r in value):
        raise invalid_input(f"Invalid data format for hostroute: '{value}'")
    return [{"destination": to_cidr(name, r["destination"]),
             "nexthop": to_ip(name, r["nexthop"])} for r in value]


def to_pools(name: str, value: Any) -> list[dict]:
    if not isinstance(value, list) or not all(
            isinstance(p, dict) and set(p) == {"start", "end"} for p in value):
        raise invalid_input(f"Invalid data format for IP pool: '{value}'")
    return [{"start": to_ip(name, p["start"]), "end": to_ip(name, p["end"])} for p in value]


def to_dict(name: str, value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_input(f"'{value}' is not a dictionary")
    return value


def to_uuid_list(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise invalid_input(f"'{value}' is not a list")
    return list(dict.fromkeys(to_uuid(name, item) for item in value))


def to_mac(name: str, value: Any) -> str:
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 6 or not all(len(p) == 2 and _is_hex(p) for p in parts):
        raise invalid_input(f"'{value}' is not a valid MAC address")
    mac = value.lower()
    if int(parts[0], 16) & 1 or mac == "00:00:00:00:00:00":
        raise invalid_input(f"'{value}' is not a valid MAC address")
    return mac


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def to_fixed_ips(name: str, value: Any) -> list[dict]:
    if not isinstance(value, list):
        raise invalid_input(f"Invalid data format for fixed IP: '{value}'")
    result = []
    for item in value:
        if not isinstance(item, dict) or not set(item) <= {"ip_address", "subnet_id"} \
                or not item:
            raise invalid_input(f"Invalid data format for fixed IP: '{item}'")
        entry = {}
        if "subnet_id" in item:
            entry["subnet_id"] = to_uuid(name, item["subnet_id"])
        if "ip_address" in item:
            entry["ip_address"] = to_ip(name, item["ip_address"])
        result.append(entry)
    return result


def choice(*allowed) -> Callable[[str, Any], Any]:
    def convert(name: str, value: Any) -> Any:
        if value not in allowed:
            raise invalid_input(f"'{value}' is not in {list(allowed)}")
        return value
    return convert


# Query-string filter converters (a query value is always a string).
def bool_filter(value: str) -> bool:
    return value.lower() in ("true", "1")


def int_filter(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None
