"""/v3/users: accounts, their passwords and the projects they can use."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Unauthorized
from stratus.identity import schemas, store, views
from stratus.identity.handlers import authorize, flag, service


def _check_length(req: Request, password: str | None) -> None:
    limit = service(req).conf.identity.max_password_length
    if password is not None and len(password.encode()) > limit:
        raise BadRequest(f"Invalid input for field 'password': the password is longer than "
                         f"{limit} bytes.")


def list_users(req: Request, resp) -> None:
    authorize(req)
    filters = {"name": req.get_param("name"), "domain_id": req.get_param("domain_id"),
               "enabled": flag(req, "enabled")}
    with service(req).engine.connect() as conn:
        rows = store.list_users(conn, **filters)
    send(resp, views.collection(req.prefix, "users", "users",
                                [views.user(req.prefix, r) for r in rows]))


def create_user(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, schemas.user_create)["user"]
    _check_length(req, body.get("password"))
    svc = service(req)
    password_hash = svc.passwords.hash(body["password"]) if body.get("password") else None
    with svc.engine.begin() as conn:
        if body.get("default_project_id"):
            store.get_project(conn, body["default_project_id"])
        row = store.create_user(
            conn, name=body["name"], password_hash=password_hash,
            domain_id=body.get("domain_id") or req.auth.project_domain_id or
            store.DEFAULT_DOMAIN_ID,
            enabled=body.get("enabled", True), default_project_id=body.get("default_project_id"),
            email=body.get("email"), description=body.get("description"))
    send(resp, {"user": views.user(req.prefix, row)}, status=201)


def show_user(req: Request, resp, user_id: str) -> None:
    authorize(req, {"user": {"id": user_id}})
    with service(req).engine.connect() as conn:
        row = store.get_user(conn, user_id)
    send(resp, {"user": views.user(req.prefix, row)})


def update_user(req: Request, resp, user_id: str) -> None:
    authorize(req)
    body = json_body(req, schemas.user_update)["user"]
    _check_length(req, body.get("password"))
    svc = service(req)
    changes = {k: body[k] for k in ("name", "enabled", "default_project_id", "email",
                                    "description") if k in body}
    if "password" in body:
        changes["password_hash"] = svc.passwords.hash(body["password"]) \
            if body["password"] else None
    with svc.engine.begin() as conn:
        row = store.update_user(conn, user_id, changes)
    send(resp, {"user": views.user(req.prefix, row)})


def delete_user(req: Request, resp, user_id: str) -> None:
    authorize(req)
    with service(req).engine.begin() as conn:
        store.delete_user(conn, user_id)
    send(resp, status=204)


def change_password(req: Request, resp, user_id: str) -> None:
    """A user changes their own password; every earlier token stops working."""
    authorize(req, {"user": {"id": user_id}})
    body = json_body(req, schemas.password_change)["user"]
    _check_length(req, body["password"])
    svc = service(req)
    with svc.engine.connect() as conn:
        row = store.get_user(conn, user_id)
    if not svc.passwords.verify(row["password_hash"], body["original_password"]):
        raise Unauthorized("The request you have made requires authentication.")
    new_hash = svc.passwords.hash(body["password"])
    with svc.engine.begin() as conn:
        store.update_user(conn, user_id, {"password_hash": new_hash})
    send(resp, status=204)


def list_user_projects(req: Request, resp, user_id: str) -> None:
    authorize(req, {"user": {"id": user_id}})
    with service(req).engine.connect() as conn:
        store.get_user(conn, user_id)
        rows = store.projects_for_user(conn, user_id)
    send(resp, views.collection(req.prefix, f"users/{user_id}/projects", "projects",
                                [views.project(req.prefix, r) for r in rows]))
