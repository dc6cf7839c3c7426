"""GET /: the version document clients negotiate from."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.placement import versions, views


def home(req: Request, resp) -> None:
    body = {"versions": [{
        "id": f"v{versions.MIN}", "min_version": str(versions.MIN),
        "max_version": str(versions.MAX), "status": "CURRENT",
        # A relative link: placement never needs to know the address it is reached by.
        "links": [{"rel": "self", "href": ""}]}]}
    send(resp, body)
    views.cache_headers(req, resp, None)
