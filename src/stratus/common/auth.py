"""Authentication for every Stratus API: one middleware, three strategies.

- ``stratus``: tokens are validated by the Stratus identity service, in-process when
  it runs in the same process, otherwise over HTTP (``[api] identity_url``), exactly
  as a service would validate against Keystone.
- ``keystone``: keystonemiddleware in front of the app validates against a real
  Keystone; this module reads the headers it sets.
- ``noauth2``: the token names the caller (``admin``, ``user``, ``user:project``);
  for test harnesses only, with OpenStack Placement's semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from oslo_config import cfg

from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import Unauthorized


@dataclass(frozen=True)
class Identity:
    """Who a valid token speaks for."""

    user_id: str
    user_name: str
    user_domain_id: str
    project_id: str | None
    project_name: str | None
    project_domain_id: str | None
    roles: tuple[str, ...]
    expires_at: str


TokenValidator = Callable[[str], Identity]


def context_from_identity(identity: Identity, token: str, request_id: str) -> RequestContext:
    return RequestContext(
        auth_token=token, user_id=identity.user_id, user_name=identity.user_name,
        user_domain_id=identity.user_domain_id, project_id=identity.project_id,
        project_name=identity.project_name, project_domain_id=identity.project_domain_id,
        roles=list(identity.roles), is_admin="admin" in identity.roles,
        request_id=request_id, expires_at=identity.expires_at, overwrite=True)


def token_authenticator(validate: TokenValidator):
    """An authenticator that validates ``X-Auth-Token`` with ``validate``."""

    def authenticate(req) -> RequestContext:
        token = req.get_header("X-Auth-Token")
        if not token:
            raise Unauthorized("The request you have made requires authentication.",
                               headers=_challenge(req))
        identity = validate(token)
        return context_from_identity(identity, token, req.request_id)

    return authenticate


def keystonemiddleware_authenticator():
    """Reads the headers keystonemiddleware (delay_auth_decision) leaves on the request."""

    def authenticate(req) -> RequestContext:
        if req.get_header("X-Identity-Status") != "Confirmed":
            raise Unauthorized(headers=_challenge(req))
        roles = [r.strip() for r in (req.get_header("X-Roles") or "").split(",") if r.strip()]
        return RequestContext(
            auth_token=req.get_header("X-Auth-Token"), user_id=req.get_header("X-User-Id"),
            user_name=req.get_header("X-User-Name"),
            user_domain_id=req.get_header("X-User-Domain-Id"),
            project_id=req.get_header("X-Project-Id"),
            project_name=req.get_header("X-Project-Name"),
            project_domain_id=req.get_header("X-Project-Domain-Id"),
            roles=roles, is_admin="admin" in roles, request_id=req.request_id,
            overwrite=True)

    return authenticate


def noauth2_authenticator():
    """``X-Auth-Token: admin`` is an admin; ``user`` has no roles; ``user:project``."""

    def authenticate(req) -> RequestContext:
        token = req.get_header("X-Auth-Token")
        if not token:
            raise Unauthorized(headers=_challenge(req))
        user_id, _, project_id = token.partition(":")
        roles = [r.strip() for r in (req.get_header("X-Roles") or "").split(",") if r.strip()]
        if user_id == "admin" and "admin" not in roles:
            roles.append("admin")
        return RequestContext(auth_token=token, user_id=user_id,
                              project_id=project_id or user_id, roles=roles,
                              is_admin="admin" in roles, request_id=req.request_id,
                              overwrite=True)

    return authenticate


def _challenge(req) -> dict[str, str]:
    return {"WWW-Authenticate": f'Keystone uri="{req.prefix}"'}


def authenticator_for(conf: cfg.ConfigOpts, local_validator: TokenValidator | None):
    """The authenticator ``[api] auth_strategy`` asks for in this process."""
    strategy = conf.api.auth_strategy
    if strategy == "noauth2":
        return noauth2_authenticator()
    if strategy == "keystone":
        return keystonemiddleware_authenticator()
    if local_validator is not None:
        return token_authenticator(local_validator)
    if not conf.api.identity_url:
        raise RuntimeError("[api] identity_url must be set when the identity service "
                           "does not run in this process")
    from stratus.common.identity_client import HttpTokenValidator

    return token_authenticator(HttpTokenValidator(conf.api.identity_url))


def wrap_keystonemiddleware(app, conf: cfg.ConfigOpts):
    """Put keystonemiddleware in front of ``app`` when ``auth_strategy = keystone``."""
    if conf.api.auth_strategy != "keystone":
        return app
    from keystonemiddleware import auth_token

    return auth_token.AuthProtocol(app, {"oslo_config_config": conf,
                                         "delay_auth_decision": True})
