"""The five personas every policy test speaks as, made through the real identity API.

- ``admin``: the cloud admin (admin role on the admin project);
- ``member`` / ``reader``: member / reader of the owning project (``{project_id}``);
- ``other_member``: member of another project (``{other_project_id}``);
- ``no_role``: a user with no role anywhere (an unscoped token).

A :class:`World` also fills ``{placeholders}`` in matrix rows: the ids above, the caller's
own ``{user_id}`` and ``{token}``, ``{unique}`` (a fresh name), and ``{new_*}`` values
made fresh by an API's factories.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from harness import Cloud

PERSONAS = ("admin", "member", "reader", "other_member", "no_role")
PASSWORD = "persona-secret-1"
_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")


@dataclass
class World:
    """Projects, users and tokens of the personas in one running cloud."""

    cloud: Cloud
    admin_token: str
    values: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)
    factories: dict[str, Callable[[World, str], str]] = field(default_factory=dict)

    def identity(self, method: str, path: str, body: dict | None = None) -> dict:
        """An admin call to the identity API; the JSON answer ({} when it has none)."""
        resp = requests.request(method, f"{self.cloud.identity}{path}", json=body,
                                headers={"X-Auth-Token": self.admin_token})
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else {}

    def new_project(self) -> str:
        name = f"p-{uuid.uuid4().hex[:8]}"
        return self.identity("POST", "/v3/projects", {"project": {"name": name}})["project"]["id"]

    def new_user(self, password: str = PASSWORD) -> str:
        name = f"u-{uuid.uuid4().hex[:8]}"
        return self.identity("POST", "/v3/users", {"user": {
            "name": name, "password": password}})["user"]["id"]

    def role_id(self, name: str) -> str:
        roles = self.identity("GET", f"/v3/roles?name={name}")["roles"]
        return roles[0]["id"]

    def grant(self, user_id: str, project_id: str, role: str) -> None:
        self.identity("PUT", f"/v3/projects/{project_id}/users/{user_id}/roles/"
                             f"{self.role_id(role)}")

    def login(self, user_id: str, project_id: str | None) -> str:
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"id": user_id, "password": PASSWORD}}}}}
        body["auth"]["scope"] = {"project": {"id": project_id}} if project_id else "unscoped"
        resp = requests.post(f"{self.cloud.identity}/v3/auth/tokens", json=body)
        assert resp.status_code == 201, resp.text
        return resp.headers["X-Subject-Token"]

    def fill(self, value, persona: str):
        """``value`` with every ``{name}`` replaced, recursively through lists and dicts.

        Dict keys are filled too: placement bodies are keyed by provider and consumer.
        """
        if isinstance(value, dict):
            return {self.fill(k, persona): self.fill(v, persona) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v, persona) for v in value]
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda m: self.lookup(m.group(1), persona), value)
        return value

    def lookup(self, name: str, persona: str) -> str:
        if name == "user_id":
            return self.user_ids[persona]
        if name == "token":
            return self.tokens[persona]
        if name == "unique":
            return uuid.uuid4().hex[:12]
        if name in self.factories:
            return self.factories[name](self, persona)
        if name not in self.values:
            known = sorted([*self.values, *self.factories, "user_id", "token", "unique"])
            raise KeyError(f"unknown placeholder {{{name}}}; known: {known}")
        return self.values[name]


def make_world(cloud: Cloud) -> World:
    admin_token = cloud.admin_token()
    world = World(cloud, admin_token)
    owner, other = world.new_project(), world.new_project()
    members = {"member": (owner, "member"), "reader": (owner, "reader"),
               "other_member": (other, "member"), "no_role": (None, None)}
    admin_user = requests.get(f"{cloud.identity}/v3/auth/tokens", headers={
        "X-Auth-Token": admin_token, "X-Subject-Token": admin_token}).json()["token"]["user"]
    world.user_ids["admin"] = admin_user["id"]
    world.tokens["admin"] = admin_token
    for persona, (project, role) in members.items():
        user_id = world.new_user()
        if project:
            world.grant(user_id, project, role)
        world.user_ids[persona] = user_id
        world.tokens[persona] = world.login(user_id, project)
        world.values[f"{persona}_user_id"] = user_id
    world.values.update(project_id=owner, other_project_id=other,
                        admin_user_id=admin_user["id"])
    for role in ("admin", "member", "reader"):
        world.values[f"{role}_role_id"] = world.role_id(role)
    return world
