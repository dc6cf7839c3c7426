"""Nova's image proxy bodies (``/images``), rendered from Glance v2 image records."""

from __future__ import annotations

import datetime

from stratus.compute_api import image_api
from stratus.compute_api.views import isotime, links

# Glance status -> (Nova status, progress); anything else is UNKNOWN at 0%.
_STATUS = {"active": ("ACTIVE", 100), "queued": ("SAVING", 25), "saving": ("SAVING", 50),
           "deleted": ("DELETED", 0), "pending_delete": ("DELETED", 0),
           "killed": ("ERROR", 0)}


def _timestamp(value: str | None) -> str | None:
    """Glance's ISO 8601 time as Nova shows it: 2016-01-01T00:00:00Z."""
    if not value:
        return None
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return isotime(parsed.replace(microsecond=0))


def location(glance_endpoint: str, image_id: str) -> str:
    """The image's URL in the image service, as Nova writes it (its ``alternate`` link and
    createImage's ``Location``); clients read the id from its end."""
    return f"{glance_endpoint}/images/{image_id}"


def _links(base: str, glance_endpoint: str, image_id: str) -> list[dict]:
    return [*links(base, "images", image_id),
            {"rel": "alternate", "type": "application/vnd.openstack.image",
             "href": location(glance_endpoint, image_id)}]


def summary(base: str, glance_endpoint: str, image: dict) -> dict:
    return {"id": image["id"], "name": image.get("name"),
            "links": _links(base, glance_endpoint, image["id"])}


def detail(base: str, glance_endpoint: str, image: dict) -> dict:
    status, progress = _STATUS.get(image.get("status"), ("UNKNOWN", 0))
    metadata = image_api.properties(image)
    body = {
        "id": image["id"], "name": image.get("name"),
        "minRam": int(image.get("min_ram") or 0), "minDisk": int(image.get("min_disk") or 0),
        "metadata": metadata, "created": _timestamp(image.get("created_at")),
        "updated": _timestamp(image.get("updated_at")), "status": status,
        "progress": progress, "OS-EXT-IMG-SIZE:size": image.get("size"),
        "links": _links(base, glance_endpoint, image["id"]),
    }
    server = metadata.get("instance_uuid")
    if server is not None:
        body["server"] = {"id": server, "links": links(base, "servers", server)}
    disk_config = metadata.get("auto_disk_config")
    if disk_config is not None:
        auto = str(disk_config).strip().lower() in ("1", "t", "true", "on", "y", "yes")
        body["OS-DCF:diskConfig"] = "AUTO" if auto else "MANUAL"
    return body
