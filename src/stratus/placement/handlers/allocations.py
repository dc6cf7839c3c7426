"""/allocations/{consumer_uuid}, POST /allocations (1.13) and a provider's allocations."""

from __future__ import annotations

import uuid as uuidlib

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import BadRequest, NotFound
from stratus.placement import allocations, providers, resource_classes, schemas, views
from stratus.placement.handlers import authorize, json_body, reading, require_json, service, want

_MISSING_PROVIDER = "Allocation for resource provider '{rp_uuid}' that does not exist."


def list_for_consumer(req: Request, resp, consumer_uuid: str) -> None:
    with reading(req) as conn:
        rows, consumer = allocations.for_consumer(conn, consumer_uuid)
        names = resource_classes.names_for(conn, {r.resource_class_id for r in rows})
    by_provider: dict[str, dict] = {}
    for row in rows:
        entry = by_provider.setdefault(row.rp_uuid, {"generation": row.generation,
                                                     "resources": {}})
        entry["resources"][names[row.resource_class_id]] = row.used
    body: dict = {"allocations": by_provider}
    if consumer is not None and want(req, (1, 12)):
        body["project_id"] = consumer.project_id
        body["user_id"] = consumer.user_id
        if want(req, (1, 28)):
            body["consumer_generation"] = consumer.generation
        if want(req, (1, 38)):
            body["consumer_type"] = consumer.consumer_type or "unknown"
    send(resp, body)
    views.cache_headers(req, resp, views.newest(*(r.updated_at for r in rows)))


def list_for_provider(req: Request, resp, uuid: str) -> None:
    with reading(req) as conn:
        row = providers.find(conn, uuid)
        if row is None:
            raise NotFound(f"Resource provider '{uuid}' not found: No resource provider "
                           f"with uuid {uuid} found")
        rows = allocations.for_provider(conn, row.id)
        names = resource_classes.names_for(conn, {r.resource_class_id for r in rows})
    by_consumer: dict[str, dict] = {}
    for alloc in rows:
        entry = by_consumer.setdefault(alloc.consumer_id, {"resources": {}})
        entry["resources"][names[alloc.resource_class_id]] = alloc.used
        if want(req, (1, 28)):
            entry["consumer_generation"] = alloc.consumer_generation
    send(resp, {"allocations": by_consumer, "resource_provider_generation": row.generation})
    views.cache_headers(req, resp, views.newest(*(r.updated_at for r in rows)))


def consumer_write(req: Request, consumer_uuid: str, data: dict) -> allocations.ConsumerWrite:
    """One consumer's part of a request body, in the dict form whatever the version."""
    raw = data["allocations"]
    if isinstance(raw, list):  # before 1.12: a list of {resource_provider, resources}
        raw = {item["resource_provider"]["uuid"]: {"resources": item["resources"]}
               for item in raw}
    write = allocations.ConsumerWrite(
        uuid=consumer_uuid,
        allocations={rp_uuid: dict(entry["resources"]) for rp_uuid, entry in raw.items()},
        generation=data.get("consumer_generation"), consumer_type=data.get("consumer_type"))
    if "project_id" in data:
        write.project_id, write.user_id = data["project_id"], data["user_id"]
    return write


def write_options(req: Request) -> dict:
    return {"check_generation": want(req, (1, 28)), "set_type": want(req, (1, 38))}


def set_for_consumer(req: Request, resp, consumer_uuid: str) -> None:
    require_json(req)
    authorize(req)
    try:
        consumer_uuid = str(uuidlib.UUID(consumer_uuid))
    except ValueError:
        raise BadRequest(f"Malformed consumer_uuid: {consumer_uuid}") from None
    data = json_body(req, schemas.pick(schemas.ALLOCATIONS_PUT_BY_VERSION, req.version))
    with service(req).write() as conn:
        allocations.write(conn, [consumer_write(req, consumer_uuid, data)],
                          missing_provider_message=_MISSING_PROVIDER, **write_options(req))
    send(resp, status=204)


def set_many(req: Request, resp) -> None:
    require_json(req)
    authorize(req)
    data = json_body(req, schemas.pick(schemas.ALLOCATIONS_POST_BY_VERSION, req.version))
    writes = [consumer_write(req, consumer, body) for consumer, body in data.items()]
    with service(req).write() as conn:
        allocations.write(conn, writes, missing_provider_message=_MISSING_PROVIDER,
                          **write_options(req))
    send(resp, status=204)


def delete_for_consumer(req: Request, resp, consumer_uuid: str) -> None:
    authorize(req)
    with service(req).write() as conn:
        if not allocations.delete_consumer(conn, consumer_uuid):
            raise NotFound(f"No allocations for consumer '{consumer_uuid}'")
    send(resp, status=204)
