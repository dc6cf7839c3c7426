"""/v3/projects and /v3/domains."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.identity import schemas, store, views
from stratus.identity.handlers import authorize, flag, service


def list_projects(req: Request, resp) -> None:
    authorize(req)
    filters = {"name": req.get_param("name"), "domain_id": req.get_param("domain_id"),
               "enabled": flag(req, "enabled")}
    with service(req).engine.connect() as conn:
        rows = store.list_projects(conn, **filters)
    send(resp, views.collection(req.prefix, "projects", "projects",
                                [views.project(req.prefix, r) for r in rows]))


def create_project(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, schemas.project_create)["project"]
    with service(req).engine.begin() as conn:
        row = store.create_project(
            conn, name=body["name"],
            domain_id=body.get("domain_id") or req.auth.project_domain_id or
            store.DEFAULT_DOMAIN_ID,
            description=body.get("description") or "", enabled=body.get("enabled", True))
    send(resp, {"project": views.project(req.prefix, row)}, status=201)


def show_project(req: Request, resp, project_id: str) -> None:
    with service(req).engine.connect() as conn:
        row = store.get_project(conn, project_id)
    authorize(req, {"project": {"id": project_id}})
    send(resp, {"project": views.project(req.prefix, row)})


def update_project(req: Request, resp, project_id: str) -> None:
    authorize(req)
    body = json_body(req, schemas.project_update)["project"]
    changes = {k: body[k] for k in ("name", "description", "enabled") if k in body}
    with service(req).engine.begin() as conn:
        row = store.update_project(conn, project_id, changes)
    send(resp, {"project": views.project(req.prefix, row)})


def delete_project(req: Request, resp, project_id: str) -> None:
    authorize(req)
    with service(req).engine.begin() as conn:
        store.delete_project(conn, project_id)
    send(resp, status=204)


def list_domains(req: Request, resp) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        rows = store.list_domains(conn, name=req.get_param("name"),
                                  enabled=flag(req, "enabled"))
    send(resp, views.collection(req.prefix, "domains", "domains",
                                [views.domain(req.prefix, r) for r in rows]))


def show_domain(req: Request, resp, domain_id: str) -> None:
    authorize(req, {"domain": {"id": domain_id}})
    with service(req).engine.connect() as conn:
        row = store.get_domain(conn, domain_id)
    send(resp, {"domain": views.domain(req.prefix, row)})
