"""Validating tokens against an identity endpoint over HTTP, as any Keystone client would."""

from __future__ import annotations

from keystoneauth1 import session as ks_session

from stratus.common.auth import Identity
from stratus.common.wsgi.errors import ServiceUnavailable, Unauthorized


class HttpTokenValidator:
    """Validates a token by ``GET /v3/auth/tokens`` on a Keystone-compatible endpoint.

    The token validates itself (Keystone allows a token to read its own details), so a
    separate service process needs no credentials of its own.
    """

    def __init__(self, identity_url: str):
        self._url = identity_url.rstrip("/") + "/v3/auth/tokens?nocatalog"
        self._session = ks_session.Session()

    def __call__(self, token: str) -> Identity:
        resp = self._session.get(self._url, raise_exc=False, authenticated=False,
                                 headers={"X-Auth-Token": token, "X-Subject-Token": token})
        if resp.status_code in (401, 403, 404):
            raise Unauthorized("The request you have made requires authentication.")
        if resp.status_code != 200:
            raise ServiceUnavailable(f"Identity service answered {resp.status_code} "
                                     "while validating a token.")
        body = resp.json()["token"]
        user, project = body["user"], body.get("project")
        return Identity(
            user_id=user["id"], user_name=user["name"], user_domain_id=user["domain"]["id"],
            project_id=project["id"] if project else None,
            project_name=project["name"] if project else None,
            project_domain_id=project["domain"]["id"] if project else None,
            roles=tuple(role["name"] for role in body.get("roles", [])),
            expires_at=body["expires_at"])
