"""Resize (confirm, revert), cold migration, rebuild and evacuation on an all-in-one with
fake hosts, through the compute API; Placement's usages are checked after every step
(the migration record holds the source's allocation while a move is undecided)."""

from __future__ import annotations

import time

import pytest
import requests
import sqlalchemy as sa
from boot_helpers import Placement, boot, default_image, make_flavor, show, wait_for
from compute_helpers import admin, demo, demo_project_id
from harness import start_cloud, stop_cloud

from stratus.cells.schema_cell import migrations

HOSTS = 3


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("moves"), fake_hosts=HOSTS)
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def flavors(cloud):
    compute = admin(cloud)
    return {"small": make_flavor(compute, "move.small", ram=512, vcpus=1, disk=1),
            "big": make_flavor(compute, "move.big", ram=1024, vcpus=2, disk=2),
            "huge": make_flavor(compute, "move.huge", ram=512, vcpus=1, disk=10 ** 6)}


def _providers(cloud, placement: Placement) -> dict[str, str]:
    """host -> its compute node provider, once every host has reported."""
    compute = admin(cloud)
    deadline = time.monotonic() + 30
    while True:
        names = {p["name"]: p["uuid"] for p in placement.providers()}
        hosts = {h["service"]["host"]: names.get(h["hypervisor_hostname"])
                 for h in compute.get("/os-hypervisors/detail").json()["hypervisors"]}
        if len(hosts) == HOSTS and all(hosts.values()):
            return hosts
        assert time.monotonic() < deadline, hosts
        time.sleep(0.1)


def _migration(cloud, server_id: str) -> dict:
    """The server's newest migration record, read from the cell database."""
    engine = cloud.aio.databases.engine("cell1")
    with engine.connect() as conn:
        row = conn.execute(sa.select(migrations).where(
            migrations.c.instance_uuid == server_id).order_by(migrations.c.id.desc())
        ).mappings().first()
    return dict(row)


def _allocations(placement: Placement, consumer: str) -> dict[str, dict]:
    """The consumer's allocations on compute nodes: a server on a network with an IP pool
    also holds an address there (tests/functional/test_ip_pools.py checks those)."""
    hosts = {provider["uuid"] for provider in placement.providers()}
    return {rp: entry["resources"] for rp, entry in placement.allocations(consumer).items()
            if rp in hosts}


def _sizes(flavor: dict) -> dict[str, int]:
    return {"VCPU": flavor["vcpus"], "MEMORY_MB": flavor["ram"], "DISK_GB": flavor["disk"]}


def _wait_migration(cloud, server_id: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while (migration := _migration(cloud, server_id))["status"] != status:
        assert time.monotonic() < deadline, migration
        time.sleep(0.05)
    return migration


def _booted(cloud, name: str, flavor: dict, compute=None, networks="none") -> dict:
    compute = compute or demo(cloud)
    server = boot(compute, name, flavor["id"], default_image(cloud, compute.token),
                  server={"networks": networks})
    return wait_for(compute, server["id"], "ACTIVE")


def _port_hosts(cloud, server_id: str) -> list[str]:
    """binding:host_id of the server's ports, as the network API has them."""
    resp = requests.get(f"{cloud.url}/network/v2.0/ports", params={"device_id": server_id},
                        headers={"X-Auth-Token": cloud.admin_token()})
    assert resp.status_code == 200, resp.text
    return [port["binding:host_id"] for port in resp.json()["ports"]]


def _action(compute, server_id: str, body: dict):
    return compute.post(f"/servers/{server_id}/action", body)


def test_resize_up_then_confirm_moves_the_allocation_step_by_step(cloud, flavors):
    compute = demo(cloud)
    placement = Placement(cloud, admin(cloud).token)
    providers = _providers(cloud, placement)
    server = _booted(cloud, "resize-me", flavors["small"])
    source = server["OS-EXT-SRV-ATTR:host"] if "OS-EXT-SRV-ATTR:host" in server else \
        show(admin(cloud), server["id"])["OS-EXT-SRV-ATTR:host"]
    assert _allocations(placement, server["id"]) == {
        providers[source]: _sizes(flavors["small"])}

    resp = _action(compute, server["id"], {"resize": {"flavorRef": flavors["big"]["id"]}})
    assert resp.status_code == 202, resp.text
    resized = wait_for(compute, server["id"], "VERIFY_RESIZE")
    assert resized["flavor"]["id"] == flavors["big"]["id"]
    dest = show(admin(cloud), server["id"])["OS-EXT-SRV-ATTR:host"]
    assert dest != source
    migration = _migration(cloud, server["id"])
    assert (migration["status"], migration["migration_type"]) == ("finished", "resize")
    assert (migration["source_compute"], migration["dest_compute"]) == (source, dest)
    # Undecided: the destination is claimed for the server, the source held by the
    # migration record, so neither host can be handed out twice.
    assert _allocations(placement, server["id"]) == {providers[dest]: _sizes(flavors["big"])}
    assert _allocations(placement, migration["uuid"]) == {
        providers[source]: _sizes(flavors["small"])}

    confirmed = _action(compute, server["id"], {"confirmResize": None})
    assert confirmed.status_code == 204, confirmed.text
    active = wait_for(compute, server["id"], "ACTIVE")
    assert active["flavor"]["id"] == flavors["big"]["id"]
    assert _wait_migration(cloud, server["id"], "confirmed")
    assert _allocations(placement, migration["uuid"]) == {}
    assert _allocations(placement, server["id"]) == {providers[dest]: _sizes(flavors["big"])}
    assert placement.usages(providers[source]).get("MEMORY_MB", 0) == 0
    actions = [a["action"] for a in compute.get(
        f"/servers/{server['id']}/os-instance-actions").json()["instanceActions"]]
    assert actions[:2] == ["confirmResize", "resize"]
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


def test_resize_then_revert_goes_back_to_the_source_with_the_old_flavor(cloud, flavors):
    compute = demo(cloud)
    placement = Placement(cloud, admin(cloud).token)
    providers = _providers(cloud, placement)
    server = _booted(cloud, "revert-me", flavors["small"], networks="auto")
    source = show(admin(cloud), server["id"])["OS-EXT-SRV-ATTR:host"]
    assert _port_hosts(cloud, server["id"]) == [source]
    assert _action(compute, server["id"], {
        "resize": {"flavorRef": flavors["big"]["id"]}}).status_code == 202
    wait_for(compute, server["id"], "VERIFY_RESIZE")
    dest = show(admin(cloud), server["id"])["OS-EXT-SRV-ATTR:host"]
    migration = _migration(cloud, server["id"])
    # The port followed the server to the destination, and the addresses with it.
    assert _port_hosts(cloud, server["id"]) == [dest]
    assert show(compute, server["id"])["addresses"] == server["addresses"] != {}

    reverted = _action(compute, server["id"], {"revertResize": None})
    assert reverted.status_code == 202, reverted.text
    back = wait_for(compute, server["id"], "ACTIVE")
    assert back["flavor"]["id"] == flavors["small"]["id"]
    assert show(admin(cloud), server["id"])["OS-EXT-SRV-ATTR:host"] == source
    assert _port_hosts(cloud, server["id"]) == [source]
    assert _wait_migration(cloud, server["id"], "reverted")
    assert _allocations(placement, server["id"]) == {
        providers[source]: _sizes(flavors["small"])}
    assert _allocations(placement, migration["uuid"]) == {}
    assert placement.usages(providers[dest]).get("MEMORY_MB", 0) == 0
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


def test_cold_migrate_is_admin_only_and_confirmed_like_a_resize(cloud, flavors):
    compute, operator = demo(cloud), admin(cloud)
    placement = Placement(cloud, operator.token)
    providers = _providers(cloud, placement)
    server = _booted(cloud, "migrate-me", flavors["small"])
    source = show(operator, server["id"])["OS-EXT-SRV-ATTR:host"]
    denied = _action(compute, server["id"], {"migrate": None})
    assert denied.status_code == 403, denied.text

    assert _action(operator, server["id"], {"migrate": None}).status_code == 202
    wait_for(compute, server["id"], "VERIFY_RESIZE")
    dest = show(operator, server["id"])["OS-EXT-SRV-ATTR:host"]
    migration = _migration(cloud, server["id"])
    assert dest != source and migration["migration_type"] == "migration"
    assert _allocations(placement, migration["uuid"]) == {
        providers[source]: _sizes(flavors["small"])}
    assert _action(compute, server["id"], {"confirmResize": None}).status_code == 204
    active = wait_for(compute, server["id"], "ACTIVE")
    assert active["flavor"]["id"] == flavors["small"]["id"]
    assert _allocations(placement, server["id"]) == {
        providers[dest]: _sizes(flavors["small"])}
    assert _allocations(placement, migration["uuid"]) == {}
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


def test_bad_moves_are_refused_in_novas_words_and_change_nothing(cloud, flavors):
    compute = demo(cloud)
    placement = Placement(cloud, admin(cloud).token)
    server = _booted(cloud, "stay-put", flavors["small"])
    before = _allocations(placement, server["id"])

    same = _action(compute, server["id"], {"resize": {"flavorRef": flavors["small"]["id"]}})
    assert same.status_code == 400
    assert same.json()["badRequest"]["message"] == \
        "When resizing, instances must change flavor!"
    unknown = _action(compute, server["id"], {"resize": {"flavorRef": "no-such-flavor"}})
    assert unknown.status_code == 400
    assert unknown.json()["badRequest"]["message"] == "Unable to locate requested flavor."
    no_room = _action(compute, server["id"], {"resize": {"flavorRef": flavors["huge"]["id"]}})
    assert no_room.status_code == 400
    assert no_room.json()["badRequest"]["message"].startswith("No valid host was found.")
    bad_body = _action(compute, server["id"], {"resize": {"flavor": flavors["big"]["id"]}})
    assert bad_body.status_code == 400
    not_resized = _action(compute, server["id"], {"confirmResize": None})
    assert not_resized.status_code == 409
    assert "while it is in vm_state active" in not_resized.json()[
        "conflictingRequest"]["message"]
    still = show(compute, server["id"])
    assert (still["status"], still["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
    assert still["flavor"]["id"] == flavors["small"]["id"]
    assert _allocations(placement, server["id"]) == before
    assert _migration(cloud, server["id"])["status"] == "error"  # the refused resize

    assert _action(compute, server["id"], {"pause": None}).status_code == 202
    wait_for(compute, server["id"], "PAUSED")
    paused = _action(compute, server["id"], {"resize": {"flavorRef": flavors["big"]["id"]}})
    assert paused.status_code == 409
    assert "while it is in vm_state paused" in paused.json()["conflictingRequest"]["message"]
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


def test_resize_up_past_the_cores_quota_is_403_and_changes_nothing(cloud, flavors):
    compute, operator = demo(cloud), admin(cloud)
    placement = Placement(cloud, operator.token)
    project = demo_project_id(cloud)
    server = _booted(cloud, "no-quota-left", flavors["small"])
    before = _allocations(placement, server["id"])
    used = operator.get(f"/os-quota-sets/{project}/detail").json()["quota_set"]
    old = {resource: used[resource]["limit"] for resource in ("cores", "ram")}
    # Exactly what is in use: the same size still fits, one core more does not.
    assert operator.put(f"/os-quota-sets/{project}", {"quota_set": {
        "cores": used["cores"]["in_use"], "ram": -1}}).status_code == 200
    try:
        refused = _action(compute, server["id"],
                          {"resize": {"flavorRef": flavors["big"]["id"]}})
        assert refused.status_code == 403, refused.text
        assert refused.json()["forbidden"]["message"] == (
            f"Quota exceeded for cores: Requested 1, but already used "
            f"{used['cores']['in_use']} of {used['cores']['in_use']} cores")
        still = show(compute, server["id"])
        assert (still["status"], still["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
        assert still["flavor"]["id"] == flavors["small"]["id"]
        assert _allocations(placement, server["id"]) == before
        assert _migration_or_none(cloud, server["id"]) is None
        # A migration needs no new quota.
        assert operator.post(f"/servers/{server['id']}/action",
                             {"migrate": None}).status_code == 202
        wait_for(compute, server["id"], "VERIFY_RESIZE")
        assert _action(compute, server["id"], {"revertResize": None}).status_code == 202
        wait_for(compute, server["id"], "ACTIVE")
    finally:
        assert operator.put(f"/os-quota-sets/{project}",
                            {"quota_set": old}).status_code == 200
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


def _migration_or_none(cloud, server_id: str) -> dict | None:
    engine = cloud.aio.databases.engine("cell1")
    with engine.connect() as conn:
        row = conn.execute(sa.select(migrations.c.id).where(
            migrations.c.instance_uuid == server_id)).first()
    return row


def test_rebuild_in_place_takes_the_new_image_name_and_metadata(cloud, flavors):
    compute = demo(cloud)
    server = _booted(cloud, "rebuild-me", flavors["small"])
    image = default_image(cloud, compute.token)
    resp = _action(compute, server["id"], {"rebuild": {
        "imageRef": image, "name": "rebuilt", "metadata": {"purpose": "test"}}})
    assert resp.status_code == 202, resp.text
    body = resp.json()["server"]
    assert body["id"] == server["id"] and body["adminPass"]
    assert body["name"] == "rebuilt"
    rebuilt = wait_for(compute, server["id"], "ACTIVE")
    assert rebuilt["name"] == "rebuilt" and rebuilt["metadata"] == {"purpose": "test"}
    assert rebuilt["image"]["id"] == image
    events = compute.get(f"/servers/{server['id']}/os-instance-actions").json()[
        "instanceActions"]
    assert events[0]["action"] == "rebuild"
    missing = _action(compute, server["id"], {"rebuild": {"imageRef": "no-such-image"}})
    assert missing.status_code == 400, missing.text
    console = _action(compute, server["id"], {"os-getConsoleOutput": {}}).json()["output"]
    assert f"Rebuilt from image {image}" in console
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


def test_evacuate_off_a_down_host_and_the_host_cleans_up_when_it_returns(cloud, flavors):
    compute, operator = demo(cloud), admin(cloud)
    operator_211 = admin(cloud, "2.11")
    placement = Placement(cloud, operator.token)
    providers = _providers(cloud, placement)
    server = _booted(cloud, "evacuate-me", flavors["small"], networks="auto")
    source = show(operator, server["id"])["OS-EXT-SRV-ATTR:host"]

    up = _action(operator, server["id"], {"evacuate": {}})
    assert up.status_code == 400
    assert up.json()["badRequest"]["message"] == f"Compute service of {source} is still in use."
    assert _action(compute, server["id"], {"evacuate": {}}).status_code == 403
    # onSharedStorage goes at 2.14: below, the body is fine (and the host still up).
    shared = {"evacuate": {"onSharedStorage": False}}
    old = _action(admin(cloud, "2.13"), server["id"], shared)
    assert old.status_code == 400 and "still in use" in old.json()["badRequest"]["message"]
    new = _action(admin(cloud, "2.14"), server["id"], shared)
    assert new.status_code == 400
    assert "'onSharedStorage' was unexpected" in new.json()["badRequest"]["message"]

    agents = cloud.aio.rpc_services.agents
    agents.stop_agent(source)
    forced = operator_211.put("/os-services/force-down", {
        "host": source, "binary": "nova-compute", "forced_down": True})
    assert forced.status_code == 200, forced.text
    try:
        same = _action(operator, server["id"], {"evacuate": {"host": source}})
        assert same.status_code == 400
        nowhere = _action(operator, server["id"], {"evacuate": {"host": "no-such-host"}})
        assert nowhere.status_code == 404
        resp = _action(operator, server["id"], {"evacuate": {}})
        assert resp.status_code == 200, resp.text
        assert resp.text == ""  # from 2.14 no adminPass comes back
        moved = wait_for(compute, server["id"], "ACTIVE")
        dest = show(operator, server["id"])["OS-EXT-SRV-ATTR:host"]
        assert dest != source and moved["id"] == server["id"]
        assert _port_hosts(cloud, server["id"]) == [dest]
        migration = _wait_migration(cloud, server["id"], "done")
        assert migration["migration_type"] == "evacuation"
        assert _allocations(placement, server["id"]) == {
            providers[dest]: _sizes(flavors["small"])}
        assert _allocations(placement, migration["uuid"]) == {
            providers[source]: _sizes(flavors["small"])}
    finally:
        operator_211.put("/os-services/force-down", {
            "host": source, "binary": "nova-compute", "forced_down": False})
        agents.agents.pop(source)
        agents.add(source)  # the host comes back (a new process, as after a crash)
    assert _wait_migration(cloud, server["id"], "completed")["uuid"] == migration["uuid"]
    assert _allocations(placement, migration["uuid"]) == {}
    assert placement.usages(providers[source]).get("MEMORY_MB", 0) == 0
    assert compute.delete(f"/servers/{server['id']}").status_code == 204


def test_evacuate_force_2_29_takes_a_host_the_filters_refuse(cloud, flavors):
    """A disabled host fails ComputeFilter: from 2.29 a named host is checked by the filters
    unless ``force``; below 2.29 a named host is forced, as in Nova."""
    compute, operator = demo(cloud), admin(cloud)
    operator_211, operator_229 = admin(cloud, "2.11"), admin(cloud, "2.29")
    placement = Placement(cloud, operator.token)
    providers = _providers(cloud, placement)
    server = _booted(cloud, "force-me", flavors["small"])
    source = show(operator, server["id"])["OS-EXT-SRV-ATTR:host"]
    target = sorted(host for host in providers if host != source)[0]

    agents = cloud.aio.rpc_services.agents
    agents.stop_agent(source)
    assert operator_211.put("/os-services/force-down", {
        "host": source, "binary": "nova-compute", "forced_down": True}).status_code == 200
    assert operator.put("/os-services/disable", {
        "host": target, "binary": "nova-compute"}).status_code == 200
    try:
        unnamed = _action(operator_229, server["id"], {"evacuate": {"force": True}})
        assert unnamed.status_code == 400
        assert unnamed.json()["badRequest"]["message"] == \
            "Can't force to a non-provided destination"
        assert _action(operator, server["id"], {"evacuate": {"force": True}}).status_code \
            == 400  # at 2.38 too; below 2.29 the key is unknown
        assert _action(admin(cloud, "2.28"), server["id"], {
            "evacuate": {"host": target, "force": True}}).status_code == 400

        checked = _action(operator_229, server["id"], {"evacuate": {"host": target}})
        assert checked.status_code == 200, checked.text
        refused = _wait_migration(cloud, server["id"], "error")
        assert refused["migration_type"] == "evacuation"
        stays = show(operator, server["id"])
        assert (stays["OS-EXT-SRV-ATTR:host"], stays["OS-EXT-STS:task_state"]) == (source, None)
        assert _allocations(placement, server["id"]) == {
            providers[source]: _sizes(flavors["small"])}

        forced = _action(operator_229, server["id"], {
            "evacuate": {"host": target, "force": "true"}})
        assert forced.status_code == 200, forced.text
        wait_for(compute, server["id"], "ACTIVE")
        migration = _wait_migration(cloud, server["id"], "done")
        assert migration["dest_compute"] == target
        assert show(operator, server["id"])["OS-EXT-SRV-ATTR:host"] == target
        assert _allocations(placement, server["id"]) == {
            providers[target]: _sizes(flavors["small"])}
    finally:
        operator.put("/os-services/enable", {"host": target, "binary": "nova-compute"})
        operator_211.put("/os-services/force-down", {
            "host": source, "binary": "nova-compute", "forced_down": False})
        agents.agents.pop(source)
        agents.add(source)
    assert _wait_migration(cloud, server["id"], "completed")["uuid"] == migration["uuid"]
    assert compute.delete(f"/servers/{server['id']}").status_code == 204
