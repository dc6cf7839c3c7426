"""/resource_providers/{uuid}/inventories[/{resource_class}]."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import NotFound
from stratus.placement import errors, inventories, providers, schemas, views
from stratus.placement.handlers import (
    authorize,
    json_body,
    provider_first,
    reading,
    require_json,
    service,
    want,
)


def _provider(conn, uuid: str):
    row = providers.find(conn, uuid)
    if row is None:
        raise NotFound(f"No resource provider with uuid {uuid} found",
                       code=errors.RESOURCE_PROVIDER_NOT_FOUND)
    return row


def _with_defaults(record: dict) -> dict:
    return {**schemas.INVENTORY_DEFAULTS, **record}


def _generation_matches(provider, given: int) -> None:
    if given != provider.generation:
        raise errors.concurrent_update()


def _send_all(req: Request, resp, generation: int, records: dict[str, dict]) -> None:
    send(resp, {"resource_provider_generation": generation,
                "inventories": {name: views.inventory(r) for name, r in records.items()}})
    views.cache_headers(req, resp, views.newest(*(r.get("updated_at") for r in
                                                  records.values())))


def _send_one(req: Request, resp, generation: int, record: dict, status: int = 200) -> None:
    send(resp, {**views.inventory(record), "resource_provider_generation": generation},
         status=status)
    views.cache_headers(req, resp, record.get("updated_at"))


def list_inventories(req: Request, resp, uuid: str) -> None:
    with reading(req) as conn:
        provider = _provider(conn, uuid)
        records = inventories.for_provider(conn, provider.id)
    _send_all(req, resp, provider.generation, records)


def set_inventories(req: Request, resp, uuid: str) -> None:
    require_json(req)
    authorize(req)

    def parse():
        body = json_body(req, schemas.INVENTORIES_SET)
        records = {name: _with_defaults(r) for name, r in body["inventories"].items()}
        inventories.check_capacity(uuid, records, reserved_may_equal_total=want(req, (1, 26)))
        return body, records

    body, records = provider_first(req, uuid, parse)
    with service(req).write() as conn:
        provider = _provider(conn, uuid)
        _generation_matches(provider, body["resource_provider_generation"])
        generation = inventories.replace_all(conn, provider, provider.generation, records)
        stored = inventories.for_provider(conn, provider.id)
    _send_all(req, resp, generation, stored)


def delete_inventories(req: Request, resp, uuid: str) -> None:
    authorize(req)
    with service(req).write() as conn:
        provider = _provider(conn, uuid)
        inventories.replace_all(conn, provider, provider.generation, {})
    send(resp, status=204)


def create_inventory(req: Request, resp, uuid: str) -> None:
    require_json(req)
    authorize(req)

    def parse():
        body = _with_defaults(json_body(req, schemas.INVENTORY_CREATE))
        inventories.check_capacity(uuid, {body["resource_class"]: body}, action="create",
                                   reserved_may_equal_total=want(req, (1, 26)))
        return body

    body = provider_first(req, uuid, parse)
    name = body["resource_class"]
    with service(req).write() as conn:
        provider = _provider(conn, uuid)
        generation = inventories.add(conn, provider, name, body)
        stored = inventories.for_provider(conn, provider.id)[name]
    location = f"{views.provider_url(req, uuid)}/inventories/{name}"
    resp.set_header("Location", views.absolute(req, location))
    _send_one(req, resp, generation, stored, status=201)


def show_inventory(req: Request, resp, uuid: str, resource_class: str) -> None:
    with reading(req) as conn:
        provider = _provider(conn, uuid)
        records = inventories.for_provider(conn, provider.id)
    if resource_class not in records:
        raise NotFound(f"No inventory of class {resource_class} for {uuid}")
    _send_one(req, resp, provider.generation, records[resource_class])


def update_inventory(req: Request, resp, uuid: str, resource_class: str) -> None:
    require_json(req)
    authorize(req)

    def parse():
        body = _with_defaults(json_body(req, schemas.INVENTORY_UPDATE))
        inventories.check_capacity(uuid, {resource_class: body},
                                   reserved_may_equal_total=want(req, (1, 26)))
        return body

    body = provider_first(req, uuid, parse)
    with service(req).write() as conn:
        provider = _provider(conn, uuid)
        _generation_matches(provider, body["resource_provider_generation"])
        generation = inventories.update_one(conn, provider, provider.generation,
                                            resource_class, body)
        stored = inventories.for_provider(conn, provider.id)[resource_class]
    _send_one(req, resp, generation, stored)


def delete_inventory(req: Request, resp, uuid: str, resource_class: str) -> None:
    authorize(req)
    with service(req).write() as conn:
        provider = _provider(conn, uuid)
        inventories.delete_one(conn, provider, resource_class)
    send(resp, status=204)
