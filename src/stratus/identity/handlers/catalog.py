"""/v3/services, /v3/endpoints and /v3/regions."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.identity import catalog, schemas, views
from stratus.identity.handlers import authorize, service


def list_services(req: Request, resp) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        rows = catalog.list_services(conn, type=req.get_param("type"),
                                     name=req.get_param("name"))
    send(resp, views.collection(req.prefix, "services", "services",
                                [views.service(req.prefix, r) for r in rows]))


def create_service(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, schemas.service_create)["service"]
    with service(req).engine.begin() as conn:
        row = catalog.create_service(conn, type=body["type"], name=body.get("name"),
                                     description=body.get("description"),
                                     enabled=body.get("enabled", True))
    send(resp, {"service": views.service(req.prefix, row)}, status=201)


def show_service(req: Request, resp, service_id: str) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        row = catalog.get_service(conn, service_id)
    send(resp, {"service": views.service(req.prefix, row)})


def delete_service(req: Request, resp, service_id: str) -> None:
    authorize(req)
    with service(req).engine.begin() as conn:
        catalog.delete_service(conn, service_id)
    send(resp, status=204)


def list_endpoints(req: Request, resp) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        rows = catalog.list_endpoints(conn, service_id=req.get_param("service_id"),
                                      interface=req.get_param("interface"),
                                      region_id=req.get_param("region_id"))
    send(resp, views.collection(req.prefix, "endpoints", "endpoints",
                                [views.endpoint(req.prefix, r) for r in rows]))


def create_endpoint(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, schemas.endpoint_create)["endpoint"]
    with service(req).engine.begin() as conn:
        row = catalog.create_endpoint(conn, service_id=body["service_id"],
                                      interface=body["interface"], url=body["url"],
                                      region_id=body.get("region_id") or body.get("region"),
                                      enabled=body.get("enabled", True))
    send(resp, {"endpoint": views.endpoint(req.prefix, row)}, status=201)


def show_endpoint(req: Request, resp, endpoint_id: str) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        row = catalog.get_endpoint(conn, endpoint_id)
    send(resp, {"endpoint": views.endpoint(req.prefix, row)})


def delete_endpoint(req: Request, resp, endpoint_id: str) -> None:
    authorize(req)
    with service(req).engine.begin() as conn:
        catalog.delete_endpoint(conn, endpoint_id)
    send(resp, status=204)


def list_regions(req: Request, resp) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        rows = catalog.list_regions(conn)
    send(resp, views.collection(req.prefix, "regions", "regions",
                                [views.region(req.prefix, r) for r in rows]))


def show_region(req: Request, resp, region_id: str) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        row = catalog.get_region(conn, region_id)
    send(resp, {"region": views.region(req.prefix, row)})
