"""Host aggregates reach Placement as the API changes them, and the operator commands
(`stratus-status upgrade check`, `stratus-manage placement sync_aggregates`) work on the
state directory of a running all-in-one, with no [placement] credentials configured."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
import sqlalchemy as sa
from boot_helpers import Placement, boot, default_image, make_flavor, show, wait_for
from compute_helpers import admin
from harness import start_cloud, stop_cloud

from stratus.cells.schema_api import aggregates

BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("aggs"), fake_hosts=2, **{
        "scheduler.query_placement_for_availability_zone": True})
    # The commands below read the state directory, as an operator's would: tell them
    # where this cloud listens.
    with open(os.path.join(running.conf.state_dir, "stratus.conf"), "w") as fh:
        fh.write(f"[api]\nport = {running.conf.api.port}\n")
    yield running
    stop_cloud(running)


def _providers_by_host(cloud, placement: Placement) -> dict[str, str]:
    """host -> compute node provider uuid, once every fake host has reported."""
    compute = admin(cloud)
    deadline = time.monotonic() + 30
    while True:
        hypervisors = compute.get("/os-hypervisors/detail").json()["hypervisors"]
        names = {p["name"]: p["uuid"] for p in placement.providers()}
        found = {h["service"]["host"]: names.get(h["hypervisor_hostname"])
                 for h in hypervisors}
        if len(found) == 2 and all(found.values()):
            return found
        assert time.monotonic() < deadline, (hypervisors, names)
        time.sleep(0.1)


def _uuid(cloud, aggregate: dict) -> str:
    """The aggregate's uuid (the API shows it only from 2.41): Placement's aggregate id."""
    with cloud.aio.databases.engine("api").connect() as conn:
        return conn.execute(sa.select(aggregates.c.uuid).where(
            aggregates.c.id == aggregate["id"])).scalar_one()


def _run(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([f"{BIN}/{argv[0]}", *argv[1:]], capture_output=True, text=True,
                          timeout=120)


def test_add_and_remove_host_change_the_providers_aggregates_and_the_zone_boots(cloud):
    compute = admin(cloud)
    placement = Placement(cloud, compute.token)
    providers = _providers_by_host(cloud, placement)
    zoned, other = sorted(providers)
    created = compute.post("/os-aggregates", {"aggregate": {
        "name": "rack-z", "availability_zone": "zone-z"}})
    assert created.status_code == 200, created.text
    agg = created.json()["aggregate"]
    agg["uuid"] = _uuid(cloud, agg)
    added = compute.post(f"/os-aggregates/{agg['id']}/action", {"add_host": {"host": zoned}})
    assert added.status_code == 200, added.text
    # Beside the network fabric's, which every compute host joins (IP pools).
    fabric = cloud.conf.network.fabric_aggregate
    assert set(placement.get(f"/resource_providers/{providers[zoned]}/aggregates")[
        "aggregates"]) == {agg["uuid"], fabric}
    assert placement.get(f"/resource_providers/{providers[other]}/aggregates")[
        "aggregates"] == [fabric]

    # The scheduler asks Placement for the zone's members: only the zoned host qualifies.
    flavor = make_flavor(compute, "agg.tiny", ram=64, vcpus=1, disk=1)
    image = default_image(cloud, compute.token)
    server = boot(compute, "in-zone", flavor["id"], image,
                  server={"availability_zone": "zone-z"})
    active = wait_for(compute, server["id"], "ACTIVE")
    assert active["OS-EXT-SRV-ATTR:host"] == zoned

    removed = compute.post(f"/os-aggregates/{agg['id']}/action",
                           {"remove_host": {"host": zoned}})
    assert removed.status_code == 200, removed.text
    assert placement.get(f"/resource_providers/{providers[zoned]}/aggregates")[
        "aggregates"] == [fabric]
    # With no member left, a boot into the zone finds no host.
    doomed = boot(compute, "no-zone-host", flavor["id"], image,
                  server={"availability_zone": "zone-z"})
    assert wait_for(compute, doomed["id"], "ERROR")["fault"]["message"].startswith(
        "No valid host")
    assert compute.delete(f"/servers/{server['id']}").status_code == 204
    assert show(compute, doomed["id"])["status"] == "ERROR"


def test_sync_aggregates_uses_the_all_in_one_service_account(cloud):
    compute = admin(cloud)
    placement = Placement(cloud, compute.token)
    providers = _providers_by_host(cloud, placement)
    host = sorted(providers)[1]
    agg = compute.post("/os-aggregates", {"aggregate": {"name": "rack-sync"}}).json()[
        "aggregate"]
    agg["uuid"] = _uuid(cloud, agg)
    assert compute.post(f"/os-aggregates/{agg['id']}/action",
                        {"add_host": {"host": host}}).status_code == 200
    # Lose the membership in Placement behind the API's back; the command restores it.
    rp = placement.get(f"/resource_providers/{providers[host]}/aggregates")
    resp = requests.put(
        f"{placement.base}/resource_providers/{providers[host]}/aggregates",
        headers=placement.headers, json={"aggregates": [], "resource_provider_generation":
              rp["resource_provider_generation"]})
    assert resp.status_code == 200, resp.text
    synced = _run("stratus-manage", "--state-dir", cloud.conf.state_dir, "placement",
                  "sync_aggregates")
    assert synced.returncode == 0, synced.stderr
    assert "1 resource provider(s) added" in synced.stdout
    assert agg["uuid"] in placement.get(
        f"/resource_providers/{providers[host]}/aggregates")["aggregates"]


def test_upgrade_check_passes_against_the_running_cloud(cloud):
    checked = _run("stratus-status", "--state-dir", cloud.conf.state_dir, "upgrade", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Check: Placement API\nResult: Success" in checked.stdout
    assert "Check: Policy File\nResult: Success" in checked.stdout
