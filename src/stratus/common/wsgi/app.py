"""Build a Falcon WSGI app from a route table, with the middleware every API shares.

Middleware order (Falcon runs process_request top-down, process_response bottom-up):
1. RequestLog: assigns the request id first, so every later line and error carries it.
2. Authenticate: after routing, because the route says whether it needs a token.
3. Microversion: after auth, so an unauthenticated caller learns nothing about versions.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import falcon
import orjson
from oslo_context import context as oslo_context

from stratus.common.context import RequestContext
from stratus.common.wsgi import errors
from stratus.common.wsgi.microversion import Version, VersionRange
from stratus.common.wsgi.spec import Spec

LOG = logging.getLogger("stratus.api")

Handler = Callable[..., None]
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    """One path of an API: its handlers by method, and the policy rule guarding each.

    ``rules`` maps method -> policy rule name. ``actions`` maps method -> {body key ->
    rule} for an action route, whose body's single key picks the rule (Nova's
    ``POST /flavors/{id}/action`` with ``addTenantAccess``); such a method has no entry
    in ``rules``. ``checks`` maps method -> {name -> rule}: the further rules a handler
    checks for a variant of the call (``all_tenants=1``, another project's limits), by
    name, so every rule a handler can check is declared here. ``public`` is True for a
    route that needs no token (version documents, healthcheck), or the methods that need
    none (issuing a token takes credentials, not a token). ``specs`` maps method -> the
    body/query schemas and versions it accepts; the API reference drift test reads them.
    """

    path: str
    methods: dict[str, Handler]
    rules: dict[str, str] = field(default_factory=dict)
    public: bool | frozenset[str] = False
    specs: dict[str, Spec] = field(default_factory=dict)
    actions: dict[str, dict[str, str]] = field(default_factory=dict)
    checks: dict[str, dict[str, str]] = field(default_factory=dict)

    def is_public(self, method: str) -> bool:
        return self.public is True or (bool(self.public) and method in self.public)

    def rule_for(self, method: str, *, action: str | None = None,
                 check: str | None = None) -> str:
        """The rule guarding ``method``: the route's, a body action's, or a named check's.

        KeyError for one the table does not declare: a handler cannot check a rule that
        the policy enumeration and documentation do not know about.
        """
        if action is not None:
            return self.actions[method][action]
        if check is not None:
            return self.checks[method][check]
        return self.rules[method]

    def guards(self, method: str) -> list[tuple[str, str]]:
        """(rule, documented path) for every rule that guards ``method`` of this route.

        An action's path names its body key as OpenStack documents it:
        ``/flavors/{flavor_id}/action (addTenantAccess)``.
        """
        found = [(self.rules[method], self.path)] if method in self.rules else []
        found += [(rule, f"{self.path} ({action})")
                  for action, rule in self.actions.get(method, {}).items()]
        found += [(rule, self.path) for rule in self.checks.get(method, {}).values()]
        return found


class Request(falcon.Request):
    """A Falcon request with the fields Stratus middleware fills in."""

    request_id: str
    route: Route | None = None
    auth: RequestContext | None = None
    version: Version | None = None
    service: Any = None


def _make_resource(route: Route):
    """A Falcon resource object whose on_<method> attributes are the route's handlers."""
    attrs = {"route": route}
    for method, handler in route.methods.items():
        attrs[f"on_{method.lower()}"] = staticmethod(handler)
    return type(f"Resource{route.path}", (), attrs)()


class RequestLog:
    """Request ids in and out, and one log line per request."""

    def __init__(self, request_id_headers: tuple[str, ...]):
        self._headers = request_id_headers

    def process_request(self, req: Request, resp: falcon.Response) -> None:
        req.request_id = f"req-{uuid.uuid4()}"
        req.auth = None
        req.version = None
        req.started = time.monotonic()
        # A context with only the request id, so log lines before auth carry it.
        oslo_context.RequestContext(request_id=req.request_id, overwrite=True)

    def process_response(self, req: Request, resp: falcon.Response, resource, ok: bool) -> None:
        rid = getattr(req, "request_id", None)
        if rid is None:
            return
        for header in self._headers:
            resp.set_header(header, rid)
        elapsed = time.monotonic() - req.started
        LOG.info('%s "%s %s" status: %s time: %.4f', req.remote_addr, req.method,
                 req.relative_uri, resp.status[:3] if isinstance(resp.status, str)
                 else resp.status, elapsed)


class Authenticate:
    """Turn the caller's credentials into ``req.auth``; 401 for non-public routes without."""

    def __init__(self, authenticator):
        self._authenticator = authenticator

    def process_resource(self, req: Request, resp, resource, params) -> None:
        route = getattr(resource, "route", None)
        req.route = route
        if route is None or route.is_public(req.method):
            return
        req.auth = self._authenticator(req)


class Microversion:
    """Negotiate the microversion of every routed request, and echo it back."""

    def __init__(self, versions: VersionRange):
        self._versions = versions

    def process_resource(self, req: Request, resp, resource, params) -> None:
        route = getattr(resource, "route", None)
        if route is None or route.public is True:
            # Version documents and healthchecks answer whatever version was asked.
            return
        req.version = self._versions.negotiate(req.headers)

    def process_response(self, req: Request, resp, resource, ok: bool) -> None:
        if getattr(req, "version", None) is not None:
            for name, value in self._versions.response_headers(req.version):
                resp.append_header(name, value) if name == "Vary" else \
                    resp.set_header(name, value)


class _OrjsonHandler(falcon.media.BaseHandler):
    def serialize(self, media, content_type):
        return orjson.dumps(media)

    def deserialize(self, stream, content_type, content_length):
        return orjson.loads(stream.read())


def _healthcheck(req, resp):
    resp.content_type = falcon.MEDIA_TEXT
    resp.text = "OK"


def build_app(*, routes: list[Route], error_format: errors.ErrorFormat, authenticator,
              service: Any = None, versions: VersionRange | None = None,
              request_id_headers: tuple[str, ...] = ("x-openstack-request-id",)) -> falcon.App:
    """A WSGI app serving ``routes``; every error leaves in ``error_format``'s shape."""
    middleware = [RequestLog(request_id_headers), Authenticate(authenticator)]
    if versions is not None:
        middleware.append(Microversion(versions))

    class _Request(Request):
        pass

    _Request.service = service
    app = falcon.App(request_type=_Request, middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    handler = _OrjsonHandler()
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = handler
    app.req_options.media_handlers[falcon.MEDIA_JSON] = handler

    all_routes = [*routes, Route("/healthcheck", {"GET": _healthcheck, "HEAD": _healthcheck},
                                 public=True)]
    for route in all_routes:
        app.add_route(route.path, _make_resource(route))
    _add_error_handlers(app, error_format)
    return app


def _add_error_handlers(app: falcon.App, error_format: errors.ErrorFormat) -> None:
    def render(req, resp, err: errors.APIError) -> None:
        resp.status = err.status
        for name, value in err.headers.items():
            resp.set_header(name, value)
        if error_format.negotiate is not None:
            resp.content_type, resp.data = error_format.negotiate(err, req.env)
            return
        resp.content_type = falcon.MEDIA_JSON
        resp.media = error_format.render(err, getattr(req, "request_id", ""))

    def api_error(req, resp, ex: errors.APIError, params) -> None:
        render(req, resp, ex)

    def falcon_error(req, resp, ex: falcon.HTTPError, params) -> None:
        status = ex.status_code
        message = ex.description or ex.title
        if status == 404:
            message = "The resource could not be found."
        elif status == 405:
            message = f"The method {req.method} is not allowed for {req.path}."
        err = errors.for_status(status, message)
        if ex.headers:
            err.headers.update(ex.headers)
        render(req, resp, err)

    def unexpected(req, resp, ex: Exception, params) -> None:
        LOG.exception("Unexpected error handling %s %s", req.method, req.path)
        render(req, resp, errors.APIError(
            "An unexpected error prevented the server from fulfilling your request."))

    app.add_error_handler(Exception, unexpected)
    app.add_error_handler(falcon.HTTPError, falcon_error)
    app.add_error_handler(errors.APIError, api_error)


def send(resp: falcon.Response, body: Any = None, status: int = 200,
         headers: dict[str, str] | None = None) -> None:
    """Finish a response: status, JSON body (if any) and extra headers."""
    resp.status = status
    if body is not None:
        resp.media = body
    for name, value in (headers or {}).items():
        resp.set_header(name, value)
