"""The per-request context: who is calling, for which project, with which roles."""

from __future__ import annotations

from oslo_context import context as oslo_context


class RequestContext(oslo_context.RequestContext):
    """oslo.context's context, so oslo.log prints the request id, user and project."""

    def __init__(self, *, expires_at: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.expires_at = expires_at

    def to_policy_values(self) -> dict:
        values = super().to_policy_values()
        values["roles"] = list(self.roles)
        return values
