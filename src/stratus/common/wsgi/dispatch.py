"""Serve several WSGI apps on one port by path prefix (/identity, /compute, ...)."""

from __future__ import annotations

import orjson


class PrefixDispatcher:
    """Routes a request to the app mounted at the longest matching path prefix.

    The prefix moves from PATH_INFO to SCRIPT_NAME, so each app sees paths relative
    to its mount point and builds absolute links from SCRIPT_NAME.
    """

    def __init__(self, mounts: dict[str, object]):
        self._mounts = sorted(((p.rstrip("/"), app) for p, app in mounts.items()),
                              key=lambda item: len(item[0]), reverse=True)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        for prefix, app in self._mounts:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix):]
                return app(environ, start_response)
        if path == "/":
            return self._index(environ, start_response)
        body = orjson.dumps({"error": {"code": 404, "title": "Not Found",
                                       "message": f"No service is mounted at {path}."}})
        start_response("404 Not Found", [("Content-Type", "application/json"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    def _index(self, environ, start_response):
        base = _base_url(environ)
        body = orjson.dumps({"services": [{"path": prefix, "url": base + prefix}
                                          for prefix, _ in sorted(self._mounts)]})
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]


def _base_url(environ) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}"
