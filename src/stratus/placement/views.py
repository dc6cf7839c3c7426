"""Render placement rows as API bodies, and the cache headers of microversion 1.15."""

from __future__ import annotations

import datetime
from email.utils import format_datetime

from stratus.common.wsgi.app import Request
from stratus.placement import db


def http_date(moment: datetime.datetime | None) -> str:
    """An HTTP date for ``moment`` (naive UTC), or for now."""
    moment = moment or db.utcnow()
    return format_datetime(moment.replace(tzinfo=datetime.UTC), usegmt=True)


def cache_headers(req: Request, resp, last_modified: datetime.datetime | None) -> None:
    """From 1.15 GETs say when their data last changed, and that it must not be cached."""
    if req.version.matches((1, 15)):
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("Last-Modified", http_date(last_modified))


def newest(*moments) -> datetime.datetime | None:
    """The latest of ``moments`` (None ones ignored)."""
    found = [m for m in moments if m is not None]
    return max(found) if found else None


def provider_url(req: Request, uuid: str) -> str:
    return f"{req.root_path}/resource_providers/{uuid}"


def provider(req: Request, row) -> dict:
    """One provider as the negotiated microversion shows it."""
    url = provider_url(req, row.uuid)
    rels = ["inventories", "usages"]
    if req.version.matches((1, 1)):
        rels.append("aggregates")
    if req.version.matches((1, 6)):
        rels.append("traits")
    if req.version.matches((1, 11)):
        rels.append("allocations")
    body = {"uuid": row.uuid, "name": row.name, "generation": row.generation,
            "links": [{"rel": "self", "href": url},
                      *({"rel": rel, "href": f"{url}/{rel}"} for rel in rels)]}
    if req.version.matches((1, 14)):
        body["parent_provider_uuid"] = row.parent_provider_uuid
        body["root_provider_uuid"] = row.root_provider_uuid
    return body


def inventory(record: dict) -> dict:
    return {f: record[f] for f in ("total", "reserved", "min_unit", "max_unit", "step_size",
                                   "allocation_ratio")}


def resource_class(req: Request, row) -> dict:
    return {"name": row.name, "links": [
        {"rel": "self", "href": f"{req.root_path}/resource_classes/{row.name}"}]}


def absolute(req: Request, path: str) -> str:
    """``path`` (already under the mount point) as an absolute URL, for Location headers."""
    return f"{req.scheme}://{req.netloc}{path}"
