"""/resource_providers/{uuid}/aggregates (1.1; generations from 1.19)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import Conflict
from stratus.placement import aggregates, errors, providers, schemas, views
from stratus.placement.handlers import authorize, json_body, reading, require_json, service, want

GENERATION_CONFLICT = ("Resource provider's generation already changed. Please update the "
                       "generation and try again.")


def _send(req: Request, resp, generation: int, uuids: list[str]) -> None:
    body = {"aggregates": uuids}
    if want(req, (1, 19)):
        body["resource_provider_generation"] = generation
    send(resp, body)
    views.cache_headers(req, resp, None)


def list_aggregates(req: Request, resp, uuid: str) -> None:
    with reading(req) as conn:
        provider = providers.get(conn, uuid)
        uuids = aggregates.for_provider(conn, provider.id)
    _send(req, resp, provider.generation, uuids)


def set_aggregates(req: Request, resp, uuid: str) -> None:
    require_json(req)
    authorize(req)
    with service(req).engine.connect() as conn:
        providers.get(conn, uuid)
    body = json_body(req, schemas.pick(schemas.AGGREGATES_BY_VERSION, req.version))
    with service(req).write() as conn:
        provider = providers.get(conn, uuid)
        generation = provider.generation
        if want(req, (1, 19)):
            if body["resource_provider_generation"] != generation:
                raise Conflict(GENERATION_CONFLICT, code=errors.CONCURRENT_UPDATE)
            uuids = body["aggregates"]
            generation = providers.bump_generation(conn, provider.id, generation)
        else:
            uuids = body
        aggregates.replace(conn, provider.id, uuids)
    _send(req, resp, generation, uuids)
