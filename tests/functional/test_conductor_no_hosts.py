"""The conductor with a real scheduler and no compute host at all (``--fake-hosts 0``):
Placement has no providers, so every server of a request goes to cell0 in ERROR."""

from __future__ import annotations

import pytest
from boot_helpers import Placement, boot, default_image, make_flavor, wait_for, wait_gone
from compute_helpers import admin
from harness import start_cloud, stop_cloud

from stratus.cells import mappings
from stratus.compute_api.store import build_requests as build_store


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("no-hosts"), fake_hosts=0)
    yield running
    stop_cloud(running)


def test_every_server_of_a_request_lands_in_cell0_in_error_with_no_valid_host(cloud):
    compute = admin(cloud)
    assert Placement(cloud, compute.token).providers() == []
    flavor = make_flavor(compute, "nohost.small", ram=256, vcpus=1, disk=1)
    reservation = boot(compute, "nowhere", flavor["id"], default_image(cloud, compute.token),
                       server={"min_count": 3, "max_count": 3,
                               "return_reservation_id": True})["reservation_id"]
    servers = compute.get("/servers", params={"reservation_id": reservation}).json()["servers"]
    assert len(servers) == 3
    api = cloud.aio.compute.api_engine
    for listed in servers:
        server = wait_for(compute, listed["id"], "ERROR")
        assert server["fault"]["message"].startswith("No valid host was found. ")
        assert server["OS-EXT-STS:task_state"] is None
        with api.connect() as conn:
            assert mappings.get_instance_mapping(conn, listed["id"]).cell.is_cell0
            assert build_store.get_many(conn, [listed["id"]]) == {}
    for listed in servers:
        assert compute.delete(f"/servers/{listed['id']}").status_code == 204
        wait_gone(compute, listed["id"])
