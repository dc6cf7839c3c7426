"""The service catalog: regions, services and their endpoints, and the catalog in tokens."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.common.wsgi.errors import BadRequest
from stratus.identity import schema as s
from stratus.identity.store import fetch_one, new_id

INTERFACES = ("public", "internal", "admin")


def ensure_region(conn: sa.Connection, region_id: str) -> None:
    if not conn.execute(sa.select(s.region.c.id).where(s.region.c.id == region_id)).first():
        conn.execute(s.region.insert().values(id=region_id, description=""))


def list_regions(conn: sa.Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(s.region).order_by(s.region.c.id))
            .mappings()]


def get_region(conn: sa.Connection, region_id: str) -> dict:
    return fetch_one(conn, sa.select(s.region).where(s.region.c.id == region_id),
                     "region", region_id)


def create_service(conn: sa.Connection, *, type: str, name: str | None = None,
                   description: str | None = None, enabled: bool = True) -> dict:
    values = dict(id=new_id(), type=type, name=name, description=description, enabled=enabled)
    conn.execute(s.service.insert().values(**values))
    return values


def get_service(conn: sa.Connection, service_id: str) -> dict:
    return fetch_one(conn, sa.select(s.service).where(s.service.c.id == service_id),
                     "service", service_id)


def list_services(conn: sa.Connection, type: str | None = None,
                  name: str | None = None) -> list[dict]:
    query = sa.select(s.service).order_by(s.service.c.type, s.service.c.id)
    if type is not None:
        query = query.where(s.service.c.type == type)
    if name is not None:
        query = query.where(s.service.c.name == name)
    return [dict(r) for r in conn.execute(query).mappings()]


def delete_service(conn: sa.Connection, service_id: str) -> None:
    get_service(conn, service_id)
    conn.execute(s.endpoint.delete().where(s.endpoint.c.service_id == service_id))
    conn.execute(s.service.delete().where(s.service.c.id == service_id))


def create_endpoint(conn: sa.Connection, *, service_id: str, interface: str, url: str,
                    region_id: str | None = None, enabled: bool = True) -> dict:
    if interface not in INTERFACES:
        raise BadRequest(f"Invalid interface {interface!r}; use one of {', '.join(INTERFACES)}.")
    get_service(conn, service_id)
    if region_id is not None:
        ensure_region(conn, region_id)
    values = dict(id=new_id(), service_id=service_id, interface=interface, url=url,
                  region_id=region_id, enabled=enabled)
    conn.execute(s.endpoint.insert().values(**values))
    return values


def get_endpoint(conn: sa.Connection, endpoint_id: str) -> dict:
    return fetch_one(conn, sa.select(s.endpoint).where(s.endpoint.c.id == endpoint_id),
                     "endpoint", endpoint_id)


def list_endpoints(conn: sa.Connection, *, service_id: str | None = None,
                   interface: str | None = None, region_id: str | None = None) -> list[dict]:
    query = sa.select(s.endpoint).order_by(s.endpoint.c.service_id, s.endpoint.c.interface)
    for column, value in ((s.endpoint.c.service_id, service_id),
                          (s.endpoint.c.interface, interface),
                          (s.endpoint.c.region_id, region_id)):
        if value is not None:
            query = query.where(column == value)
    return [dict(r) for r in conn.execute(query).mappings()]


def delete_endpoint(conn: sa.Connection, endpoint_id: str) -> None:
    get_endpoint(conn, endpoint_id)
    conn.execute(s.endpoint.delete().where(s.endpoint.c.id == endpoint_id))


def ensure_service_endpoints(conn: sa.Connection, *, type: str, name: str, url: str,
                             region_id: str) -> str:
    """Make ``type`` appear in the catalog at ``url`` on every interface (idempotent).

    An existing service of that type is reused and its endpoints' URLs updated, so a
    restart on another port or host corrects the catalog.
    """
    ensure_region(conn, region_id)
    services = list_services(conn, type=type)
    service_id = services[0]["id"] if services else create_service(conn, type=type,
                                                                    name=name)["id"]
    existing = {e["interface"]: e for e in list_endpoints(conn, service_id=service_id)}
    for interface in INTERFACES:
        endpoint = existing.get(interface)
        if endpoint is None:
            create_endpoint(conn, service_id=service_id, interface=interface, url=url,
                            region_id=region_id)
        elif endpoint["url"] != url or endpoint["region_id"] != region_id:
            conn.execute(s.endpoint.update().where(s.endpoint.c.id == endpoint["id"])
                         .values(url=url, region_id=region_id))
    return service_id


def token_catalog(conn: sa.Connection) -> list[dict]:
    """The catalog as it appears in a token: enabled services with enabled endpoints."""
    rows = conn.execute(
        sa.select(s.service.c.id.label("service_id"), s.service.c.type, s.service.c.name,
                  s.endpoint.c.id, s.endpoint.c.interface, s.endpoint.c.region_id,
                  s.endpoint.c.url)
        .join(s.endpoint, s.endpoint.c.service_id == s.service.c.id)
        .where(s.service.c.enabled.is_(True), s.endpoint.c.enabled.is_(True))
        .order_by(s.service.c.type, s.endpoint.c.interface)).mappings()
    services: dict[str, dict] = {}
    for row in rows:
        entry = services.setdefault(row["service_id"], {
            "id": row["service_id"], "type": row["type"], "name": row["name"] or "",
            "endpoints": []})
        entry["endpoints"].append({"id": row["id"], "interface": row["interface"],
                                   "region": row["region_id"], "region_id": row["region_id"],
                                   "url": row["url"]})
    return list(services.values())
