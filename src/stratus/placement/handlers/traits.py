"""/traits, /traits/{name} and /resource_providers/{uuid}/traits (all from 1.6)."""

from __future__ import annotations

import re

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.placement import errors, providers, schemas, traits, views
from stratus.placement.handlers import (
    authorize,
    check_accept,
    json_body,
    query,
    reading,
    require_json,
    service,
)
from stratus.placement.handlers.aggregates import GENERATION_CONFLICT

_CUSTOM = re.compile(schemas.CUSTOM_PATTERN)


def list_traits(req: Request, resp) -> None:
    check_accept(req)
    authorize(req)
    params = query(req, schemas.TRAITS_QUERY)
    names = prefix = associated = None
    if "name" in params:
        op, sep, value = params["name"].partition(":")
        if not sep or op not in ("in", "startswith"):
            raise BadRequest("Badly formatted name parameter. Expected name query string "
                             "parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. "
                             f'Got: "{params["name"]}"')
        if op == "in":
            names = value.split(",")
        else:
            prefix = value
    if "associated" in params:
        flag = params["associated"].lower()
        if flag not in ("true", "false"):
            raise BadRequest('The query parameter "associated" only accepts "true" or "false"')
        associated = flag == "true"
    with service(req).engine.connect() as conn:
        found = traits.list_traits(conn, names=names, prefix=prefix, associated=associated)
    send(resp, {"traits": found})
    views.cache_headers(req, resp, None)


def _trait_url(req: Request, name: str) -> str:
    return f"{req.root_path}/traits/{name}"


def put_trait(req: Request, resp, name: str) -> None:
    authorize(req)
    if len(name) > 255 or not _CUSTOM.match(name):
        raise BadRequest('The trait is invalid. A valid trait must be no longer than 255 '
                         'characters, start with the prefix "CUSTOM_" and use following '
                         'characters: "A"-"Z", "0"-"9" and "_"')
    with service(req).write() as conn:
        created = traits.create(conn, name)
        row = traits.get(conn, name)
    resp.set_header("Location", views.absolute(req, _trait_url(req, name)))
    send(resp, status=201 if created else 204)
    views.cache_headers(req, resp, row.created_at)


def show_trait(req: Request, resp, name: str) -> None:
    authorize(req)
    with service(req).engine.connect() as conn:
        row = traits.get(conn, name)
    if row is None:
        raise NotFound(f"No such trait(s): {name}.")
    send(resp, status=204)
    views.cache_headers(req, resp, row.created_at)


def delete_trait(req: Request, resp, name: str) -> None:
    authorize(req)
    with service(req).write() as conn:
        row = traits.get(conn, name)
        if row is None:
            raise NotFound(f"No such trait(s): {name}.")
        if not name.startswith("CUSTOM_"):
            raise BadRequest(f"Cannot delete standard trait {name}.")
        if traits.in_use(conn, row.id):
            raise Conflict(f"The trait {name} is in use by a resource provider.")
        traits.delete(conn, row.id)
    send(resp, status=204)


def _send_provider_traits(req: Request, resp, generation: int, names: list[str]) -> None:
    send(resp, {"traits": names, "resource_provider_generation": generation})
    views.cache_headers(req, resp, None)


def list_provider_traits(req: Request, resp, uuid: str) -> None:
    with reading(req) as conn:
        row = providers.find(conn, uuid)
        if row is None:
            raise NotFound(f"No resource provider with uuid {uuid} found: No resource "
                           f"provider with uuid {uuid} found",
                           code=errors.RESOURCE_PROVIDER_NOT_FOUND)
        names = traits.for_provider(conn, row.id)
    _send_provider_traits(req, resp, row.generation, names)


def set_provider_traits(req: Request, resp, uuid: str) -> None:
    require_json(req)
    authorize(req)
    body = json_body(req, schemas.PROVIDER_TRAITS)
    with service(req).write() as conn:
        row = providers.get(conn, uuid)
        if row.generation != body["resource_provider_generation"]:
            raise Conflict(GENERATION_CONFLICT, code=errors.CONCURRENT_UPDATE)
        ids = traits.ids_for(conn, body["traits"])
        missing = [n for n in body["traits"] if n not in ids]
        if missing:
            raise BadRequest(f"No such trait {', '.join(missing)}")
        generation = providers.bump_generation(conn, row.id, row.generation)
        traits.replace_for_provider(conn, row.id, set(ids.values()))
    _send_provider_traits(req, resp, generation, sorted(ids))


def delete_provider_traits(req: Request, resp, uuid: str) -> None:
    authorize(req)
    with service(req).write() as conn:
        row = providers.get(conn, uuid)
        providers.bump_generation(conn, row.id, row.generation)
        traits.replace_for_provider(conn, row.id, set())
    send(resp, status=204)
