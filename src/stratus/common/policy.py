"""Policy enforcement: rules registered in code, an operator's file holds overrides only."""

from __future__ import annotations

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from stratus import policies
from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import Forbidden


class Policy:
    """One oslo.policy enforcer over every Stratus rule."""

    def __init__(self, conf: cfg.ConfigOpts):
        self._enforcer = oslo_policy.Enforcer(conf)
        self._enforcer.register_defaults(policies.list_rules())

    def authorize(self, context: RequestContext, rule: str, target: dict | None = None) -> None:
        """Raise Forbidden unless ``context`` may perform ``rule`` on ``target``."""
        target = target if target is not None else {"project_id": context.project_id,
                                                    "user_id": context.user_id}
        # An unregistered rule raises PolicyNotRegistered: every action has a rule in code.
        allowed = self._enforcer.authorize(rule, flatten_target(target), context,
                                           do_raise=False)
        if not allowed:
            raise Forbidden(f"You are not authorized to perform the requested action: {rule}.")

    def allows(self, context: RequestContext, rule: str, target: dict | None = None) -> bool:
        try:
            self.authorize(context, rule, target)
        except Forbidden:
            return False
        return True


def flatten_target(target: dict) -> dict:
    """Nested targets also appear as ``target.a.b`` keys, the form Keystone-style rules use.

    oslo.policy substitutes ``%(target.token.user_id)s`` from a flat key, so
    ``{"token": {"user_id": "u"}}`` also yields ``{"target.token.user_id": "u"}``.
    """
    flat = dict(target)

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        else:
            flat[prefix] = value

    for key, value in target.items():
        if isinstance(value, dict):
            walk(f"target.{key}", value)
    return flat
