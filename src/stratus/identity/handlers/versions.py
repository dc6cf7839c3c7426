"""Version discovery: GET / (Multiple Choices) and GET /v3."""

from stratus.common.wsgi.app import send

UPDATED = "2024-04-01T00:00:00Z"
MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def _v3(base: str) -> dict:
    return {"id": "v3.14", "status": "stable", "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{base}/v3/"}], "media-types": MEDIA_TYPES}


def root(req, resp):
    send(resp, {"versions": {"values": [_v3(req.prefix)]}}, status=300)


def v3(req, resp):
    send(resp, {"version": _v3(req.prefix)})
