"""Resize on a one-host cloud: refused unless ``allow_resize_to_same_host`` is set, as in
Nova; with it, the server is resized in place and confirm and revert keep its guest, with
Placement's usages right after each step (both flavors held on the one host while the
resize is undecided)."""

from __future__ import annotations

import time

import pytest
from boot_helpers import Placement, boot, default_image, make_flavor, show, wait_for
from compute_helpers import admin, demo
from harness import start_cloud, stop_cloud

from stratus.compute_api.store import migrations as migration_store

pytestmark = pytest.mark.xdist_group("resize_same_host")


def _cloud(tmp_path_factory, name: str, **overrides):
    running = start_cloud(tmp_path_factory.mktemp(name), fake_hosts=1, **overrides)
    compute = admin(running)
    flavors = {"small": make_flavor(compute, "inplace.small", ram=512, vcpus=1, disk=1),
               "big": make_flavor(compute, "inplace.big", ram=1024, vcpus=2, disk=2)}
    return running, flavors


@pytest.fixture(scope="module")
def same_host(tmp_path_factory):
    running, flavors = _cloud(tmp_path_factory, "same-host",
                              allow_resize_to_same_host=True)
    yield running, flavors
    stop_cloud(running)


@pytest.fixture(scope="module")
def one_host(tmp_path_factory):
    running, flavors = _cloud(tmp_path_factory, "one-host")
    yield running, flavors
    stop_cloud(running)


def _sizes(flavor: dict) -> dict[str, int]:
    return {"VCPU": flavor["vcpus"], "MEMORY_MB": flavor["ram"], "DISK_GB": flavor["disk"]}


def _host_provider(cloud, placement: Placement) -> str:
    deadline = time.monotonic() + 30
    while not (providers := placement.providers()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    (provider,) = providers
    return provider["uuid"]


def _allocations(placement: Placement, consumer: str) -> dict[str, dict]:
    return {rp: entry["resources"] for rp, entry in placement.allocations(consumer).items()}


def _migration(cloud, server_id: str) -> dict:
    with cloud.aio.databases.engine("cell1").connect() as conn:
        return migration_store.latest(conn, server_id, ("finished", "post-migrating",
                                                        "confirmed", "reverted"))


def _resize_in_place(cloud, flavors) -> tuple[dict, str, Placement, str]:
    compute = demo(cloud)
    placement = Placement(cloud, admin(cloud).token)
    provider = _host_provider(cloud, placement)
    server = wait_for(compute, boot(compute, "in-place", flavors["small"]["id"],
                                    default_image(cloud, compute.token))["id"], "ACTIVE")
    host = show(admin(cloud), server["id"])["OS-EXT-SRV-ATTR:host"]
    resp = compute.post(f"/servers/{server['id']}/action",
                        {"resize": {"flavorRef": flavors["big"]["id"]}})
    assert resp.status_code == 202, resp.text
    resized = wait_for(compute, server["id"], "VERIFY_RESIZE")
    assert resized["flavor"]["id"] == flavors["big"]["id"]
    assert show(admin(cloud), server["id"])["OS-EXT-SRV-ATTR:host"] == host
    migration = _migration(cloud, server["id"])
    assert (migration["source_compute"], migration["dest_compute"]) == (host, host)
    # Undecided: the one host holds both flavors, the new for the server, the old for the
    # migration record.
    assert _allocations(placement, server["id"]) == {provider: _sizes(flavors["big"])}
    assert _allocations(placement, migration["uuid"]) == {provider: _sizes(flavors["small"])}
    usage = placement.usages(provider)
    assert (usage["VCPU"], usage["MEMORY_MB"]) == (3, 1536)
    return server, migration["uuid"], placement, provider


def _guest_still_there_then_delete(compute, server_id: str) -> None:
    """The guest survived the confirm or revert: it still answers a power action."""
    assert compute.post(f"/servers/{server_id}/action", {"os-stop": None}).status_code == 202
    wait_for(compute, server_id, "SHUTOFF")
    assert compute.delete(f"/servers/{server_id}").status_code == 204


def test_a_one_host_cloud_refuses_a_resize_by_default(one_host):
    cloud, flavors = one_host
    compute = demo(cloud)
    server = wait_for(compute, boot(compute, "stuck", flavors["small"]["id"],
                                    default_image(cloud, compute.token))["id"], "ACTIVE")
    resp = compute.post(f"/servers/{server['id']}/action",
                        {"resize": {"flavorRef": flavors["big"]["id"]}})
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"].startswith("No valid host was found.")
    still = show(compute, server["id"])
    assert (still["status"], still["flavor"]["id"]) == ("ACTIVE", flavors["small"]["id"])
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


@pytest.mark.parametrize(("decision", "status", "kept"), [
    ("confirmResize", 204, "big"), ("revertResize", 202, "small")])
def test_resize_in_place_then_confirm_or_revert_keeps_the_guest(same_host, decision, status,
                                                                kept):
    """Confirm keeps the new flavor, revert gives the old one back; the guest stays."""
    cloud, flavors = same_host
    compute = demo(cloud)
    server, migration_uuid, placement, provider = _resize_in_place(cloud, flavors)

    assert compute.post(f"/servers/{server['id']}/action",
                        {decision: None}).status_code == status
    active = wait_for(compute, server["id"], "ACTIVE")
    assert active["flavor"]["id"] == flavors[kept]["id"]
    deadline = time.monotonic() + 30
    while _allocations(placement, migration_uuid):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert _allocations(placement, server["id"]) == {provider: _sizes(flavors[kept])}
    usage = placement.usages(provider)
    assert (usage["VCPU"], usage["MEMORY_MB"]) == (flavors[kept]["vcpus"],
                                                   flavors[kept]["ram"])
    _guest_still_there_then_delete(compute, server["id"])


def test_a_cold_migration_never_stays_on_the_host(same_host):
    cloud, flavors = same_host
    compute, operator = demo(cloud), admin(cloud)
    server = wait_for(compute, boot(compute, "nowhere-to-go", flavors["small"]["id"],
                                    default_image(cloud, compute.token))["id"], "ACTIVE")
    resp = operator.post(f"/servers/{server['id']}/action", {"migrate": None})
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"].startswith("No valid host was found.")
    assert show(compute, server["id"])["status"] == "ACTIVE"
    assert compute.delete(f"/servers/{server['id']}").status_code == 204
