"""/servers/{id}/metadata and /servers/{id}/tags (2.26)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Conflict, Forbidden, NotFound
from stratus.compute_api import server_lookup
from stratus.compute_api.handlers import service, want
from stratus.compute_api.handlers.servers import get_server
from stratus.compute_api.schemas import servers as schemas
from stratus.compute_api.store import NoSuchRow, quotas
from stratus.compute_api.store import instances as instance_store


def _in_cell(req: Request, server_id: str, action: str) -> server_lookup.Located:
    """The server, which must have landed in a cell to be changed (409 while building)."""
    located = get_server(req, server_id)
    if located.cell is None:
        raise Conflict(f"Cannot '{action}' instance {server_id} while it is in vm_state "
                       f"{located.server['vm_state']}")
    return located


def _run(req: Request, located: server_lookup.Located, fn):
    return server_lookup.in_cell(service(req).cells, located, fn)


# --- metadata -------------------------------------------------------------------------------

def _check_metadata_quota(req: Request, located: server_lookup.Located, count: int) -> None:
    with service(req).api_engine.connect() as conn:
        limit = quotas.project_limits(conn, located.server["project_id"])["metadata_items"]
    if 0 <= limit < count:
        raise Forbidden(f"Quota exceeded for metadata_items: Requested {count}, but "
                        f"already used 0 of {limit} metadata_items")


def list_metadata(req: Request, resp, server_id: str) -> None:
    send(resp, {"metadata": get_server(req, server_id).server["metadata"]})


def _write_metadata(req: Request, server_id: str, items: dict, replace: bool) -> dict:
    located = _in_cell(req, server_id, "update metadata")
    merged = items if replace else {**located.server["metadata"], **items}
    _check_metadata_quota(req, located, len(merged))
    _run(req, located, lambda conn: instance_store.set_metadata(
        conn, server_id, items, replace=replace))
    return merged


def create_metadata(req: Request, resp, server_id: str) -> None:
    items = json_body(req, schemas.metadata)["metadata"]
    send(resp, {"metadata": _write_metadata(req, server_id, items, replace=False)})


def replace_metadata(req: Request, resp, server_id: str) -> None:
    items = json_body(req, schemas.metadata)["metadata"]
    send(resp, {"metadata": _write_metadata(req, server_id, items, replace=True)})


def show_metadata_item(req: Request, resp, server_id: str, key: str) -> None:
    metadata = get_server(req, server_id).server["metadata"]
    if key not in metadata:
        raise NotFound("Metadata item was not found")
    send(resp, {"meta": {key: metadata[key]}})


def update_metadata_item(req: Request, resp, server_id: str, key: str) -> None:
    meta = json_body(req, schemas.metadata_item)["meta"]
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    _write_metadata(req, server_id, meta, replace=False)
    send(resp, {"meta": meta})


def delete_metadata_item(req: Request, resp, server_id: str, key: str) -> None:
    located = _in_cell(req, server_id, "delete metadata")
    try:
        _run(req, located, lambda conn: instance_store.delete_metadata_key(conn, server_id, key))
    except NoSuchRow:
        raise NotFound("Metadata item was not found") from None
    send(resp, status=204)


# --- tags (2.26) ----------------------------------------------------------------------------

def _require_tags(req: Request) -> None:
    if not want(req, "2.26"):
        raise NotFound("The resource could not be found.")


def list_tags(req: Request, resp, server_id: str) -> None:
    _require_tags(req)
    send(resp, {"tags": get_server(req, server_id).server["tags"]})


def replace_tags(req: Request, resp, server_id: str) -> None:
    _require_tags(req)
    new_tags = list(dict.fromkeys(json_body(req, schemas.tags)["tags"]))
    located = _in_cell(req, server_id, "update tags")
    _run(req, located, lambda conn: instance_store.set_tags(conn, server_id, new_tags,
                                                            replace=True))
    send(resp, {"tags": sorted(new_tags)})


def delete_tags(req: Request, resp, server_id: str) -> None:
    _require_tags(req)
    located = _in_cell(req, server_id, "delete tags")
    _run(req, located, lambda conn: instance_store.delete_tag(conn, server_id, None))
    send(resp, status=204)


def check_tag(req: Request, resp, server_id: str, tag: str) -> None:
    _require_tags(req)
    if tag not in get_server(req, server_id).server["tags"]:
        raise NotFound(f"Tag {tag} could not be found.")
    send(resp, status=204)


def add_tag(req: Request, resp, server_id: str, tag: str) -> None:
    _require_tags(req)
    schemas.tag.validate(tag)
    located = _in_cell(req, server_id, "update tag")
    existing = located.server["tags"]
    if tag in existing:
        send(resp, status=204)
        return
    if len(existing) >= schemas.MAX_TAGS:
        raise BadRequest(f"The number of tags exceeded the per-server limit {schemas.MAX_TAGS}")
    _run(req, located, lambda conn: instance_store.set_tags(conn, server_id, [tag],
                                                            replace=False))
    send(resp, status=201,
         headers={"Location": f"{req.prefix}/v2.1/servers/{server_id}/tags/{tag}"})


def delete_tag(req: Request, resp, server_id: str, tag: str) -> None:
    _require_tags(req)
    located = _in_cell(req, server_id, "delete tag")
    try:
        _run(req, located, lambda conn: instance_store.delete_tag(conn, server_id, tag))
    except NoSuchRow:
        raise NotFound(f"Tag {tag} could not be found.") from None
    send(resp, status=204)
