"""HTTP rules Placement enforces before any handler runs (a Falcon middleware).

- Content-Length must be an integer, and a body needs a Content-Type;
- a method the route does not have (OPTIONS included, unless CORS answered it first)
  is 405 with an ``Allow`` header listing the route's own methods.
"""

from __future__ import annotations

import html

from stratus.common.wsgi import errors


class PlacementHTTP:
    """See the module docstring."""

    def process_request(self, req, resp) -> None:
        length = req.get_header("Content-Length")
        if length is None:
            return
        try:
            size = int(length)
        except ValueError:
            raise errors.BadRequest("content-length header must be an integer") from None
        if size > 0 and not req.content_type:
            raise errors.BadRequest("content-type header required when content-length > 0")

    def process_resource(self, req, resp, resource, params) -> None:
        route = getattr(resource, "route", None)
        if route is None or req.method in route.methods:
            return
        raise errors.MethodNotAllowed(
            f"The method {req.method} is not allowed for this resource.",
            headers={"Allow": ", ".join(sorted(route.methods))})

    def process_response(self, req, resp, resource, ok: bool) -> None:
        # An error for a client that takes HTML but not JSON is rendered as HTML, as
        # Placement (through WebOb) does.
        accept = req.get_header("Accept")
        if not accept or not isinstance(resp.media, dict) or "errors" not in resp.media:
            return
        if req.client_accepts("application/json") or not req.client_accepts("text/html"):
            return
        error = resp.media["errors"][0]
        title = f"{error['status']} {error['title']}"
        resp.media = None
        resp.content_type = "text/html; charset=UTF-8"
        resp.text = (f"<html>\n <head>\n  <title>{html.escape(title)}</title>\n </head>\n"
                     f" <body>\n  <h1>{html.escape(title)}</h1>\n  "
                     f"{html.escape(error['detail'])}<br /><br />\n\n\n\n </body>\n</html>")


def typeless_when_empty(app):
    """WSGI wrapper: a response without a body names no media type (Placement's 201s).

    Falcon gives every response a default Content-Type; clients of Placement check
    that bodiless answers have none.
    """

    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            if ("Content-Length", "0") in headers or ("content-length", "0") in headers:
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped
