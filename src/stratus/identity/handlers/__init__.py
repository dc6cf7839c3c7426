"""Identity API handlers: parse and validate, check policy, call the data layer, render."""

from __future__ import annotations

from stratus.common.wsgi.app import Request
from stratus.identity.service import IdentityService


def service(req: Request) -> IdentityService:
    return req.service


def authorize(req: Request, target: dict | None = None) -> None:
    """Check the rule the route table names for this request's method against ``target``."""
    req.service.policy.authorize(req.auth, req.route.rules[req.method], target or {})


def flag(req: Request, name: str) -> bool | None:
    """A boolean query filter (?enabled=true); absent means no filter."""
    value = req.get_param(name)
    if value is None:
        return None
    return value.lower() not in ("0", "false", "no", "off")
