"""Placement state written through its HTTP API, for tests of what clients then read.

Same shape as :class:`placement_seed.Seed` (which writes SQL, for data-layer tests):
``provider()`` with inventory, traits and aggregates, ``allocate()``, and the names
it gave out (``uuids``, ``aggs``). Every call must succeed, so a set-up the API would
refuse fails the test at the line that asked for it.
"""

from __future__ import annotations

import uuid

import requests

VERSION = "placement 1.39"


class ApiSeed:
    """Providers, inventories, traits, aggregates and allocations made through the API."""

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token, "OpenStack-API-Version": VERSION})
        self.uuids: dict[str, str] = {}
        self.aggs: dict[str, str] = {}

    def call(self, method: str, path: str, body=None, ok=(200, 201, 204)):
        resp = self.session.request(method, self.url + path, json=body)
        assert resp.status_code in ok, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def provider(self, name: str, parent: str | None = None, inventory: dict | None = None,
                 traits: tuple[str, ...] = (), aggs: tuple[str, ...] = ()) -> str:
        body = {"name": name}
        if parent:
            body["parent_provider_uuid"] = self.uuids[parent]
        created = self.call("POST", "/resource_providers", body, ok=(200,))
        rp, generation = created["uuid"], created["generation"]
        self.uuids[name] = rp
        if inventory:
            records = {rc: {"total": spec} if isinstance(spec, int) else dict(spec)
                       for rc, spec in inventory.items()}
            for rc in records:
                if rc.startswith("CUSTOM_"):
                    self.call("PUT", f"/resource_classes/{rc}", ok=(201, 204))
            generation = self.call("PUT", f"/resource_providers/{rp}/inventories", {
                "resource_provider_generation": generation,
                "inventories": records})["resource_provider_generation"]
        if traits:
            for trait in traits:
                if trait.startswith("CUSTOM_"):
                    self.call("PUT", f"/traits/{trait}", ok=(201, 204))
            generation = self.call("PUT", f"/resource_providers/{rp}/traits", {
                "resource_provider_generation": generation,
                "traits": list(traits)})["resource_provider_generation"]
        if aggs:
            self.call("PUT", f"/resource_providers/{rp}/aggregates", {
                "resource_provider_generation": generation,
                "aggregates": [self.aggs.setdefault(a, str(uuid.uuid4())) for a in aggs]})
        return rp

    def allocate(self, name: str, rc: str, used: int) -> None:
        """Consume ``used`` units of ``rc`` on ``name``, in as many consumers as the
        inventory's max_unit needs (each a multiple of its step_size)."""
        rp = self.uuids[name]
        inv = self.call("GET", f"/resource_providers/{rp}/inventories/{rc}")
        chunk = inv["max_unit"] - inv["max_unit"] % inv["step_size"]
        while used > 0:
            amount = min(used, chunk)
            self.call("PUT", f"/allocations/{uuid.uuid4()}", {
                "allocations": {rp: {"resources": {rc: amount}}},
                "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
                "consumer_generation": None, "consumer_type": "INSTANCE"})
            used -= amount

    def clear(self) -> None:
        """Delete every allocation and provider (children before parents)."""
        listed = self.call("GET", "/resource_providers")["resource_providers"]
        consumers = set()
        for p in listed:
            consumers |= set(self.call(
                "GET", f"/resource_providers/{p['uuid']}/allocations")["allocations"])
        for consumer in consumers:
            self.call("DELETE", f"/allocations/{consumer}")
        left = {p["uuid"]: p["parent_provider_uuid"] for p in listed}
        while left:
            parents = set(left.values())
            for rp in [rp for rp in left if rp not in parents]:
                self.call("DELETE", f"/resource_providers/{rp}")
                del left[rp]
        self.uuids.clear()
