"""/v3/auth: issue, validate, check and revoke tokens; what the caller may scope to."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, NotFound, Unauthorized
from stratus.identity import catalog, schemas, store, views
from stratus.identity.handlers import authorize, service


def issue_token(req: Request, resp) -> None:
    body = json_body(req, schemas.auth)["auth"]
    identity = body["identity"]
    for method in identity["methods"]:
        if method not in identity:
            raise BadRequest(f"Invalid input for field 'identity': '{method}' is a required "
                             "property")
    token = service(req).authenticate(body)
    send(resp, views.token(token, _catalog(req)), status=201,
         headers={"X-Subject-Token": token.id})


def _catalog(req: Request) -> list[dict] | None:
    if req.get_param("nocatalog") is not None:
        return None
    with service(req).engine.connect() as conn:
        return catalog.token_catalog(conn)


def _subject(req: Request):
    subject = req.get_header("X-Subject-Token")
    if not subject:
        raise BadRequest("The X-Subject-Token header is required.")
    svc = service(req)
    try:
        token = svc.validate(subject)
    except Unauthorized:
        authorize(req, {"token": {"user_id": None}})
        raise NotFound(f"Could not find token: {subject[:12]}...") from None
    authorize(req, {"token": {"user_id": token.user["id"]}})
    return token


def validate_token(req: Request, resp) -> None:
    token = _subject(req)
    send(resp, views.token(token, _catalog(req)), headers={"X-Subject-Token": token.id})


def check_token(req: Request, resp) -> None:
    _subject(req)
    send(resp, status=200)


def revoke_token(req: Request, resp) -> None:
    token = _subject(req)
    service(req).revoke(token)
    send(resp, status=204)


def auth_projects(req: Request, resp) -> None:
    """Projects the caller can scope a token to: any authenticated caller, for itself."""
    authorize(req)
    with service(req).engine.connect() as conn:
        rows = [p for p in store.projects_for_user(conn, req.auth.user_id) if p["enabled"]]
    send(resp, views.collection(req.prefix, "auth/projects", "projects",
                                [views.project(req.prefix, p) for p in rows]))


def auth_domains(req: Request, resp) -> None:
    """Domain-scoped tokens are not offered, so no domain is listed."""
    authorize(req)
    send(resp, views.collection(req.prefix, "auth/domains", "domains", []))


def auth_catalog(req: Request, resp) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        entries = catalog.token_catalog(conn)
    send(resp, {"catalog": entries, "links": {"self": f"{req.prefix}/v3/auth/catalog",
                                              "previous": None, "next": None}})
