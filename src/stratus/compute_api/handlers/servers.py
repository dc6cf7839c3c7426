"""/servers: create, list (index, detail), show, update, delete."""

from __future__ import annotations

import datetime

from stratus.cells import listing
from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Conflict, Forbidden, NotFound
from stratus.compute_api import (
    server_actions,
    server_create,
    server_delete,
    server_listing,
    server_lookup,
    server_states,
)
from stratus.compute_api.handlers import (
    allowed,
    authorize,
    bool_param,
    int_param,
    service,
    want,
)
from stratus.compute_api.schemas import as_bool, for_version
from stratus.compute_api.schemas import servers as schemas
from stratus.compute_api.store import NoSuchRow, hosts
from stratus.compute_api.store import flavors as flavor_store
from stratus.compute_api.views import paged
from stratus.compute_api.views import servers as views

SORT_KEYS = frozenset({
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone", "config_drive",
    "created_at", "display_description", "display_name", "host", "hostname", "image_ref",
    "instance_type_id", "kernel_id", "key_name", "launch_index", "launched_at", "locked",
    "node", "power_state", "progress", "project_id", "ramdisk_id", "root_device_name",
    "task_state", "terminated_at", "updated_at", "user_id", "uuid", "vm_state"})
ADMIN_SORT_KEYS = frozenset({"host", "node"})


def get_server(req: Request, server_id: str) -> server_lookup.Located:
    """The server, checked against the route's rule; 404 for another project's server."""
    try:
        located = server_lookup.locate(service(req).cells, server_id)
    except server_lookup.ServerNotFound:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    project = located.server["project_id"]
    if project != req.auth.project_id and not allowed(req, {"project_id": project}):
        raise NotFound(f"Instance {server_id} could not be found.")
    authorize(req, {"project_id": project, "user_id": located.server["user_id"]})
    return located


def _view_rights(req: Request, target: dict | None = None) -> tuple[bool, bool]:
    """(extended attributes, host_status): what the detail view may show this caller."""
    return (allowed(req, target, check="extended_attributes"),
            want(req, "2.16") and allowed(req, target, check="host_status"))


def _with_host_status(req: Request, servers: list[dict], shown: bool) -> list[dict]:
    """From 2.16, where policy lets the caller see it, each server's host_status (one
    query per cell for the page)."""
    if not shown:
        return servers
    compute = service(req)
    statuses = hosts.host_statuses(compute.cells, {s["host"] for s in servers if s.get("host")},
                                   compute.service_down_time)
    return [{**s, "host_status": statuses.get(s.get("host"))} for s in servers]


def _render(req: Request, server: dict) -> dict:
    extended, host_status = _view_rights(req, {"project_id": server["project_id"],
                                               "user_id": server["user_id"]})
    server = _with_host_status(req, [server], host_status)[0]
    return views.detail(req.prefix, server, req.version, extended=extended,
                        host_status=host_status, admin=req.auth.is_admin)


# --- create ---------------------------------------------------------------------------------

def create_server(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, for_version(schemas.create, req.version))
    server = body["server"]
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    request = server_create.ServerRequest(
        name=server["name"], image_ref=server.get("imageRef", ""),
        flavor_ref=str(server["flavorRef"]).rstrip("/").rsplit("/", 1)[-1],
        description=server.get("description"), metadata=server.get("metadata", {}),
        key_name=server.get("key_name"), user_data=server.get("user_data"),
        availability_zone=server.get("availability_zone"),
        config_drive=as_bool(server.get("config_drive", False)),
        min_count=int(server.get("min_count", 1)),
        max_count=int(server.get("max_count", server.get("min_count", 1))),
        networks=server.get("networks"),
        security_groups=[g["name"] for g in server.get("security_groups", [])] or ["default"],
        scheduler_hints=hints, access_ip_v4=server.get("accessIPv4"),
        access_ip_v6=server.get("accessIPv6"),
        auto_disk_config=server.get("OS-DCF:diskConfig", "MANUAL") == "AUTO",
        block_devices=server.get("block_device_mapping_v2", []))
    created = server_create.create(service(req), req.auth, request)
    if as_bool(server.get("return_reservation_id", False)):
        send(resp, {"reservation_id": created.reservation_id}, status=202)
        return
    first = created.servers[0]
    send(resp, views.created(req.prefix, first, created.admin_pass), status=202,
         headers={"Location": f"{req.prefix}/v2.1/servers/{first['uuid']}"})


# --- list -----------------------------------------------------------------------------------

def _sort(req: Request) -> list[tuple[str, str]]:
    keys = req.get_param_as_list("sort_key") or []
    dirs = req.get_param_as_list("sort_dir") or []
    result = []
    for index, key in enumerate(keys):
        if key not in SORT_KEYS:
            raise BadRequest(f"Invalid sort_key: {key}")
        if key in ADMIN_SORT_KEYS and not req.auth.is_admin:
            raise Forbidden(f"Only administrators can sort servers by {key}")
        direction = (dirs[index] if index < len(dirs) else "desc").lower()
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort_dir: {direction}")
        result.append((key, direction))
    return result or list(listing.DEFAULT_SORT)


def _changes_since(req: Request) -> datetime.datetime | None:
    value = req.get_param("changes-since")
    if value is None:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise BadRequest(f"Invalid filter field: changes-since. "
                         f"Value {value} is not an ISO 8601 time.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def _tag_list(req: Request, name: str) -> list[str]:
    value = req.get_param(name) if want(req, "2.26") else None
    return [tag for tag in (value or "").split(",") if tag]


def _filters(req: Request) -> server_listing.Filters:
    filters = server_listing.Filters(project_id=req.auth.project_id)
    if bool_param(req, "all_tenants"):
        authorize(req, check="all_tenants")
        filters.project_id = req.get_param("project_id") or req.get_param("tenant_id")
    filters.name = req.get_param("name")
    status = req.get_param("status")
    if status is not None:
        if status.upper() not in server_states.VALID_STATUSES:
            if want(req, "2.38"):
                raise BadRequest(f"Invalid status value: {status}")
            filters.nothing = True
        filters.statuses = server_states.states_for(status)
    filters.changes_since = _changes_since(req)
    image = req.get_param("image")
    if image is not None:
        filters.image = image.rstrip("/").rsplit("/", 1)[-1]
    flavor = req.get_param("flavor")
    if flavor is not None:
        with service(req).api_engine.connect() as conn:
            try:
                filters.flavor_type_id = flavor_store.get(
                    conn, flavor.rstrip("/").rsplit("/", 1)[-1])["id"]
            except NoSuchRow:
                filters.nothing = True
    filters.reservation_id = req.get_param("reservation_id")
    filters.ip = req.get_param("ip")
    # ip6 is a filter non-admins may use from 2.5; before, Nova drops it for them.
    if req.auth.is_admin or want(req, "2.5"):
        filters.ip6 = req.get_param("ip6")
    filters.tags_all = _tag_list(req, "tags")
    filters.tags_any = _tag_list(req, "tags-any")
    filters.not_tags = _tag_list(req, "not-tags")
    filters.not_tags_any = _tag_list(req, "not-tags-any")
    return filters


def _list(req: Request, resp, render, path: str, *, detail: bool = False) -> None:
    authorize(req)
    filters = _filters(req)
    limit = int_param(req, "limit")
    limit = service(req).max_limit if limit is None else min(limit, service(req).max_limit)
    marker = req.get_param("marker")
    try:
        page = server_listing.list_servers(service(req).cells, filters, _sort(req), limit,
                                           marker)
    except listing.MarkerNotFound:
        raise BadRequest(f"marker [{marker}] not found") from None
    except server_listing.BadFilter as bad:
        raise BadRequest(str(bad)) from None
    servers = _with_host_status(req, page.servers, _view_rights(req)[1]) if detail \
        else page.servers
    send(resp, paged("servers", [render(server) for server in servers], base=req.prefix,
                     path=path, params=req.params, limit=limit))


def list_servers(req: Request, resp) -> None:
    _list(req, resp, lambda server: views.summary(req.prefix, server), "servers")


def list_servers_detail(req: Request, resp) -> None:
    extended, host_status = _view_rights(req)
    _list(req, resp, views.detail_renderer(req.prefix, req.version, extended=extended,
                                           host_status=host_status, admin=req.auth.is_admin),
          "servers/detail", detail=True)


# --- one server -----------------------------------------------------------------------------

def show_server(req: Request, resp, server_id: str) -> None:
    located = get_server(req, server_id)
    send(resp, {"server": _render(req, located.server)})


_UPDATABLE = {"name": "display_name", "description": "display_description",
              "accessIPv4": "access_ip_v4", "accessIPv6": "access_ip_v6"}


def update_server(req: Request, resp, server_id: str) -> None:
    body = json_body(req, for_version(schemas.update, req.version))["server"]
    located = get_server(req, server_id)
    changes = {column: body[field] for field, column in _UPDATABLE.items() if field in body}
    if "OS-DCF:diskConfig" in body:
        changes["auto_disk_config"] = body["OS-DCF:diskConfig"] == "AUTO"
    try:
        located = server_lookup.update(service(req).cells, located, changes)
    except server_lookup.ServerNotFound:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    send(resp, {"server": views.updated(req.prefix, located.server, req.version,
                                          admin=req.auth.is_admin)})


def delete_server(req: Request, resp, server_id: str) -> None:
    located = get_server(req, server_id)
    try:
        server_delete.delete(service(req), located, req.auth)
    except server_lookup.ServerNotFound:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    except server_actions.ActionRefused as refused:
        raise Conflict(str(refused)) from None
    send(resp, status=204)
