"""Compute API handlers: parse and validate, check policy, call the store, render a view."""

from __future__ import annotations

from stratus.common.wsgi.app import Request
from stratus.common.wsgi.errors import BadRequest
from stratus.compute_api.service import ComputeService


def service(req: Request) -> ComputeService:
    return req.service


def authorize(req: Request, target: dict | None = None, *, action: str | None = None,
              check: str | None = None) -> None:
    """Check the route's rule for this method against ``target``.

    ``action`` picks the rule of a body-keyed action (``addTenantAccess``), ``check`` a
    further rule the route declares for a variant of the call (``all_tenants``); both are
    read from the route table (``Route.actions`` / ``Route.checks``). The default target
    is the caller's own project, as Nova's is.
    """
    rule = req.route.rule_for(req.method, action=action, check=check)
    req.service.policy.authorize(req.auth, rule, target)


def allowed(req: Request, target: dict | None = None, *, action: str | None = None,
            check: str | None = None) -> bool:
    """Whether the route's rule (or its ``action``'s, or a further ``check``) allows
    ``target``."""
    rule = req.route.rule_for(req.method, action=action, check=check)
    return req.service.policy.allows(req.auth, rule, target)


def want(req: Request, version: str) -> bool:
    """True when the request's microversion is at least ``version``."""
    major, minor = version.split(".")
    return req.version.matches((int(major), int(minor)))


def int_param(req: Request, name: str, *, minimum: int = 0) -> int | None:
    """A non-negative integer query parameter; 400 in Nova's words when it is not one."""
    value = req.get_param(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} param must be an integer") from None
    if number < minimum:
        raise BadRequest(f"{name} param must be positive" if minimum else
                         f"{name} param must be non-negative")
    return number


def bool_param(req: Request, name: str) -> bool | None:
    value = req.get_param(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("1", "t", "true", "on", "y", "yes"):
        return True
    if lowered in ("0", "f", "false", "off", "n", "no"):
        return False
    raise BadRequest(f"Invalid value '{value}' for {name}: it must be a boolean.")


def paging(req: Request) -> tuple[int, str | None]:
    """(limit, marker) of a paged list; limit capped at max_limit."""
    limit = int_param(req, "limit")
    cap = service(req).max_limit
    return (cap if limit is None else min(limit, cap)), req.get_param("marker")

