"""/v3/roles, project role grants and /v3/role_assignments."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import NotFound
from stratus.identity import schemas, store, views
from stratus.identity.handlers import authorize, service


def list_roles(req: Request, resp) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        rows = store.list_roles(conn, name=req.get_param("name"))
    send(resp, views.collection(req.prefix, "roles", "roles",
                                [views.role(req.prefix, r) for r in rows]))


def create_role(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, schemas.role_create)["role"]
    with service(req).engine.begin() as conn:
        row = store.create_role(conn, body["name"], body.get("description"))
    send(resp, {"role": views.role(req.prefix, row)}, status=201)


def show_role(req: Request, resp, role_id: str) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        row = store.get_role(conn, role_id)
    send(resp, {"role": views.role(req.prefix, row)})


def update_role(req: Request, resp, role_id: str) -> None:
    authorize(req)
    body = json_body(req, schemas.role_update)["role"]
    changes = {k: body[k] for k in ("name", "description") if k in body}
    with service(req).engine.begin() as conn:
        row = store.update_role(conn, role_id, changes)
    send(resp, {"role": views.role(req.prefix, row)})


def delete_role(req: Request, resp, role_id: str) -> None:
    authorize(req)
    with service(req).engine.begin() as conn:
        store.delete_role(conn, role_id)
    send(resp, status=204)


def grant(req: Request, resp, project_id: str, user_id: str, role_id: str) -> None:
    authorize(req)
    with service(req).engine.begin() as conn:
        store.grant(conn, user_id, project_id, role_id)
    send(resp, status=204)


def check_grant(req: Request, resp, project_id: str, user_id: str, role_id: str) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        store.get_user(conn, user_id)
        store.get_project(conn, project_id)
        store.get_role(conn, role_id)
        if not store.has_grant(conn, user_id, project_id, role_id):
            raise NotFound(f"Could not find role assignment with role: {role_id}, user or "
                           f"group: {user_id}, project, domain, or system: {project_id}.")
    send(resp, status=204)


def revoke_grant(req: Request, resp, project_id: str, user_id: str, role_id: str) -> None:
    authorize(req)
    with service(req).engine.begin() as conn:
        store.revoke_grant(conn, user_id, project_id, role_id)
    send(resp, status=204)


def list_grants(req: Request, resp, project_id: str, user_id: str) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        store.get_user(conn, user_id)
        store.get_project(conn, project_id)
        rows = store.list_grants(conn, user_id, project_id)
    send(resp, views.collection(req.prefix, f"projects/{project_id}/users/{user_id}/roles",
                                "roles", [views.role(req.prefix, r) for r in rows]))


def list_role_assignments(req: Request, resp) -> None:
    """Direct assignments; ?effective adds the roles they imply."""
    authorize(req)
    include_names = req.get_param("include_names") is not None
    with service(req).engine.connect() as conn:
        rows = store.list_assignments(conn, user_id=req.get_param("user.id"),
                                      project_id=req.get_param("scope.project.id"))
        if req.get_param("effective") is not None:
            rows = _with_implied(conn, rows)
    role_id = req.get_param("role.id")
    if role_id is not None:
        rows = [r for r in rows if r["role_id"] == role_id]
    send(resp, views.collection(req.prefix, "role_assignments", "role_assignments",
                                [views.role_assignment(req.prefix, r, include_names)
                                 for r in rows]))


def _with_implied(conn, rows: list[dict]) -> list[dict]:
    names = {r["id"]: r["name"] for r in store.list_roles(conn)}
    result, seen = [], set()
    for row in rows:
        for role_id in sorted(store.implication_closure(conn, {row["role_id"]})):
            key = (row["user_id"], row["project_id"], role_id)
            if key not in seen:
                seen.add(key)
                result.append(dict(row, role_id=role_id, role_name=names[role_id]))
    return result
