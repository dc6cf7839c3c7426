"""Version discovery: GET / and GET /v2.1 (public, any microversion)."""

from __future__ import annotations

from stratus.common.wsgi.app import send
from stratus.compute_api import versions

UPDATED = "2013-07-23T11:33:21Z"


def _v21(base: str) -> dict:
    return {"id": "v2.1", "status": "CURRENT", "version": str(versions.MAX),
            "min_version": str(versions.MIN), "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{base}/v2.1/"},
                      {"rel": "describedby", "type": "text/html",
                       "href": "https://docs.openstack.org/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


def root(req, resp) -> None:
    send(resp, {"versions": [_v21(req.prefix)]})


def v21(req, resp) -> None:
    send(resp, {"version": _v21(req.prefix)})
