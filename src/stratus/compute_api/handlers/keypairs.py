"""/os-keypairs: a user's key pairs, imported or generated."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Conflict, Forbidden, NotFound
from stratus.compute_api import keypair_crypto, quota_usage
from stratus.compute_api.handlers import authorize, int_param, service, want
from stratus.compute_api.schemas import for_version
from stratus.compute_api.schemas import keypairs as schemas
from stratus.compute_api.store import Duplicate, NoSuchRow, quotas
from stratus.compute_api.store import keypairs as store
from stratus.compute_api.views import keypairs as views
from stratus.compute_api.views import paged


def _owner(req: Request, requested: str | None) -> str:
    """The user whose key pairs this request is about (another user's only from 2.10)."""
    user_id = requested if requested and want(req, "2.10") else req.auth.user_id
    authorize(req, {"user_id": user_id, "project_id": req.auth.project_id})
    return user_id


TOO_MANY = "Quota exceeded, too many key pairs."


def _not_found(name: str, user_id: str) -> NotFound:
    return NotFound(f"Keypair {name} not found for user {user_id}")


def create_keypair(req: Request, resp) -> None:
    body = json_body(req, for_version(schemas.create, req.version))["keypair"]
    user_id = _owner(req, body.get("user_id"))
    key_type = body.get("type", "ssh")
    private_key = None
    public_key = body.get("public_key")
    if public_key is None:
        private_key, public_key = keypair_crypto.generate(key_type, body["name"])
    try:
        fingerprint = keypair_crypto.fingerprint(public_key, key_type)
    except keypair_crypto.InvalidKey:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    engine = service(req).api_engine
    # Reads and writes in separate transactions: on SQLite a transaction that reads and then
    # writes fails at once (not after the busy timeout) when another writer went first.
    with engine.connect() as conn:
        limit = quotas.user_limits(conn, req.auth.project_id, user_id)["key_pairs"]
        quota_usage.check_count(store.count(conn, user_id), 1, limit, TOO_MANY)
    with engine.begin() as conn:
        try:
            row = store.create(conn, user_id=user_id, name=body["name"],
                               public_key=public_key, fingerprint=fingerprint,
                               key_type=key_type)
        except Duplicate:
            raise Conflict(f"Key pair '{body['name']}' already exists.") from None
    # Nova's recheck after commit: of creates racing past the check, none stays over quota.
    with engine.connect() as conn:
        over = 0 <= limit < store.count(conn, user_id)
    if over:
        with engine.begin() as conn:
            store.delete(conn, user_id, body["name"])
        raise Forbidden(TOO_MANY)
    send(resp, views.created(row, req.version, private_key),
         status=201 if want(req, "2.2") else 200)


def list_keypairs(req: Request, resp) -> None:
    user_id = _owner(req, req.get_param("user_id"))
    limit = marker = None
    if want(req, "2.35"):
        limit = int_param(req, "limit")
        marker = req.get_param("marker")
    with service(req).api_engine.connect() as conn:
        try:
            rows = store.list_keypairs(conn, user_id, limit=limit, marker=marker)
        except NoSuchRow:
            raise BadRequest(f"marker [{marker}] not found") from None
    send(resp, paged("keypairs", [views.summary(row, req.version) for row in rows],
                     base=req.prefix, path="os-keypairs", params=req.params, limit=limit,
                     marker_of=lambda item: item["keypair"]["name"]))


def show_keypair(req: Request, resp, name: str) -> None:
    user_id = _owner(req, req.get_param("user_id"))
    with service(req).api_engine.connect() as conn:
        try:
            row = store.get(conn, user_id, name)
        except NoSuchRow:
            raise _not_found(name, user_id) from None
    send(resp, views.detail(row, req.version))


def delete_keypair(req: Request, resp, name: str) -> None:
    user_id = _owner(req, req.get_param("user_id"))
    with service(req).api_engine.begin() as conn:
        try:
            store.delete(conn, user_id, name)
        except NoSuchRow:
            raise _not_found(name, user_id) from None
    send(resp, status=204 if want(req, "2.2") else 202)
