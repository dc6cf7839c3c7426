"""The conductor's and the server actions' SQL on every backend: one server's life on
SQLite, PostgreSQL and MySQL (fresh databases per backend), with one fake host."""

import pytest
from boot_helpers import (
    Placement,
    boot,
    default_image,
    flavor_usage,
    make_flavor,
    wait_for,
    wait_gone,
)
from compute_helpers import admin
from harness import start_cloud, stop_cloud

from stratus.conf.database import group_name


@pytest.fixture
def backend_cloud(backend_urls, tmp_path):
    overrides = {f"{group_name(name)}.connection": url for name, url in backend_urls.items()}
    cloud = start_cloud(tmp_path, fake_hosts=1, **overrides,
                        **{"fake_driver.memory_mb": 4096, "fake_driver.vcpus": 4})
    yield cloud
    stop_cloud(cloud)


def test_boot_act_fail_and_delete_on_every_backend(backend_cloud):
    cloud = backend_cloud
    compute = admin(cloud)
    placement = Placement(cloud, compute.token)
    image = default_image(cloud, compute.token)
    small = make_flavor(compute, "tour.small", ram=256, vcpus=1, disk=1)
    huge = make_flavor(compute, "tour.huge", ram=16384, vcpus=1, disk=1)

    server = wait_for(compute, boot(compute, "tour", small["id"], image)["id"], "ACTIVE")
    provider = placement.provider_named(server["OS-EXT-SRV-ATTR:hypervisor_hostname"])
    assert {rc: used for rc, used in placement.usages(provider["uuid"]).items() if used} == \
        flavor_usage(small)
    assert compute.post(f"/servers/{server['id']}/action",
                        {"os-stop": None}).status_code == 202
    assert wait_for(compute, server["id"], "SHUTOFF")["OS-EXT-STS:power_state"] == 4
    failed = wait_for(compute, boot(compute, "tour-huge", huge["id"], image)["id"], "ERROR")
    assert failed["fault"]["message"].startswith("No valid host was found")
    listed = {s["id"]: s for s in compute.get("/servers/detail").json()["servers"]}
    assert listed[failed["id"]]["fault"]["code"] == 500
    assert listed[server["id"]]["status"] == "SHUTOFF"

    for server_id in (server["id"], failed["id"]):
        assert compute.delete(f"/servers/{server_id}").status_code == 204
        wait_gone(compute, server_id)
    assert set(placement.usages(provider["uuid"]).values()) == {0}
