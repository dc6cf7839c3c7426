"""/os-services: list, enable/disable (with a reason), force-down (2.11), delete."""

from __future__ import annotations

from stratus.cells import mappings
from stratus.cells.schema_cell import COMPUTE_BINARY
from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.compute_api.handlers import authorize, service, want
from stratus.compute_api.schemas import services as schemas
from stratus.compute_api.store import availability_zones as az_store
from stratus.compute_api.store import hosts
from stratus.compute_api.views import hosts as views

INTERNAL_ZONE = "internal"


def host_zones(req: Request) -> dict[str, str]:
    """host -> availability zone, from aggregates."""
    with service(req).api_engine.connect() as conn:
        zone_hosts = az_store.zone_hosts(conn)
    return {host: zone for zone, members in sorted(zone_hosts.items()) for host in members}


def zone_of(row: dict, zones: dict[str, str]) -> str:
    if row["binary"] != COMPUTE_BINARY:
        return INTERNAL_ZONE
    return zones.get(row["host"], az_store.DEFAULT_ZONE)


def list_services(req: Request, resp) -> None:
    authorize(req)
    found = hosts.list_services(service(req).cells, host=req.get_param("host"),
                                binary=req.get_param("binary"),
                                down_time_s=service(req).service_down_time)
    zones = host_zones(req)
    send(resp, {"services": [views.service(s.row, zone_of(s.row, zones), req.version)
                             for s in found]})


def _one(req: Request, host: str, binary: str) -> hosts.CellRow:
    found = hosts.list_services(service(req).cells, host=host, binary=binary)
    if not found:
        raise NotFound(f"Compute host {host} with binary {binary} could not be found.")
    return found[0]


def update_service(req: Request, resp, service_ref: str) -> None:
    authorize(req)
    action = service_ref
    if action not in schemas.ACTIONS or (action == "force-down" and not want(req, "2.11")):
        raise NotFound(f"Unknown action {action}")
    body = json_body(req, schemas.ACTIONS[action])
    found = _one(req, body["host"], body["binary"])
    values: dict = {}
    reply = {"host": body["host"], "binary": body["binary"]}
    if action == "enable":
        values = {"disabled": False, "disabled_reason": None}
        reply["status"] = "enabled"
    elif action in ("disable", "disable-log-reason"):
        values = {"disabled": True, "disabled_reason": body.get("disabled_reason")}
        reply["status"] = "disabled"
        if action == "disable-log-reason":
            reply["disabled_reason"] = body["disabled_reason"]
    else:
        values = {"forced_down": body["forced_down"]}
        reply["forced_down"] = body["forced_down"]
    hosts.update_service(service(req).cells, found, values)
    send(resp, {"service": reply})


def delete_service(req: Request, resp, service_ref: str) -> None:
    authorize(req)
    service_id = service_ref
    if not service_id.isdigit():
        raise BadRequest(f"Invalid service id {service_id}")
    cells = service(req).cells
    found = [s for s in hosts.list_services(cells) if str(s.row["id"]) == service_id]
    if not found:
        raise NotFound(f"Service {service_id} could not be found.")
    target = found[0]
    if target.row["binary"] == COMPUTE_BINARY and hosts.count_instances_on_host(cells, target):
        raise Conflict(f"Unable to delete compute service that is hosting instances. "
                       f"Migrate or delete the instances first on host {target.row['host']}.")
    hosts.delete_service(cells, target)
    if target.row["binary"] == COMPUTE_BINARY:
        with cells.api_engine.begin() as conn:
            mappings.delete_host_mapping(conn, target.row["host"])
    send(resp, status=204)
