"""Fresh identity resources for the identity policy matrix: ``{new_*}`` placeholders."""

from __future__ import annotations

import uuid

from personas import World


def new_role_id(world: World, persona: str) -> str:
    name = f"r-{uuid.uuid4().hex[:8]}"
    return world.identity("POST", "/v3/roles", {"role": {"name": name}})["role"]["id"]


def new_service_id(world: World, persona: str) -> str:
    return world.identity("POST", "/v3/services", {"service": {
        "type": f"t-{uuid.uuid4().hex[:8]}", "name": "matrix"}})["service"]["id"]


def new_endpoint_id(world: World, persona: str) -> str:
    return world.identity("POST", "/v3/endpoints", {"endpoint": {
        "service_id": new_service_id(world, persona), "interface": "public",
        "url": "http://matrix.example.com"}})["endpoint"]["id"]


def granted_user_id(world: World, persona: str) -> str:
    """A new user holding the reader role on the owning project."""
    user_id = world.new_user()
    world.grant(user_id, world.values["project_id"], "reader")
    return user_id


def new_member_token(world: World, persona: str) -> str:
    """A fresh token of the owning project's member, safe to revoke."""
    return world.login(world.user_ids["member"], world.values["project_id"])


FACTORIES = {
    "new_project_id": lambda world, persona: world.new_project(),
    "new_user_id": lambda world, persona: world.new_user(),
    "new_role_id": new_role_id,
    "new_service_id": new_service_id,
    "new_endpoint_id": new_endpoint_id,
    "granted_user_id": granted_user_id,
    "new_member_token": new_member_token,
}
