"""Placement API handlers: parse and validate, check policy, call the data layer, render.

Helpers here are what every handler needs: the service, policy, the negotiated
microversion, request bodies and query strings in Placement's error shapes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Request
from stratus.common.wsgi.body import MAX_BODY_BYTES
from stratus.placement import candidates, providers
from stratus.placement.request_groups import parse_provider_filters
from stratus.placement.schemas import Schema
from stratus.placement.service import PlacementService


def service(req: Request) -> PlacementService:
    return req.service


def authorize(req: Request, target: dict | None = None) -> None:
    """Check the rule the route table names for this request's method.
    """
    ctx = req.auth
    req.service.policy.authorize(ctx, req.route.rules[req.method],
                                 target or {"project_id": ctx.project_id,
                                            "user_id": ctx.user_id})


@contextlib.contextmanager
def reading(req: Request) -> Iterator:
    """A GET's preamble: the Accept check, policy, then a read-only connection."""
    check_accept(req)
    authorize(req)
    with req.service.engine.connect() as conn:
        yield conn


def provider_first(req: Request, uuid: str, parse: Callable[[], Any]) -> Any:
    """``parse()`` (reading and checking the body), but a provider that does not exist
    answers 404 before any complaint about the body, as Placement looks it up first.

    The lookup runs only when the body is refused: a good body goes on to the write
    transaction, which looks the provider up (and answers 404) anyway.
    """
    try:
        return parse()
    except errors.APIError:
        with req.service.engine.connect() as conn:
            providers.get(conn, uuid)
        raise


def want(req: Request, low: tuple[int, int]) -> bool:
    """True when the negotiated microversion is at least ``low``."""
    return req.version.matches(low)


def since(low: tuple[int, int], handler: Callable[..., None], *,
          absent: type[errors.APIError] = errors.NotFound) -> Callable[..., None]:
    """``handler`` from microversion ``low`` on; below it the method does not exist.

    Placement answers such a request 404, except where it always said 405 (``absent``).
    """

    def gated(req: Request, resp, **params) -> None:
        if not req.version.matches(low):
            if absent is errors.MethodNotAllowed:
                raise errors.MethodNotAllowed(
                    "The method specified is not allowed for this resource.",
                    headers={"Allow": ", ".join(sorted(
                        m for m in req.route.methods if m != req.method))})
            raise errors.NotFound("The resource could not be found.")
        handler(req, resp, **params)

    gated.__name__ = handler.__name__
    gated.__doc__ = handler.__doc__
    return gated


def require_json(req: Request) -> None:
    """415 unless the body is declared JSON; checked before anything else, as Placement."""
    media_type = (req.content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise errors.UnsupportedMediaType(
            f"The media type {req.content_type or 'None'} is not supported, "
            "use application/json")


def json_body(req: Request, schema: Schema | None = None) -> Any:
    """The JSON body: 415 for another media type, 400 for bad JSON or a schema mismatch."""
    require_json(req)
    raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge(f"Request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.BadRequest(f"Malformed JSON: {exc}") from None
    return schema.validate(body) if schema is not None else body


def query(req: Request, schema: Schema) -> dict[str, str]:
    """The query string as {name: value}, validated by ``schema``.

    A repeated key keeps its last value here; handlers that accept repeats
    (``member_of``, ``required``) read ``req.get_param_as_list`` themselves.
    """
    params = {key: value[-1] if isinstance(value, list) else value
              for key, value in req.params.items()}
    return schema.validate(params)


def check_accept(req: Request) -> None:
    """A GET that names an Accept header must accept JSON (406 otherwise)."""
    accept = req.get_header("Accept")
    if accept and not req.client_accepts("application/json"):
        raise errors.NotAcceptable("Only application/json is provided")


# Query parameters of GET /resource_providers answered by the candidates filters.
CANDIDATE_FILTERS = ("member_of", "resources", "required")


def provider_filter(req: Request, conn):
    """A subquery of provider ids matching member_of/resources/required, or None."""
    if not any(req.get_param(name) is not None for name in CANDIDATE_FILTERS):
        return None
    filters = parse_provider_filters(req.params, req.version)
    filters.in_tree = None  # list_providers applies in_tree itself
    try:
        return candidates.matching_provider_ids(conn, filters)
    except candidates.NoSuchResourceClass as exc:
        raise errors.BadRequest(
            f"Invalid resource class in resources parameter: {exc}") from None
    except candidates.NoSuchTrait as exc:
        raise errors.BadRequest(f'Invalid trait(s) in "required" parameter: {exc}') from None
