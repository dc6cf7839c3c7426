"""/resource_classes and /resource_classes/{name} (from 1.2; PUT creates from 1.7)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import Conflict
from stratus.placement import resource_classes, schemas, views
from stratus.placement.handlers import authorize, json_body, reading, require_json, service, want


def list_classes(req: Request, resp) -> None:
    with reading(req) as conn:
        rows = resource_classes.list_all(conn)
    send(resp, {"resource_classes": [views.resource_class(req, r) for r in rows]})
    views.cache_headers(req, resp, views.newest(*(r.updated_at for r in rows)))


def create_class(req: Request, resp) -> None:
    require_json(req)
    authorize(req)
    name = json_body(req, schemas.RESOURCE_CLASS)["name"]
    with service(req).write() as conn:
        if not resource_classes.create(conn, name):
            raise Conflict(f"Conflicting resource class already exists: {name}")
    resp.set_header("Location", views.absolute(req, f"{req.root_path}/resource_classes/{name}"))
    send(resp, status=201)


def show_class(req: Request, resp, name: str) -> None:
    with reading(req) as conn:
        row = resource_classes.get(conn, name)
    send(resp, views.resource_class(req, row))
    views.cache_headers(req, resp, row.updated_at)


def update_class(req: Request, resp, name: str) -> None:
    """1.2-1.6: rename a custom class. 1.7 on: create it if missing (idempotent)."""
    authorize(req)
    if not want(req, (1, 7)):
        require_json(req)
        new_name = json_body(req, schemas.RESOURCE_CLASS)["name"]
        with service(req).write() as conn:
            row = resource_classes.rename(conn, name, new_name)
        send(resp, views.resource_class(req, row))
        return
    schemas.RESOURCE_CLASS.validate({"name": name})
    with service(req).write() as conn:
        created = resource_classes.create(conn, name)
    resp.set_header("Location", views.absolute(req, f"{req.root_path}/resource_classes/{name}"))
    send(resp, status=201 if created else 204)


def delete_class(req: Request, resp, name: str) -> None:
    authorize(req)
    with service(req).write() as conn:
        resource_classes.delete(conn, name)
    send(resp, status=204)
