"""/resource_providers/{uuid}/usages and /usages (1.9; by consumer type from 1.38)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.placement import inventories, providers, resource_classes, schemas, usages, views
from stratus.placement.handlers import authorize, check_accept, query, reading, service, want


def provider_usages(req: Request, resp, uuid: str) -> None:
    with reading(req) as conn:
        row = providers.get(conn, uuid)
        records = inventories.for_provider(conn, row.id)
        used = inventories.usage_by_class(conn, row.id)
        names = resource_classes.names_for(conn, set(used))
    body = {name: 0 for name in records}
    body.update({names[rc_id]: amount for rc_id, amount in used.items()})
    send(resp, {"resource_provider_generation": row.generation, "usages": body})
    views.cache_headers(req, resp, None)


def total_usages(req: Request, resp) -> None:
    check_accept(req)
    params = query(req, schemas.pick(schemas.USAGES_QUERY_BY_VERSION, req.version))
    authorize(req, {"project_id": params["project_id"]})
    with service(req).engine.connect() as conn:
        if want(req, (1, 38)):
            found = usages.by_consumer_type(conn, params["project_id"], params.get("user_id"),
                                            params.get("consumer_type"))
        else:
            found = usages.totals(conn, params["project_id"], params.get("user_id"))
    send(resp, {"usages": found})
    views.cache_headers(req, resp, None)
