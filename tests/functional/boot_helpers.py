"""Helpers for end-to-end tests on an all-in-one with fake compute hosts: boot, wait, read
Placement, all through the public HTTP APIs."""

from __future__ import annotations

import time

import requests
from compute_helpers import Compute

PLACEMENT_VERSION = "placement 1.36"


def default_image(cloud, token: str) -> str:
    """The id of the all-in-one's default image, ``stratus-tiny``."""
    resp = requests.get(f"{cloud.url}/image/v2/images", params={"name": "stratus-tiny"},
                        headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.text
    return resp.json()["images"][0]["id"]


def boot(compute: Compute, name: str, flavor: str, image: str, **extra) -> dict:
    """POST /servers; the 202 body's server, or the reservation for return_reservation_id."""
    body = {"server": {"name": name, "imageRef": image, "flavorRef": flavor,
                       "networks": "none", **extra.pop("server", {})}, **extra}
    resp = compute.post("/servers", body)
    assert resp.status_code == 202, resp.text
    return resp.json().get("server") or resp.json()


def show(compute: Compute, server_id: str) -> dict:
    resp = compute.get(f"/servers/{server_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()["server"]


def wait_for(compute: Compute, server_id: str, *statuses: str, timeout: float = 30,
             settled: bool = True) -> dict:
    """Poll until the server's status is one of ``statuses`` (and, if ``settled``, it has
    no task state); fail with the last body seen at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        server = show(compute, server_id)
        if server["status"] in statuses and \
                (not settled or server.get("OS-EXT-STS:task_state") is None):
            return server
        if time.monotonic() > deadline:
            raise AssertionError(f"server {server_id} did not reach {statuses}: {server}")
        time.sleep(0.05)


def wait_gone(compute: Compute, server_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while compute.get(f"/servers/{server_id}").status_code != 404:
        if time.monotonic() > deadline:
            raise AssertionError(f"server {server_id} still there: "
                                 f"{compute.get(f'/servers/{server_id}').text}")
        time.sleep(0.05)


class Placement:
    """Reads of the all-in-one's Placement API with an admin token."""

    def __init__(self, cloud, token: str):
        self.base = f"{cloud.url}/placement"
        self.headers = {"X-Auth-Token": token, "OpenStack-API-Version": PLACEMENT_VERSION}

    def get(self, path: str, **params) -> dict:
        resp = requests.get(self.base + path, headers=self.headers, params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def providers(self) -> list[dict]:
        """The providers that are no shared pool (the network service's IP pools are)."""
        return self.get("/resource_providers",
                        required="!MISC_SHARES_VIA_AGGREGATE")["resource_providers"]

    def provider_named(self, name: str) -> dict:
        found = self.get("/resource_providers", name=name)["resource_providers"]
        assert len(found) == 1, found
        return found[0]

    def usages(self, rp_uuid: str) -> dict[str, int]:
        return self.get(f"/resource_providers/{rp_uuid}/usages")["usages"]

    def inventories(self, rp_uuid: str) -> dict[str, dict]:
        return self.get(f"/resource_providers/{rp_uuid}/inventories")["inventories"]

    def allocations(self, consumer: str) -> dict[str, dict]:
        return self.get(f"/allocations/{consumer}")["allocations"]


def capacity(inventory: dict) -> int:
    """What a provider can hand out of one class: (total - reserved) * allocation_ratio."""
    return int((inventory["total"] - inventory["reserved"]) * inventory["allocation_ratio"])


def flavor_usage(flavor: dict) -> dict[str, int]:
    """The usage one server of ``flavor`` puts on its host."""
    usage = {"VCPU": flavor["vcpus"], "MEMORY_MB": flavor["ram"]}
    disk = flavor["disk"] + flavor.get("OS-FLV-EXT-DATA:ephemeral", 0) + \
        (flavor.get("swap") or 0) // 1024
    if disk:
        usage["DISK_GB"] = disk
    return usage


def make_flavor(compute: Compute, name: str, ram: int, vcpus: int, disk: int) -> dict:
    resp = compute.post("/flavors", {"flavor": {"name": name, "ram": ram, "vcpus": vcpus,
                                                "disk": disk}})
    assert resp.status_code == 200, resp.text
    return resp.json()["flavor"]
