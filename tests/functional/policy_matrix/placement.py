"""Fresh placement resources for the placement policy matrix: ``{new_*}`` placeholders.

Made by the cloud admin; every default of placement is for admins and services.
"""

from __future__ import annotations

import uuid

import requests
from personas import World

HEADERS = {"OpenStack-API-Version": "placement 1.39"}


def _call(world: World, method: str, path: str, body=None) -> dict:
    resp = requests.request(method, f"{world.cloud.url}/placement{path}", json=body,
                            headers={"X-Auth-Token": world.admin_token, **HEADERS})
    assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
    return resp.json() if resp.content else {}


def new_rp_uuid(world: World, persona: str) -> str:
    return _call(world, "POST", "/resource_providers",
                 {"name": f"matrix-{uuid.uuid4().hex[:8]}"})["uuid"]


def stocked_rp_uuid(world: World, persona: str) -> str:
    """A provider with 8 VCPU to allocate from."""
    rp = new_rp_uuid(world, persona)
    # POST, not PUT: the update rule's own rows must not depend on it being allowed.
    _call(world, "POST", f"/resource_providers/{rp}/inventories",
          {"resource_class": "VCPU", "total": 8})
    return rp


def allocated_consumer_uuid(world: World, persona: str) -> str:
    """A consumer holding 1 VCPU of a fresh provider."""
    consumer = str(uuid.uuid4())
    _call(world, "PUT", f"/allocations/{consumer}", {
        "allocations": {stocked_rp_uuid(world, persona): {"resources": {"VCPU": 1}}},
        "project_id": world.values["project_id"], "user_id": world.user_ids["member"],
        "consumer_generation": None, "consumer_type": "INSTANCE"})
    return consumer


def new_resource_class(world: World, persona: str) -> str:
    name = f"CUSTOM_MATRIX_{uuid.uuid4().hex[:8].upper()}"
    _call(world, "PUT", f"/resource_classes/{name}")
    return name


def new_trait(world: World, persona: str) -> str:
    name = f"CUSTOM_MATRIX_{uuid.uuid4().hex[:8].upper()}"
    _call(world, "PUT", f"/traits/{name}")
    return name


FACTORIES = {
    "new_rp_uuid": new_rp_uuid,
    "stocked_rp_uuid": stocked_rp_uuid,
    "allocated_consumer_uuid": allocated_consumer_uuid,
    "new_consumer_uuid": lambda world, persona: str(uuid.uuid4()),
    "new_resource_class": new_resource_class,
    "new_custom_name": lambda world, persona: f"CUSTOM_MATRIX_{uuid.uuid4().hex[:8].upper()}",
    "new_trait": new_trait,
}
