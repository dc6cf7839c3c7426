"""POST /reshaper (1.30): move inventories and allocations between providers atomically."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import BadRequest, Conflict
from stratus.placement import allocations, errors, inventories, providers, schemas
from stratus.placement.handlers import authorize, json_body, require_json, service, want
from stratus.placement.handlers.allocations import consumer_write, write_options


def reshape(req: Request, resp) -> None:
    require_json(req)
    authorize(req)
    data = json_body(req, schemas.pick(schemas.RESHAPER_BY_VERSION, req.version))
    wanted = {uuid: {name: {**schemas.INVENTORY_DEFAULTS, **record}
                     for name, record in body["inventories"].items()}
              for uuid, body in data["inventories"].items()}
    for uuid, records in wanted.items():
        inventories.check_capacity(uuid, records, reserved_may_equal_total=want(req, (1, 26)))
    writes = [consumer_write(req, consumer, body)
              for consumer, body in data["allocations"].items()]
    with service(req).write() as conn:
        for uuid, body in data["inventories"].items():
            row = providers.find(conn, uuid)
            if row is None:
                raise BadRequest(f"Resource provider {uuid} in inventories not found: No "
                                 f"resource provider with uuid {uuid} found",
                                 code=errors.RESOURCE_PROVIDER_NOT_FOUND)
            given = body["resource_provider_generation"]
            if given != row.generation:
                raise Conflict(f"resource provider generation conflict for provider {uuid}: "
                               f"actual: {row.generation}, given: {given}",
                               code=errors.CONCURRENT_UPDATE)
        # Interim inventory: old and new classes side by side, so moved allocations fit.
        for uuid, records in wanted.items():
            if records:
                row = providers.get(conn, uuid)
                merged = {**inventories.for_provider(conn, row.id), **records}
                inventories.replace_all(conn, row, row.generation, merged)
        if writes:
            allocations.write(conn, writes, missing_provider_message=(
                "Allocation for resource provider '{rp_uuid}' that does not exist."),
                **write_options(req))
        for uuid, records in wanted.items():
            row = providers.get(conn, uuid)
            inventories.replace_all(conn, row, row.generation, records)
    send(resp, status=204)
