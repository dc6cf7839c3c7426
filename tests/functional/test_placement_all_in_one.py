"""Placement inside the all-in-one: mounted at /placement, in the catalog, admin-only."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from test_all_in_one_cli import aio, osc  # noqa: F401  (the module-scoped process fixture)


def test_catalog_lists_placement_at_its_mount(cloud):
    token = cloud.admin_token()
    resp = requests.get(f"{cloud.identity}/v3/auth/catalog", headers={"X-Auth-Token": token})
    entries = [e for e in resp.json()["catalog"] if e["type"] == "placement"]
    assert entries and entries[0]["endpoints"][0]["url"] == f"{cloud.url}/placement"


def test_admin_token_may_write_and_member_is_forbidden(cloud):
    url = f"{cloud.url}/placement/resource_providers"
    admin = {"X-Auth-Token": cloud.admin_token(), "OpenStack-API-Version": "placement 1.39"}
    demo = {"X-Auth-Token": cloud.demo_token(), "OpenStack-API-Version": "placement 1.39"}
    created = requests.post(url, json={"name": f"aio-{uuid.uuid4().hex[:8]}"}, headers=admin)
    assert created.status_code == 200
    assert requests.get(url, headers=demo).status_code == 403
    assert requests.get(url).status_code == 401
    assert requests.get(f"{cloud.url}/placement/").json()["versions"][0]["max_version"] == "1.39"


@pytest.mark.slow
def test_osc_placement_commands_work_against_the_all_in_one(aio):  # noqa: F811
    def run(*args: str) -> list | dict:
        done = osc(aio, "stratus", *args, "-f", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    rp = run("resource", "provider", "create", "cli-node")
    assert rp["name"] == "cli-node"
    assert any(p["uuid"] == rp["uuid"] for p in run("resource", "provider", "list"))
    inventory = run("resource", "provider", "inventory", "set", rp["uuid"],
                    "--resource", "VCPU=8", "--resource", "MEMORY_MB=4096")
    assert {row["resource_class"] for row in inventory} == {"VCPU", "MEMORY_MB"}
    candidates = run("--os-placement-api-version", "1.10", "allocation", "candidate", "list",
                     "--resource", "VCPU=1")
    assert candidates and rp["uuid"] in json.dumps(candidates)
    usage = run("resource", "provider", "usage", "show", rp["uuid"])
    assert {row["resource_class"]: row["usage"] for row in usage} == {"VCPU": 0,
                                                                      "MEMORY_MB": 0}
