"""/os-availability-zone (and /detail for admins): zones of the enabled compute services."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.compute_api.handlers import authorize, service
from stratus.compute_api.handlers.services import INTERNAL_ZONE, host_zones, zone_of
from stratus.compute_api.store import hosts
from stratus.compute_api.views import isotime_micro


def _services_by_zone(req: Request) -> dict[str, list[dict]]:
    zones = host_zones(req)
    by_zone: dict[str, list[dict]] = {}
    for found in hosts.list_services(service(req).cells,
                                     down_time_s=service(req).service_down_time):
        by_zone.setdefault(zone_of(found.row, zones), []).append(found.row)
    return by_zone


def _zone(name: str, services: list[dict], hosts_body) -> dict:
    available = any(not s["disabled"] and s["up"] for s in services)
    return {"zoneName": name, "zoneState": {"available": available}, "hosts": hosts_body}


def list_zones(req: Request, resp) -> None:
    authorize(req)
    by_zone = _services_by_zone(req)
    send(resp, {"availabilityZoneInfo": [
        _zone(name, services, None) for name, services in sorted(by_zone.items())
        if name != INTERNAL_ZONE]})


def list_zones_detail(req: Request, resp) -> None:
    authorize(req)
    body = []
    for name, services in sorted(_services_by_zone(req).items()):
        by_host: dict[str, dict] = {}
        for svc in services:
            by_host.setdefault(svc["host"], {})[svc["binary"]] = {
                "available": not svc["disabled"] and svc["up"],
                "active": not svc["disabled"],
                "updated_at": isotime_micro(svc["updated_at"] or svc["created_at"])}
        body.append(_zone(name, services, by_host))
    send(resp, {"availabilityZoneInfo": body})
