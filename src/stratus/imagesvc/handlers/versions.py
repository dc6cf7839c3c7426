"""Version discovery (GET / and /versions) and the schema documents (/v2/schemas/*)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import NotFound
from stratus.imagesvc import schemas

# Glance 2.7 (Rocky) is the newest API whose every feature this service implements.
CURRENT = 7


def _versions(req: Request) -> dict:
    href = f"{req.prefix}/v2/"
    return {"versions": [
        {"id": f"v2.{minor}", "status": "CURRENT" if minor == CURRENT else "SUPPORTED",
         "links": [{"rel": "self", "href": href}]}
        for minor in range(CURRENT, -1, -1)]}


def root(req: Request, resp) -> None:
    send(resp, _versions(req), status=300)


def versions(req: Request, resp) -> None:
    send(resp, _versions(req))


def schema(req: Request, resp, name: str) -> None:
    if name not in schemas.DOCUMENTS:
        raise NotFound(f"No schema named {name}")
    send(resp, schemas.document(name))
