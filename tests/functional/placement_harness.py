"""A standalone placement service on a real socket (noauth2), and a small HTTP client."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from harness import free_port

from stratus.common.db import Databases, migration
from stratus.common.policy import Policy
from stratus.common.wsgi.dispatch import PrefixDispatcher
from stratus.common.wsgi.server import Server
from stratus.placement import app as placement_app

LATEST = "placement 1.39"


@dataclass
class Placement:
    """A running placement: base URL, and helpers that send admin requests."""

    url: str
    server: Server
    databases: Databases
    session: requests.Session

    def request(self, method: str, path: str, *, version: str | None = LATEST,
                token: str = "admin", json=None, headers: dict | None = None,
                **kwargs) -> requests.Response:
        sent = {"X-Auth-Token": token}
        if version:
            sent["OpenStack-API-Version"] = version
        sent.update(headers or {})
        return self.session.request(method, self.url + path, json=json, headers=sent,
                                    **kwargs)

    def fresh(self) -> Placement:
        """The same placement through a new HTTP session (one per thread)."""
        return Placement(self.url, self.server, self.databases, requests.Session())

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # --- set-up shortcuts -------------------------------------------------------------

    def provider(self, name: str, parent: str | None = None, **inventory: int) -> str:
        """Create a provider (optionally with inventory {CLASS: total}); returns its uuid."""
        body = {"name": name}
        if parent:
            body["parent_provider_uuid"] = parent
        resp = self.post("/resource_providers", body)
        assert resp.status_code == 200, resp.text
        uuid = resp.json()["uuid"]
        if inventory:
            self.set_inventory(uuid, {rc: {"total": total} for rc, total in inventory.items()})
        return uuid

    def set_inventory(self, uuid: str, inventories: dict) -> dict:
        generation = self.get(f"/resource_providers/{uuid}").json()["generation"]
        resp = self.put(f"/resource_providers/{uuid}/inventories",
                        {"resource_provider_generation": generation,
                         "inventories": inventories})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def allocate(self, consumer: str, allocations: dict, *, generation=None,
                 project: str = "p1", user: str = "u1",
                 consumer_type: str = "INSTANCE") -> requests.Response:
        return self.put(f"/allocations/{consumer}", {
            "allocations": {rp: {"resources": res} for rp, res in allocations.items()},
            "project_id": project, "user_id": user, "consumer_generation": generation,
            "consumer_type": consumer_type})


def start_placement(conf, threads: int = 8, mount: str = "/placement",
                    port: int | None = None) -> Placement:
    """Sync the placement database of ``conf`` and serve placement under ``mount`` (on
    ``port``, default a free one)."""
    conf.set_override("auth_strategy", "noauth2", group="placement")
    databases = Databases(conf)
    engine = databases.engine("placement")
    migration.sync("placement", engine)
    service = placement_app.make_service(conf, engine, Policy(conf))
    port = port or free_port()
    app = placement_app.make_app(conf, service)
    if mount:
        app = PrefixDispatcher({mount: app})
    server = Server(app, "127.0.0.1", port, threads=threads)
    server.start()
    return Placement(f"http://127.0.0.1:{port}{mount}", server, databases,
                     requests.Session())


def stop_placement(placement: Placement) -> None:
    placement.server.stop()
    placement.session.close()
    placement.databases.dispose()
