"""Acceptance: servers go from request to running on fake compute hosts and back, through
the Compute and Placement APIs of an in-process all-in-one (conductor, scheduler and two
fake agents on the in-process RPC transport), served over real HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from boot_helpers import (
    Placement,
    boot,
    capacity,
    default_image,
    flavor_usage,
    make_flavor,
    show,
    wait_for,
    wait_gone,
)
from compute_helpers import admin, demo, fault
from harness import start_cloud, stop_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    # Small hosts, so a flavor bigger than any of them is still within the default quota.
    running = start_cloud(tmp_path_factory.mktemp("lifecycle"), fake_hosts=2,
                          **{"fake_driver.memory_mb": 4096, "fake_driver.vcpus": 4})
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def world(cloud):
    compute = admin(cloud)
    flavor = make_flavor(compute, "e2e.small", ram=512, vcpus=1, disk=1)
    placement = Placement(cloud, compute.token)
    return {"flavor": flavor, "image": default_image(cloud, compute.token),
            "placement": placement}


def _host_provider(placement: Placement, server: dict) -> dict:
    return placement.provider_named(server["OS-EXT-SRV-ATTR:hypervisor_hostname"])


def test_boot_reaches_active_on_a_host_whose_usage_is_the_flavor_and_delete_frees_it(
        cloud, world):
    compute, placement = admin(cloud), world["placement"]
    created = boot(compute, "first", world["flavor"]["id"], world["image"])
    server = wait_for(compute, created["id"], "ACTIVE")
    assert server["OS-EXT-SRV-ATTR:host"] and server["OS-EXT-STS:power_state"] == 1
    assert server["host_status"] == "UP"
    assert server["OS-EXT-STS:vm_state"] == "active" and server["OS-SRV-USG:launched_at"]
    provider = _host_provider(placement, server)
    assert placement.usages(provider["uuid"]) == {
        rc: amount for rc, amount in flavor_usage(world["flavor"]).items()} | {
        rc: 0 for rc in placement.usages(provider["uuid"])
        if rc not in flavor_usage(world["flavor"])}
    assert list(placement.allocations(created["id"])) == [provider["uuid"]]

    assert compute.delete(f"/servers/{created['id']}").status_code == 204
    wait_gone(compute, created["id"])
    assert set(placement.usages(provider["uuid"]).values()) <= {0}
    assert placement.allocations(created["id"]) == {}
    listed = compute.get("/servers/detail").json()["servers"]
    assert created["id"] not in {s["id"] for s in listed}


def test_flavor_bigger_than_any_host_ends_in_cell0_in_error_listed_and_deletable(
        cloud, world):
    compute, placement = admin(cloud), world["placement"]
    biggest = max(capacity(placement.inventories(p["uuid"])["MEMORY_MB"])
                  for p in placement.providers())
    huge = make_flavor(compute, "e2e.huge", ram=biggest + 1024, vcpus=1, disk=1)
    created = boot(compute, "too-big", huge["id"], world["image"])
    server = wait_for(compute, created["id"], "ERROR")
    assert server["fault"]["message"].startswith("No valid host was found")
    assert server["fault"]["code"] == 500 and not server["OS-EXT-SRV-ATTR:host"]
    with cloud.aio.compute.api_engine.connect() as conn:
        from stratus.cells import mappings
        mapping = mappings.get_instance_mapping(conn, created["id"])
    assert mapping.cell is not None and mapping.cell.is_cell0
    assert placement.allocations(created["id"]) == {}
    assert created["id"] in {s["id"] for s in compute.get("/servers").json()["servers"]}
    assert compute.delete(f"/servers/{created['id']}").status_code == 204
    wait_gone(compute, created["id"])
    assert created["id"] not in {s["id"] for s in compute.get("/servers").json()["servers"]}


def test_anti_affinity_group_of_three_on_two_hosts_two_active_apart_third_error(cloud, world):
    compute = admin(cloud)
    group = compute.post("/os-server-groups", {"server_group": {
        "name": "apart", "policies": ["anti-affinity"]}})
    assert group.status_code == 200, group.text
    hints = {"group": group.json()["server_group"]["id"]}
    ids = []
    for index in range(3):
        ids.append(boot(compute, f"apart-{index}", world["flavor"]["id"], world["image"],
                        **{"os:scheduler_hints": hints})["id"])
        # One at a time, as a user does: each boot sees where the previous ones went.
        wait_for(compute, ids[-1], "ACTIVE", "ERROR")
    servers = [show(compute, server_id) for server_id in ids]
    active = [s for s in servers if s["status"] == "ACTIVE"]
    failed = [s for s in servers if s["status"] == "ERROR"]
    assert len(active) == 2 and len(failed) == 1
    assert active[0]["OS-EXT-SRV-ATTR:host"] != active[1]["OS-EXT-SRV-ATTR:host"]
    assert failed[0]["fault"]["message"].startswith("No valid host was found")
    for server_id in ids:
        assert compute.delete(f"/servers/{server_id}").status_code == 204
    for server_id in ids:
        wait_gone(compute, server_id)


def _act(compute, server_id: str, body: dict, status: int = 202) -> requests.Response:
    resp = compute.post(f"/servers/{server_id}/action", body)
    assert resp.status_code == status, resp.text
    return resp


def test_actions_move_the_server_through_nova_states(cloud, world):
    compute = demo(cloud)
    server_id = boot(compute, "acting", world["flavor"]["id"], world["image"])["id"]
    wait_for(compute, server_id, "ACTIVE")
    steps = [({"reboot": {"type": "SOFT"}}, "ACTIVE", 1),
             ({"reboot": {"type": "HARD"}}, "ACTIVE", 1),
             ({"os-stop": None}, "SHUTOFF", 4),
             ({"os-start": None}, "ACTIVE", 1),
             ({"pause": None}, "PAUSED", 3),
             ({"unpause": None}, "ACTIVE", 1),
             ({"suspend": None}, "SUSPENDED", 7),
             ({"resume": None}, "ACTIVE", 1)]
    for body, status, power_state in steps:
        _act(compute, server_id, body)
        server = wait_for(compute, server_id, status)
        assert server["OS-EXT-STS:power_state"] == power_state, (body, server)
    actions = compute.get(f"/servers/{server_id}/os-instance-actions").json()
    recorded = {a["action"] for a in actions["instanceActions"]}
    assert {"create", "reboot", "stop", "start", "pause", "unpause", "suspend",
            "resume"} <= recorded
    console = _act(compute, server_id, {"os-getConsoleOutput": {"length": None}}, 200)
    output = console.json()["output"]
    assert output and isinstance(output, str)
    last_two = _act(compute, server_id, {"os-getConsoleOutput": {"length": 2}}, 200)
    assert last_two.json()["output"].splitlines() == output.splitlines()[-2:]
    compute.delete(f"/servers/{server_id}")
    wait_gone(compute, server_id)


def test_actions_in_the_wrong_state_are_409_in_nova_words_and_change_nothing(cloud, world):
    compute = demo(cloud)
    server_id = boot(compute, "strict", world["flavor"]["id"], world["image"])["id"]
    wait_for(compute, server_id, "ACTIVE")
    for body, name in (({"os-start": None}, "start"), ({"unpause": None}, "unpause"),
                       ({"resume": None}, "resume")):
        message = fault(compute.post(f"/servers/{server_id}/action", body), 409)
        assert message == (f"Cannot '{name}' instance {server_id} while it is in "
                           "vm_state active")
    _act(compute, server_id, {"os-stop": None})
    wait_for(compute, server_id, "SHUTOFF")
    message = fault(compute.post(f"/servers/{server_id}/action",
                                 {"reboot": {"type": "SOFT"}}), 409)
    assert message == f"Cannot 'reboot' instance {server_id} while it is in vm_state stopped"
    assert show(compute, server_id)["status"] == "SHUTOFF"
    fault(compute.post(f"/servers/{server_id}/action", {"reboot": {"type": "WARM"}}), 400)
    fault(compute.post(f"/servers/{server_id}/action", {"os-stop": None, "pause": None}),
          400)
    compute.delete(f"/servers/{server_id}")
    wait_gone(compute, server_id)


def test_two_racing_stops_start_one_action_and_refuse_the_other(cloud, world):
    compute = demo(cloud)
    server_id = boot(compute, "racing", world["flavor"]["id"], world["image"])["id"]
    wait_for(compute, server_id, "ACTIVE")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(
            lambda _: compute.post(f"/servers/{server_id}/action", {"os-stop": None}),
            range(2)))
    assert sorted(r.status_code for r in answers) == [202, 409], [r.text for r in answers]
    wait_for(compute, server_id, "SHUTOFF")
    actions = compute.get(f"/servers/{server_id}/os-instance-actions").json()
    assert [a["action"] for a in actions["instanceActions"]].count("stop") == 1
    compute.delete(f"/servers/{server_id}")
    wait_gone(compute, server_id)


def test_lock_blocks_the_owner_not_the_admin_and_reset_state_is_admin_only(cloud, world):
    owner, cloud_admin = demo(cloud), admin(cloud)
    server_id = boot(owner, "locked", world["flavor"]["id"], world["image"])["id"]
    wait_for(owner, server_id, "ACTIVE")
    _act(cloud_admin, server_id, {"lock": None})
    assert show(owner, server_id)["locked"] is True
    assert fault(owner.post(f"/servers/{server_id}/action", {"os-stop": None}),
                 409) == f"Instance {server_id} is locked"
    fault(owner.delete(f"/servers/{server_id}"), 409)
    fault(owner.post(f"/servers/{server_id}/action", {"unlock": None}), 403)
    _act(cloud_admin, server_id, {"unlock": None})
    fault(owner.post(f"/servers/{server_id}/action", {"os-resetState": {"state": "error"}}),
          403)
    _act(cloud_admin, server_id, {"os-resetState": {"state": "error"}})
    assert show(owner, server_id)["status"] == "ERROR"
    _act(cloud_admin, server_id, {"os-resetState": {"state": "active"}})
    assert show(owner, server_id)["status"] == "ACTIVE"
    owner.delete(f"/servers/{server_id}")
    wait_gone(owner, server_id)


def test_delete_while_the_host_is_down_is_local_and_frees_the_allocation(cloud, world):
    compute, placement = admin(cloud), world["placement"]
    server = wait_for(compute, boot(compute, "orphan", world["flavor"]["id"],
                                    world["image"])["id"], "ACTIVE")
    host = server["OS-EXT-SRV-ATTR:host"]
    service = next(s for s in compute.get("/os-services").json()["services"]
                   if s["host"] == host)
    down = {"host": host, "binary": service["binary"]}
    resp = compute.put("/os-services/force-down", {**down, "forced_down": True})
    assert resp.status_code == 200, resp.text
    try:
        assert show(compute, server["id"])["host_status"] == "DOWN"
        assert compute.delete(f"/servers/{server['id']}").status_code == 204
        # Local delete: gone at once, not after the (unreachable) host answers.
        assert compute.get(f"/servers/{server['id']}").status_code == 404
        assert placement.allocations(server["id"]) == {}
    finally:
        compute.put("/os-services/force-down", {**down, "forced_down": False})


def test_a_server_deleted_before_it_is_built_is_never_built(cloud, world):
    compute, placement = admin(cloud), world["placement"]
    ids = [boot(compute, f"gone-{i}", world["flavor"]["id"], world["image"])["id"]
           for i in range(5)]
    for server_id in ids:
        assert compute.delete(f"/servers/{server_id}").status_code in (204, 404)
    for server_id in ids:
        wait_gone(compute, server_id)
    # Whatever stage each delete caught, nothing stays claimed once the hosts settle.
    deadline = time.monotonic() + 30
    while any(placement.allocations(server_id) for server_id in ids):
        assert time.monotonic() < deadline, [placement.allocations(i) for i in ids]
        time.sleep(0.05)


def _drivers(cloud) -> dict:
    return {host: agent.driver
            for host, agent in cloud.aio.rpc_services.agents.agents.items()}


def _build_results(compute, server_id: str) -> list[str]:
    """Results of the build events of the server's create action, oldest first."""
    actions = compute.get(f"/servers/{server_id}/os-instance-actions").json()
    create = next(a for a in actions["instanceActions"] if a["action"] == "create")
    action = compute.get(f"/servers/{server_id}/os-instance-actions/"
                         f"{create['request_id']}").json()["instanceAction"]
    events = sorted((e for e in action["events"]
                     if e["event"] == "compute_build_and_run_instance"),
                    key=lambda e: e["start_time"])
    return [e["result"] for e in events]


def test_a_build_that_fails_on_its_host_is_rescheduled_to_an_alternate(cloud, world):
    """One host fails its next spawn; the server that meets the failure ends ACTIVE on the
    other host with exactly one allocation, there."""
    compute, placement = admin(cloud), world["placement"]
    drivers = _drivers(cloud)
    failing = sorted(drivers)[0]
    drivers[failing].fail_next_spawns(1)
    booted = []
    try:
        for index in range(6):  # the scheduler spreads: one of these meets the failure
            booted.append(boot(compute, f"retry-{index}", world["flavor"]["id"],
                               world["image"])["id"])
            server = wait_for(compute, booted[-1], "ACTIVE", "ERROR")
            results = _build_results(compute, booted[-1])
            if len(results) > 1:
                break
        else:
            pytest.fail(f"no boot was placed on {failing}")
        assert results == ["Error", "Success"], results
        assert server["status"] == "ACTIVE", server
        assert server["OS-EXT-SRV-ATTR:host"] != failing
        provider = _host_provider(placement, server)
        assert list(placement.allocations(server["id"])) == [provider["uuid"]]
    finally:
        for server_id in booted:
            compute.delete(f"/servers/{server_id}")
        for server_id in booted:
            wait_gone(compute, server_id)


def test_a_build_that_fails_on_every_host_ends_in_error_with_the_last_fault(cloud, world):
    compute, placement = admin(cloud), world["placement"]
    for driver in _drivers(cloud).values():
        driver.fail_next_spawns(1, reason="Injected spawn failure")
    server_id = boot(compute, "doomed", world["flavor"]["id"], world["image"])["id"]
    server = wait_for(compute, server_id, "ERROR")
    assert _build_results(compute, server_id) == ["Error", "Error"]  # tried on both hosts
    assert "Injected spawn failure" in server["fault"]["message"]
    assert placement.allocations(server_id) == {}
    compute.delete(f"/servers/{server_id}")
    wait_gone(compute, server_id)
