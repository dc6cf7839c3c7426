"""/resource_providers and /resource_providers/{uuid}."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.placement import providers, schemas, views
from stratus.placement.handlers import (
    authorize,
    check_accept,
    json_body,
    provider_filter,
    provider_first,
    query,
    reading,
    require_json,
    service,
    want,
)


def list_providers(req: Request, resp) -> None:
    check_accept(req)
    authorize(req)
    params = query(req, schemas.pick(schemas.RP_LIST_QUERY_BY_VERSION, req.version))
    with service(req).engine.connect() as conn:
        ids = provider_filter(req, conn)
        rows = providers.list_providers(conn, uuid=params.get("uuid"),
                                        name=params.get("name"),
                                        in_tree=params.get("in_tree"), ids=ids)
    send(resp, {"resource_providers": [views.provider(req, r) for r in rows]})
    views.cache_headers(req, resp, views.newest(*(r.updated_at for r in rows)))


def create_provider(req: Request, resp) -> None:
    require_json(req)
    authorize(req)
    body = json_body(req, schemas.pick(schemas.RP_CREATE_BY_VERSION, req.version))
    try:
        with service(req).write() as conn:
            row = providers.create(conn, name=body["name"], uuid=body.get("uuid"),
                                   parent_uuid=body.get("parent_provider_uuid"))
    except providers.Duplicate as clash:
        with service(req).engine.connect() as conn:
            raise providers.conflict(conn, clash) from None
    resp.set_header("Location", views.absolute(req, views.provider_url(req, row.uuid)))
    if want(req, (1, 20)):
        send(resp, views.provider(req, row))
        views.cache_headers(req, resp, row.updated_at)
    else:
        send(resp, status=201)


def show_provider(req: Request, resp, uuid: str) -> None:
    with reading(req) as conn:
        row = providers.get(conn, uuid)
    send(resp, views.provider(req, row))
    views.cache_headers(req, resp, row.updated_at)


def update_provider(req: Request, resp, uuid: str) -> None:
    require_json(req)
    authorize(req)
    body = provider_first(req, uuid, lambda: json_body(
        req, schemas.pick(schemas.RP_UPDATE_BY_VERSION, req.version)))
    with service(req).write() as conn:
        row = providers.update(conn, uuid, body, allow_reparenting=want(req, (1, 37)))
    send(resp, views.provider(req, row))
    views.cache_headers(req, resp, row.updated_at)


def delete_provider(req: Request, resp, uuid: str) -> None:
    authorize(req)
    with service(req).write() as conn:
        providers.delete(conn, uuid)
    send(resp, status=204)

