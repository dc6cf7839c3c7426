"""JSON bodies of images and members, shaped and linked as Glance v2 shapes them."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

_CORE = ("name", "disk_format", "container_format", "visibility", "size", "virtual_size",
         "status", "checksum", "protected", "min_ram", "min_disk", "owner", "os_hidden",
         "os_hash_algo", "os_hash_value")


def isotime(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def image(row: dict) -> dict:
    """An image: custom properties at the top level beside the core attributes."""
    body = dict(row["properties"])
    for key in _CORE:
        body[key] = row[key]
    body.update(id=row["id"], created_at=isotime(row["created_at"]),
                updated_at=isotime(row["updated_at"]), tags=list(row["tags"]),
                self=f"/v2/images/{row['id']}", file=f"/v2/images/{row['id']}/file",
                schema="/v2/schemas/image")
    return body


def images(rows: list[dict], params: list[tuple[str, str]], limit: int) -> dict:
    """A page of images; ``next`` repeats the query with the last id as marker when the
    page is full (Glance's rule: a full page may have a successor)."""
    query = [(k, v) for k, v in params if k != "marker"]
    body = {"images": [image(r) for r in rows],
            "first": "/v2/images" + (f"?{urlencode(query)}" if query else ""),
            "schema": "/v2/schemas/images"}
    if rows and len(rows) == limit:
        body["next"] = "/v2/images?" + urlencode([*query, ("marker", rows[-1]["id"])])
    return body


def member(row: dict) -> dict:
    return {"created_at": isotime(row["created_at"]), "updated_at": isotime(row["updated_at"]),
            "image_id": row["image_id"], "member_id": row["member"], "status": row["status"],
            "schema": "/v2/schemas/member"}


def members(rows: list[dict]) -> dict:
    return {"members": [member(r) for r in rows], "schema": "/v2/schemas/members"}
