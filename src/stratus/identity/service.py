"""The identity service's logic: who a credential belongs to, and what a token is worth."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common.auth import Identity
from stratus.common.policy import Policy
from stratus.common.wsgi.errors import BadRequest, NotFound, Unauthorized
from stratus.identity import store
from stratus.identity.passwords import Passwords
from stratus.identity.tokens import (
    KeyRepository,
    MalformedToken,
    TokenFormatter,
    TokenPayload,
    isotime,
)

AUTH_FAILED = "The request you have made requires authentication."


@dataclass(frozen=True)
class Token:
    """A validated token with the rows it speaks for, as of validation time."""

    id: str
    payload: TokenPayload
    user: dict
    user_domain: dict
    project: dict | None
    project_domain: dict | None
    roles: list[dict]

    def identity(self) -> Identity:
        return Identity(
            user_id=self.user["id"], user_name=self.user["name"],
            user_domain_id=self.user["domain_id"],
            project_id=self.project["id"] if self.project else None,
            project_name=self.project["name"] if self.project else None,
            project_domain_id=self.project["domain_id"] if self.project else None,
            roles=tuple(role["name"] for role in self.roles),
            expires_at=isotime(self.payload.expires_at))


class IdentityService:
    """Authentication, token issue/validation/revocation over the identity database."""

    def __init__(self, conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy):
        self.conf = conf
        self.engine = engine
        self.policy = policy
        self.passwords = Passwords(conf)
        keys = KeyRepository(conf.identity.key_repository)
        keys.ensure()
        self.tokens = TokenFormatter(keys, conf.identity.token_expiration)

    # --- issuing --------------------------------------------------------------------

    def authenticate(self, auth: dict) -> Token:
        """Check the credentials in a POST /v3/auth/tokens body and issue a token."""
        identity = auth["identity"]
        methods = identity["methods"]
        with self.engine.connect() as conn:
            if "token" in methods:
                base = self.validate(identity["token"]["id"])
                user_id, expires_at = base.user["id"], base.payload.expires_at
            elif "password" in methods:
                user_id, expires_at = self._check_password(conn, identity["password"]), None
            else:
                raise Unauthorized(f"Unsupported authentication methods: {', '.join(methods)}")
            user = store.get_user(conn, user_id)
            project_id = self._scope(conn, user, auth.get("scope"))
        token_id, payload = self.tokens.issue(user_id, project_id, methods, expires_at)
        return self._load(token_id, payload)

    def _check_password(self, conn: sa.Connection, password: dict) -> str:
        wanted = password["user"]
        try:
            if "id" in wanted:
                user = store.get_user(conn, wanted["id"])
            else:
                domain = _domain_ref(conn, wanted.get("domain"))
                user = store.find_user(conn, wanted["name"], domain["id"])
        except NotFound:
            user = None
        # Hash even for unknown users, so timing does not reveal which names exist.
        ok = self.passwords.verify(user["password_hash"] if user else None, wanted["password"])
        if not ok or user is None:
            raise Unauthorized(AUTH_FAILED)
        if not user["enabled"]:
            raise Unauthorized(AUTH_FAILED)
        return user["id"]

    def _scope(self, conn: sa.Connection, user: dict, scope: dict | str | None) -> str | None:
        if scope == "unscoped":
            return None
        if scope is None:
            # Like Keystone: no scope means the default project, if the user has roles there.
            default = user["default_project_id"]
            if default and store.effective_roles(conn, user["id"], default):
                return default
            return None
        if "project" not in scope:
            raise Unauthorized("Only project scope is supported by this identity service.")
        wanted = scope["project"]
        try:
            if "id" in wanted:
                project = store.get_project(conn, wanted["id"])
            else:
                domain = _domain_ref(conn, wanted.get("domain"))
                project = store.find_project(conn, wanted["name"], domain["id"])
        except NotFound:
            raise Unauthorized(f"Could not find project: {wanted.get('id') or wanted.get('name')}"
                               ) from None
        if not project["enabled"]:
            raise Unauthorized(f"Project {project['id']} is disabled.")
        if not store.effective_roles(conn, user["id"], project["id"]):
            raise Unauthorized(f"User {user['id']} has no access to project {project['id']}.")
        return project["id"]

    # --- validating -----------------------------------------------------------------

    def validate(self, token_id: str) -> Token:
        """The token if it is genuine, unexpired, unrevoked and its subject still valid."""
        try:
            payload = self.tokens.unpack(token_id)
        except MalformedToken:
            raise Unauthorized(AUTH_FAILED) from None
        if payload.expired:
            raise Unauthorized(AUTH_FAILED)
        return self._load(token_id, payload)

    def validate_identity(self, token_id: str) -> Identity:
        """The auth middleware's entry point."""
        return self.validate(token_id).identity()

    def _load(self, token_id: str, payload: TokenPayload) -> Token:
        with self.engine.connect() as conn:
            if store.is_revoked(conn, payload.audit_id):
                raise Unauthorized(AUTH_FAILED)
            try:
                user = store.get_user(conn, payload.user_id)
                user_domain = store.get_domain(conn, user["domain_id"])
            except NotFound:
                raise Unauthorized(AUTH_FAILED) from None
            valid_after = user["tokens_valid_after"]
            if not user["enabled"] or (valid_after and payload.issued_at < valid_after):
                raise Unauthorized(AUTH_FAILED)
            project = project_domain = None
            roles: list[dict] = []
            if payload.project_id:
                try:
                    project = store.get_project(conn, payload.project_id)
                    project_domain = store.get_domain(conn, project["domain_id"])
                except NotFound:
                    raise Unauthorized(AUTH_FAILED) from None
                roles = store.effective_roles(conn, user["id"], project["id"])
                if not project["enabled"] or not roles:
                    raise Unauthorized(AUTH_FAILED)
        return Token(id=token_id, payload=payload, user=user, user_domain=user_domain,
                     project=project, project_domain=project_domain, roles=roles)

    def revoke(self, token: Token) -> None:
        with self.engine.begin() as conn:
            store.revoke_token(conn, token.payload.audit_id, token.payload.expires_at)


def _domain_ref(conn: sa.Connection, ref: dict | None) -> dict:
    """The domain a name is qualified with; names without a domain are ambiguous."""
    if not ref:
        raise BadRequest("Expecting to find domain in user or project - the server could not "
                         "comply with the request since it is either malformed or otherwise "
                         "incorrect.")
    try:
        return store.find_domain(conn, domain_id=ref.get("id"), name=ref.get("name"))
    except NotFound:
        raise Unauthorized(f"Could not find domain: {ref.get('id') or ref.get('name')}") from None
