"""Fresh images for the image policy matrix: ``{new_*}`` placeholders.

Every image is made by the owning project's member, so it belongs to ``{project_id}``.
"""

from __future__ import annotations

import uuid

import requests
from personas import World


def _call(world: World, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"X-Auth-Token": world.tokens["member"], **kwargs.pop("headers", {})}
    resp = requests.request(method, f"{world.cloud.url}/image/v2{path}", headers=headers,
                            **kwargs)
    assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
    return resp


def new_image_id(world: World, persona: str, **attributes) -> str:
    """A queued private image of the owning project."""
    return _call(world, "POST", "/images", json={
        "name": f"matrix-{uuid.uuid4().hex[:8]}", "disk_format": "raw",
        "container_format": "bare", **attributes}).json()["id"]


def active_image_id(world: World, persona: str) -> str:
    """An active private image of the owning project (its data uploaded)."""
    image_id = new_image_id(world, persona)
    _call(world, "PUT", f"/images/{image_id}/file", data=b"matrix data",
          headers={"Content-Type": "application/octet-stream"})
    return image_id


def deactivated_image_id(world: World, persona: str) -> str:
    image_id = active_image_id(world, persona)
    _call(world, "POST", f"/images/{image_id}/actions/deactivate")
    return image_id


def shared_image_id(world: World, persona: str) -> str:
    """A private image of the owning project shared with ``{other_project_id}``."""
    image_id = new_image_id(world, persona)
    _call(world, "POST", f"/images/{image_id}/members",
          json={"member": world.values["other_project_id"]})
    return image_id


FACTORIES = {
    "new_image_id": new_image_id,
    "tagged_image_id": lambda world, persona: new_image_id(world, persona, tags=["matrix"]),
    "active_image_id": active_image_id,
    "deactivated_image_id": deactivated_image_id,
    "shared_image_id": shared_image_id,
}
