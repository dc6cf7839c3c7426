"""/flavors: list, detail, show; admin create/delete; extra specs; project access."""

from __future__ import annotations

import uuid

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.compute_api.handlers import authorize, bool_param, int_param, paging, service
from stratus.compute_api.schemas import as_bool
from stratus.compute_api.schemas import flavors as schemas
from stratus.compute_api.store import Duplicate, NoSuchRow
from stratus.compute_api.store import flavors as store
from stratus.compute_api.views import flavors as views
from stratus.compute_api.views import paged


def _flavor_or_404(conn, req: Request, flavor_id: str) -> dict:
    project = None if req.auth.is_admin else req.auth.project_id
    try:
        return store.get(conn, flavor_id, project_id=project)
    except NoSuchRow:
        raise NotFound(f"Flavor {flavor_id} could not be found.") from None


def _is_public_filter(req: Request) -> bool | None:
    """Admins choose with ?is_public=true|false|none (default true); others see theirs."""
    value = req.get_param("is_public")
    if value is None:
        return True
    if value.strip().lower() == "none":
        return None
    return bool_param(req, "is_public")


def _list(req: Request, resp, render, path: str) -> None:
    authorize(req)
    limit, marker = paging(req)
    sort_key = req.get_param("sort_key") or "flavorid"
    sort_dir = (req.get_param("sort_dir") or "asc").lower()
    if sort_key not in store.SORT_KEYS:
        raise BadRequest(f"Invalid sort_key: {sort_key}")
    if sort_dir not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort_dir: {sort_dir}")
    admin = req.auth.is_admin
    is_public = _is_public_filter(req)
    with service(req).api_engine.connect() as conn:
        try:
            rows = store.list_flavors(
                conn, project_id=None if admin else req.auth.project_id,
                is_public=is_public if admin else None,
                min_ram=int_param(req, "minRam"), min_disk=int_param(req, "minDisk"),
                sort_key=sort_key, sort_dir=sort_dir, limit=limit, marker=marker)
        except NoSuchRow:
            raise BadRequest(f"marker [{marker}] not found") from None
    send(resp, paged("flavors", [render(req.prefix, row) for row in rows], base=req.prefix,
                     path=path, params=req.params, limit=limit))


def list_flavors(req: Request, resp) -> None:
    _list(req, resp, views.summary, "flavors")


def list_flavors_detail(req: Request, resp) -> None:
    _list(req, resp, views.detail, "flavors/detail")


def show_flavor(req: Request, resp, flavor_id: str) -> None:
    authorize(req)
    with service(req).api_engine.connect() as conn:
        row = _flavor_or_404(conn, req, flavor_id)
    send(resp, {"flavor": views.detail(req.prefix, row)})


def create_flavor(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, schemas.create)["flavor"]
    values = {
        "name": body["name"], "flavorid": body.get("id") or str(uuid.uuid4()),
        "memory_mb": int(body["ram"]), "vcpus": int(body["vcpus"]),
        "root_gb": int(body["disk"]),
        "ephemeral_gb": int(body.get("OS-FLV-EXT-DATA:ephemeral", 0)),
        "swap": int(body.get("swap", 0)),
        "rxtx_factor": float(body.get("rxtx_factor", 1.0)),
        "is_public": as_bool(body.get("os-flavor-access:is_public", True)),
        "disabled": False,
    }
    with service(req).api_engine.begin() as conn:
        try:
            row = store.create(conn, values)
        except Duplicate as dup:
            if dup.args and dup.args[0] == "name":
                raise Conflict(f"Flavor with name {values['name']} already exists.") from None
            raise Conflict(f"Flavor with ID {values['flavorid']} already exists.") from None
    send(resp, {"flavor": views.detail(req.prefix, row)})


def delete_flavor(req: Request, resp, flavor_id: str) -> None:
    authorize(req)
    with service(req).api_engine.begin() as conn:
        try:
            store.delete(conn, flavor_id)
        except NoSuchRow:
            raise NotFound(f"Flavor {flavor_id} could not be found.") from None
    send(resp, status=202)


# --- extra specs ---------------------------------------------------------------------------

def _spec_values(specs: dict) -> dict[str, str]:
    return {key: str(value) for key, value in specs.items()}


def list_extra_specs(req: Request, resp, flavor_id: str) -> None:
    authorize(req)
    with service(req).api_engine.connect() as conn:
        flavor = _flavor_or_404(conn, req, flavor_id)
        specs = store.extra_specs(conn, flavor["id"])
    send(resp, {"extra_specs": specs})


def create_extra_specs(req: Request, resp, flavor_id: str) -> None:
    authorize(req)
    specs = _spec_values(json_body(req, schemas.extra_specs)["extra_specs"])
    with service(req).api_engine.begin() as conn:
        flavor = _flavor_or_404(conn, req, flavor_id)
        store.set_extra_specs(conn, flavor["id"], specs)
    send(resp, {"extra_specs": specs})


def show_extra_spec(req: Request, resp, flavor_id: str, key: str) -> None:
    authorize(req)
    with service(req).api_engine.connect() as conn:
        flavor = _flavor_or_404(conn, req, flavor_id)
        specs = store.extra_specs(conn, flavor["id"])
    if key not in specs:
        raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    send(resp, {key: specs[key]})


def update_extra_spec(req: Request, resp, flavor_id: str, key: str) -> None:
    authorize(req)
    spec = _spec_values(json_body(req, schemas.extra_spec_item))
    if key not in spec:
        raise BadRequest("Request body and URI mismatch")
    with service(req).api_engine.begin() as conn:
        flavor = _flavor_or_404(conn, req, flavor_id)
        store.set_extra_specs(conn, flavor["id"], spec)
    send(resp, spec)


def delete_extra_spec(req: Request, resp, flavor_id: str, key: str) -> None:
    authorize(req)
    with service(req).api_engine.begin() as conn:
        flavor = _flavor_or_404(conn, req, flavor_id)
        try:
            store.delete_extra_spec(conn, flavor["id"], key)
        except NoSuchRow:
            raise NotFound(
                f"Flavor {flavor_id} has no extra specs with key {key}.") from None
    send(resp, status=200)


# --- project access ------------------------------------------------------------------------

def list_access(req: Request, resp, flavor_id: str) -> None:
    authorize(req)
    with service(req).api_engine.connect() as conn:
        flavor = _flavor_or_404(conn, req, flavor_id)
        if flavor["is_public"]:
            raise NotFound("Access list not available for public flavors.")
        projects = store.access_list(conn, flavor["id"])
    send(resp, views.access(flavor_id, projects))


def flavor_action(req: Request, resp, flavor_id: str) -> None:
    body = json_body(req, schemas.access_action)
    action = next(iter(body))
    authorize(req, action=action)
    project = body[action]["tenant"]
    with service(req).api_engine.begin() as conn:
        flavor = _flavor_or_404(conn, req, flavor_id)
        if action == "addTenantAccess":
            if flavor["is_public"] and req.version.matches((2, 7)):
                raise Conflict("Can not add access to a public flavor.")
            try:
                store.add_access(conn, flavor["id"], project)
            except Duplicate:
                raise Conflict(f"Flavor access already exists for flavor {flavor_id} and "
                               f"project {project} combination.") from None
        else:
            try:
                store.remove_access(conn, flavor["id"], project)
            except NoSuchRow:
                raise NotFound(f"Flavor access not found for {flavor_id} / {project} "
                               "combination.") from None
        projects = store.access_list(conn, flavor["id"])
    send(resp, views.access(flavor_id, projects))
