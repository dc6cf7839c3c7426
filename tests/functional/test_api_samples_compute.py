"""Compute API samples for doc/api-ref: one conversation, every body checked against its file.

The cloud admin speaks 2.38 (the newest version) unless a call says otherwise, so the
samples show every field, admin-only ones included; the image proxy, gone from 2.36, is
spoken to at 2.35. Servers are moved into cell1 by
``land_in_cell`` (what the conductor will do) so that metadata and tags can be changed.
Server actions need a compute agent to carry them out: their samples come from a second
all-in-one with one fake compute host, on a server it boots.
The last tests check that each method the route table says starts (ends) at a
microversion really answers 404 one version earlier (later), so the reference's version
notes hold.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
import requests
import sqlalchemy as sa
from boot_helpers import boot, default_image, make_flavor, show, wait_for, wait_gone
from compute_helpers import IMAGE, add_compute_host, admin, cell, ensure_image, land_in_cell
from harness import start_cloud, stop_cloud
from samples import Samples

from stratus.cells import mappings
from stratus.cells.schema_api import utcnow
from stratus.compute_api import app as compute_app
from stratus.compute_api import versions

PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDS2qErR7E7zbrONJFb3ayWF50FEEc5g2I8dQnWo1CWC"
              " matrix")
# A fixed id for the snapshot the image samples show, so the image lists keep one order.
SNAPSHOT = "5f3c9a1e-7b2d-4e8f-a6c0-3d9e1b7f2a45"
VOLATILE = ("adminPass", "hostId", "reservation_id", "OS-EXT-SRV-ATTR:reservation_id",
            "request_id", "private_key")


@pytest.fixture(scope="module")
def host(cloud) -> str:
    """One compute host in cell1, mapped as discover_hosts maps it."""
    add_compute_host(cloud, "compute-1")
    with cloud.aio.compute.api_engine.begin() as conn:
        conn.execute(sa.insert(mappings.api.host_mappings).values(
            host="compute-1", cell_id=cell(cloud).id, created_at=utcnow()))
    return "compute-1"


@pytest.fixture(scope="module")
def acting_cloud(tmp_path_factory, neutron):
    """A second all-in-one, with a conductor, a scheduler and one fake compute agent.

    The first has no agents (its servers are landed by hand), so nothing there carries
    out a server action; here the fake agent ``compute-1`` does, with its ports in
    ``neutron``.
    """
    running = start_cloud(tmp_path_factory.mktemp("acting"), fake_hosts=1, host="compute",
                          **{"neutron.endpoint_override": neutron.url})
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def moving_cloud(tmp_path_factory):
    """A third all-in-one, with two fake hosts, for the actions that move a server."""
    running = start_cloud(tmp_path_factory.mktemp("moving"), fake_hosts=2, host="mover")
    yield running
    stop_cloud(running)


def _caller(samples: Samples, running) -> Callable[..., requests.Response]:
    """``call(method, path, name, body, status, version)``: one admin request to the
    compute API of ``running``, its bodies checked as samples ``<name>-req``/``-resp``."""
    base = f"{running.url}/compute"
    token = running.admin_token()

    def call(method: str, path: str, name: str | None = None, body=None, status: int = 200,
             version: str | None = "2.38") -> requests.Response:
        headers = {"X-Auth-Token": token}
        if version:
            headers["OpenStack-API-Version"] = f"compute {version}"
        if name and body is not None:
            samples.check(f"{name}-req", body)
        resp = requests.request(method, f"{base}{path}", json=body, headers=headers)
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
        if name and resp.content:
            samples.check(f"{name}-resp", resp.json())
        return resp

    return call


def test_compute_api_samples(cloud, host, acting_cloud, neutron, moving_cloud):
    samples = Samples("compute", cloud.url, volatile_keys=VOLATILE,
                      other_urls=(acting_cloud.url, moving_cloud.url))
    call = _caller(samples, cloud)
    token = cloud.admin_token()

    ensure_image(cloud)  # the image servers boot from
    call("GET", "/", "get", version=None)
    call("GET", "/v2.1", "get-v2.1", version=None)

    # flavors
    call("POST", "/v2.1/flavors", "os-flavor-manage-create", {"flavor": {
        "name": "m1.small", "id": "m1.small", "ram": 2048, "vcpus": 1, "disk": 20,
        "OS-FLV-EXT-DATA:ephemeral": 0, "swap": 0, "rxtx_factor": 1.0,
        "os-flavor-access:is_public": True}})
    call("GET", "/v2.1/flavors", "flavors-index")
    call("GET", "/v2.1/flavors/detail", "flavors-detail")
    call("GET", "/v2.1/flavors/m1.small", "flavors-show")
    call("POST", "/v2.1/flavors/m1.small/os-extra_specs", "os-flavor-extra-specs-create",
         {"extra_specs": {"hw:cpu_policy": "shared", "hw:numa_nodes": "1"}})
    call("GET", "/v2.1/flavors/m1.small/os-extra_specs", "os-flavor-extra-specs-index")
    call("GET", "/v2.1/flavors/m1.small/os-extra_specs/hw:numa_nodes",
         "os-flavor-extra-specs-show")
    call("PUT", "/v2.1/flavors/m1.small/os-extra_specs/hw:numa_nodes",
         "os-flavor-extra-specs-update", {"hw:numa_nodes": "2"})
    call("DELETE", "/v2.1/flavors/m1.small/os-extra_specs/hw:numa_nodes")
    call("POST", "/v2.1/flavors", body={"flavor": {
        "name": "m1.private", "id": "m1.private", "ram": 512, "vcpus": 1, "disk": 1,
        "os-flavor-access:is_public": False}})
    demo_project = requests.get(f"{cloud.identity}/v3/projects?name=demo", headers={
        "X-Auth-Token": token}).json()["projects"][0]["id"]
    call("POST", "/v2.1/flavors/m1.private/action", "flavor-access-add-tenant-access",
         {"addTenantAccess": {"tenant": demo_project}})
    call("GET", "/v2.1/flavors/m1.private/os-flavor-access", "os-flavor-access")
    call("POST", "/v2.1/flavors/m1.private/action", "flavor-access-remove-tenant-access",
         {"removeTenantAccess": {"tenant": demo_project}})
    call("DELETE", "/v2.1/flavors/m1.private", status=202)

    # key pairs
    call("POST", "/v2.1/os-keypairs", "os-keypairs-create", {"keypair": {
        "name": "laptop", "public_key": PUBLIC_KEY, "type": "ssh"}}, status=201)
    call("GET", "/v2.1/os-keypairs", "os-keypairs-index")
    call("GET", "/v2.1/os-keypairs/laptop", "os-keypairs-show")
    call("DELETE", "/v2.1/os-keypairs/laptop", status=204)

    # servers
    created = call("POST", "/v2.1/servers", "servers-create", {"server": {
        "name": "web-1", "imageRef": IMAGE, "flavorRef": "m1.small", "networks": "none",
        "description": "Front web server", "metadata": {"tier": "web"}}}, status=202)
    server = created.json()["server"]["id"]
    land_in_cell(cloud, server, host=host, node=f"{host}.example.org")
    call("GET", "/v2.1/servers", "servers-index")
    call("GET", "/v2.1/servers/detail", "servers-detail")
    call("GET", f"/v2.1/servers/{server}", "servers-show")
    call("PUT", f"/v2.1/servers/{server}", "servers-update",
         {"server": {"name": "web-01", "description": "Front web server, zone A"}})
    call("POST", f"/v2.1/servers/{server}/metadata", "server-metadata-create",
         {"metadata": {"owner": "web-team"}})
    call("GET", f"/v2.1/servers/{server}/metadata", "server-metadata-index")
    call("PUT", f"/v2.1/servers/{server}/metadata", "server-metadata-update-all",
         {"metadata": {"tier": "web", "owner": "ops"}})
    call("GET", f"/v2.1/servers/{server}/metadata/tier", "server-metadata-show")
    call("PUT", f"/v2.1/servers/{server}/metadata/tier", "server-metadata-update",
         {"meta": {"tier": "frontend"}})
    call("DELETE", f"/v2.1/servers/{server}/metadata/owner", status=204)
    call("PUT", f"/v2.1/servers/{server}/tags", "os-server-tags-update-all",
         {"tags": ["prod", "web"]})
    call("PUT", f"/v2.1/servers/{server}/tags/blue", status=201)
    call("GET", f"/v2.1/servers/{server}/tags", "os-server-tags-index")
    call("GET", f"/v2.1/servers/{server}/tags/blue", status=204)
    call("DELETE", f"/v2.1/servers/{server}/tags/blue", status=204)
    call("DELETE", f"/v2.1/servers/{server}/tags", status=204)

    # images: the deprecated proxy to the image service (/images up to 2.35, metadata 2.38)
    ensure_image(cloud, SNAPSHOT, name="web-01-snapshot", min_ram=2048, min_disk=20,
                 instance_uuid=server, image_type="snapshot", auto_disk_config="False",
                 os_distro="ubuntu")
    call("GET", "/v2.1/images", "images-index", version="2.35")
    call("GET", "/v2.1/images/detail", "images-detail", version="2.35")
    call("GET", f"/v2.1/images/{SNAPSHOT}", "images-show", version="2.35")
    image_metadata = f"/v2.1/images/{SNAPSHOT}/metadata"
    call("POST", image_metadata, "image-metadata-create",
         {"metadata": {"os_version": "24.04", "backup": "weekly"}})
    call("GET", image_metadata, "image-metadata-index")
    call("PUT", image_metadata, "image-metadata-update-all",
         {"metadata": {"os_distro": "ubuntu", "os_version": "24.04"}})
    call("GET", f"{image_metadata}/os_distro", "image-metadata-show")
    call("PUT", f"{image_metadata}/os_version", "image-metadata-update",
         {"meta": {"os_version": "24.10"}})
    call("DELETE", f"{image_metadata}/os_version", status=204)
    call("DELETE", f"/v2.1/images/{SNAPSHOT}", status=204, version="2.35")

    # limits and quotas
    call("GET", "/v2.1/limits", "limits")
    call("GET", f"/v2.1/os-quota-sets/{demo_project}", "os-quota-sets-show")
    call("GET", f"/v2.1/os-quota-sets/{demo_project}/detail", "os-quota-sets-detail")
    call("GET", f"/v2.1/os-quota-sets/{demo_project}/defaults", "os-quota-sets-defaults")
    call("PUT", f"/v2.1/os-quota-sets/{demo_project}", "os-quota-sets-update",
         {"quota_set": {"instances": 20, "cores": 40}})
    call("DELETE", f"/v2.1/os-quota-sets/{demo_project}", status=202)

    # hosts
    call("GET", "/v2.1/os-hypervisors", "os-hypervisors-list")
    listed = call("GET", "/v2.1/os-hypervisors/detail", "os-hypervisors-list-detail")
    hypervisor = listed.json()["hypervisors"][0]["id"]
    call("GET", "/v2.1/os-hypervisors/statistics", "os-hypervisors-statistics")
    call("GET", f"/v2.1/os-hypervisors/{hypervisor}", "os-hypervisors-show")
    call("GET", f"/v2.1/os-hypervisors/{host}/search", "os-hypervisors-search")
    call("GET", f"/v2.1/os-hypervisors/{host}/servers", "os-hypervisors-servers")
    call("GET", "/v2.1/os-services", "os-services-list")
    call("PUT", "/v2.1/os-services/disable-log-reason", "os-services-update",
         {"host": host, "binary": "nova-compute", "disabled_reason": "maintenance"})
    call("GET", "/v2.1/os-availability-zone", "os-availability-zone-list")
    call("GET", "/v2.1/os-availability-zone/detail", "os-availability-zone-detail")

    # server groups
    group = call("POST", "/v2.1/os-server-groups", "os-server-groups-create", {
        "server_group": {"name": "web", "policies": ["soft-anti-affinity"]}}).json()
    group_id = group["server_group"]["id"]
    call("GET", "/v2.1/os-server-groups", "os-server-groups-index")
    call("GET", f"/v2.1/os-server-groups/{group_id}", "os-server-groups-show")
    call("DELETE", f"/v2.1/os-server-groups/{group_id}", status=204)

    # aggregates
    aggregate = call("POST", "/v2.1/os-aggregates", "os-aggregates-create", {
        "aggregate": {"name": "rack-1", "availability_zone": "zone-a"}}).json()
    aggregate_id = aggregate["aggregate"]["id"]
    call("GET", "/v2.1/os-aggregates", "os-aggregates-index")
    call("GET", f"/v2.1/os-aggregates/{aggregate_id}", "os-aggregates-show")
    call("PUT", f"/v2.1/os-aggregates/{aggregate_id}", "os-aggregates-update",
         {"aggregate": {"name": "rack-01"}})
    call("POST", f"/v2.1/os-aggregates/{aggregate_id}/action", "os-aggregates-add-host",
         {"add_host": {"host": host}})
    call("POST", f"/v2.1/os-aggregates/{aggregate_id}/action", "os-aggregates-set-metadata",
         {"set_metadata": {"metadata": {"ssd": "true"}}})
    call("POST", f"/v2.1/os-aggregates/{aggregate_id}/action", "os-aggregates-remove-host",
         {"remove_host": {"host": host}})
    call("DELETE", f"/v2.1/os-aggregates/{aggregate_id}")

    # deleting a server records an action, readable from 2.21 once the server is gone
    deleted = call("DELETE", f"/v2.1/servers/{server}", status=204)
    request_id = deleted.headers["x-openstack-request-id"]
    call("GET", f"/v2.1/servers/{server}/os-instance-actions", "os-instance-actions-list")
    call("GET", f"/v2.1/servers/{server}/os-instance-actions/{request_id}",
         "os-instance-actions-show")
    spare = add_compute_host(cloud, "compute-spare")
    call("DELETE", f"/v2.1/os-services/{spare}", status=204)

    _server_action_samples(_caller(samples, acting_cloud), admin(acting_cloud))
    _network_samples(_caller(samples, acting_cloud), admin(acting_cloud), neutron)
    _move_samples(_caller(samples, moving_cloud), admin(moving_cloud), moving_cloud)
    samples.assert_all_checked()


def _server_action_samples(call, compute) -> None:
    """Every body of POST /servers/{server_id}/action, on a server the fake agent runs.

    The agent finishes an action after the 202, so each is waited for (the status it
    leads to, no task state left) before the next, as a client would wait.
    """
    flavor = make_flavor(compute, "m1.small", ram=2048, vcpus=1, disk=20)
    server = boot(compute, "web-2", flavor["id"], default_image(compute.cloud, compute.token))
    wait_for(compute, server["id"], "ACTIVE")
    action = f"/v2.1/servers/{server['id']}/action"
    for name, body, status in (
            ("servers-reboot", {"reboot": {"type": "SOFT"}}, "ACTIVE"),
            ("servers-stop", {"os-stop": None}, "SHUTOFF"),
            ("servers-start", {"os-start": None}, "ACTIVE"),
            ("os-pause-server-pause", {"pause": None}, "PAUSED"),
            ("os-pause-server-unpause", {"unpause": None}, "ACTIVE"),
            ("os-suspend-server-suspend", {"suspend": None}, "SUSPENDED"),
            ("os-suspend-server-resume", {"resume": None}, "ACTIVE")):
        call("POST", action, name, body, status=202)
        wait_for(compute, server["id"], status)
    call("POST", action, "os-console-output", {"os-getConsoleOutput": {"length": 4}})
    snapshot = call("POST", action, "servers-create-image", {"createImage": {
        "name": "web-2-snapshot", "metadata": {"purpose": "before upgrade"}}}, status=202)
    image_id = snapshot.headers["Location"].rsplit("/", 1)[1]
    _wait_active(compute, image_id)
    wait_for(compute, server["id"], "ACTIVE")
    # lock, unlock and os-resetState change the server in the API, with no agent involved
    call("POST", action, "os-lock-server-lock", {"lock": None}, status=202)
    assert show(compute, server["id"])["locked"] is True
    call("POST", action, "os-lock-server-unlock", {"unlock": None}, status=202)
    call("POST", action, "servers-rebuild", {"rebuild": {
        "imageRef": default_image(compute.cloud, compute.token), "name": "web-2-rebuilt",
        "metadata": {"rebuilt": "yes"}}}, status=202)
    wait_for(compute, server["id"], "ACTIVE")
    call("POST", action, "os-admin-actions-reset-state",
         {"os-resetState": {"state": "error"}}, status=202)
    assert show(compute, server["id"])["status"] == "ERROR"
    assert compute.delete(f"/servers/{server['id']}").status_code == 204
    wait_gone(compute, server["id"])


def _move_samples(call, compute, running) -> None:
    """resize (confirmed, then reverted), migrate and evacuate, between two fake hosts."""
    small = make_flavor(compute, "m1.small", ram=2048, vcpus=1, disk=20)
    large = make_flavor(compute, "m1.large", ram=4096, vcpus=2, disk=40)
    # the same disk as m1.large: a resize never shrinks a disk
    wide = make_flavor(compute, "m1.wide", ram=8192, vcpus=4, disk=40)
    # The server starts on mover-1, so every move (and the migrations sample) is the same
    # on each run: the other host is kept out of the boot.
    other = {"host": "mover-2", "binary": "nova-compute"}
    call("PUT", "/v2.1/os-services/disable", body=other)
    server = boot(compute, "web-4", small["id"], default_image(running, compute.token))
    wait_for(compute, server["id"], "ACTIVE")
    call("PUT", "/v2.1/os-services/enable", body=other)
    action = f"/v2.1/servers/{server['id']}/action"
    call("POST", action, "servers-resize", {"resize": {"flavorRef": large["id"]}},
         status=202)
    wait_for(compute, server["id"], "VERIFY_RESIZE")
    call("POST", action, "servers-confirm-resize", {"confirmResize": None}, status=204)
    wait_for(compute, server["id"], "ACTIVE")
    call("POST", action, None, {"resize": {"flavorRef": wide["id"]}}, status=202)
    wait_for(compute, server["id"], "VERIFY_RESIZE")
    call("POST", action, "servers-revert-resize", {"revertResize": None}, status=202)
    wait_for(compute, server["id"], "ACTIVE")
    call("POST", action, "servers-migrate", {"migrate": None}, status=202)
    wait_for(compute, server["id"], "VERIFY_RESIZE")
    call("POST", action, None, {"confirmResize": None}, status=204)
    wait_for(compute, server["id"], "ACTIVE")
    # Evacuation needs the server's host down: its agent stops and is forced down.
    source = show(compute, server["id"])["OS-EXT-SRV-ATTR:host"]
    running.aio.rpc_services.agents.stop_agent(source)
    down = admin(running, "2.11").put("/os-services/force-down", {
        "host": source, "binary": "nova-compute", "forced_down": True})
    assert down.status_code == 200, down.text
    call("POST", action, "servers-evacuate", {"evacuate": {}}, version="2.13")
    wait_for(compute, server["id"], "ACTIVE")
    assert show(compute, server["id"])["OS-EXT-SRV-ATTR:host"] != source
    # The four moves' records, once the last has settled (the stopped source host never
    # cleans up, so the evacuation stays "done").
    _wait_migrations(compute, ["confirmed", "reverted", "confirmed", "done"])
    call("GET", "/v2.1/os-migrations", "os-migrations-index")
    call("GET", f"/v2.1/servers/{server['id']}/migrations", "servers-migrations-index")
    assert compute.delete(f"/servers/{server['id']}").status_code == 204
    wait_gone(compute, server["id"])


def _wait_migrations(compute, statuses: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = [m["status"] for m in compute.get("/os-migrations").json()["migrations"]]
        if found == statuses:
            return
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def _network_samples(call, compute, neutron) -> None:
    """A server's addresses (/ips) and ports (os-interface), on a server the fake agent
    runs with a port on network ``private``."""
    project = requests.get(f"{compute.cloud.identity}/v3/projects?name=admin", headers={
        "X-Auth-Token": compute.token}).json()["projects"][0]["id"]
    private = neutron.add_network("private", project, "192.168.0.0/24")
    other = neutron.add_network("backend", project, "10.20.0.0/24")
    flavor = next(f["id"] for f in compute.get("/flavors").json()["flavors"]
                  if f["name"] == "m1.small")
    server = boot(compute, "web-3", flavor, default_image(compute.cloud, compute.token),
                  server={"networks": [{"uuid": private["id"]}]})
    wait_for(compute, server["id"], "ACTIVE")
    ips = f"/v2.1/servers/{server['id']}/ips"
    call("GET", ips, "ips-index")
    call("GET", f"{ips}/private", "ips-show")
    interfaces = f"/v2.1/servers/{server['id']}/os-interface"
    attached = call("POST", interfaces, "os-attach-interfaces-create",
                    {"interfaceAttachment": {"net_id": other["id"],
                                             "fixed_ips": [{"ip_address": "10.20.0.10"}]}})
    port_id = attached.json()["interfaceAttachment"]["port_id"]
    call("GET", interfaces, "os-attach-interfaces-list")
    call("GET", f"{interfaces}/{port_id}", "os-attach-interfaces-show")
    call("DELETE", f"{interfaces}/{port_id}", status=202)
    wait_for(compute, server["id"], "ACTIVE")
    assert compute.delete(f"/servers/{server['id']}").status_code == 204
    wait_gone(compute, server["id"])
    assert neutron.ports_of(server["id"]) == []


def _wait_active(compute, image_id: str, timeout: float = 30) -> None:
    """Wait until the snapshot's image is active in the image service."""
    deadline = time.monotonic() + timeout
    while True:
        resp = requests.get(f"{compute.cloud.url}/image/v2/images/{image_id}",
                            headers={"X-Auth-Token": compute.token})
        assert resp.status_code == 200, resp.text
        if resp.json()["status"] == "active":
            return
        assert time.monotonic() < deadline, resp.text
        time.sleep(0.05)


def _previous(version: str) -> str:
    names = [name for name, _ in versions.HISTORY]
    return names[names.index(version) - 1]


MICROVERSIONED = [(method, route.path, spec.min_version) for route in compute_app.ROUTES
                  for method, spec in route.specs.items() if spec.min_version]


@pytest.fixture(scope="module")
def landed_server(cloud) -> str:
    token = cloud.admin_token()
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.38"}
    ensure_image(cloud)
    flavor = requests.post(f"{cloud.url}/compute/v2.1/flavors", headers=headers, json={
        "flavor": {"name": "versions", "ram": 64, "vcpus": 1, "disk": 1}}).json()["flavor"]
    resp = requests.post(f"{cloud.url}/compute/v2.1/servers", headers=headers, json={
        "server": {"name": "versions", "imageRef": IMAGE, "flavorRef": flavor["id"],
                   "networks": "none"}})
    assert resp.status_code == 202, resp.text
    server = resp.json()["server"]["id"]
    land_in_cell(cloud, server)
    return server


@pytest.mark.parametrize("method,path,since", MICROVERSIONED)
def test_a_method_is_served_from_the_version_the_route_table_names(cloud, landed_server,
                                                                   method, path, since):
    """``Spec.min_version`` (the reference's "New in") is where the method starts answering.

    One version earlier the route is unknown (404, "The resource could not be found.");
    from that version on it is served.
    """
    url = cloud.url + "/compute" + path.format(server_id=landed_server, tag="t",
                                               migration_id="1")

    def send(version: str) -> requests.Response:
        return requests.request(method, url, json={"tags": ["t"]} if method == "PUT" and
                                path.endswith("/tags") else None, headers={
            "X-Auth-Token": cloud.admin_token(),
            "OpenStack-API-Version": f"compute {version}"})

    unknown = {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}
    before = send(_previous(since))
    assert (before.status_code, before.json()) == (404, unknown)
    served = send(since)
    assert served.status_code < 300 or served.json() != unknown, served.text


UNTIL = [(method, route.path, spec.max_version) for route in compute_app.ROUTES
         for method, spec in route.specs.items() if spec.max_version]
_BODIES = {("POST", "metadata"): {"metadata": {"k": "v"}},
           ("PUT", "metadata"): {"metadata": {"k": "v"}}, ("PUT", "{key}"): {"meta": {"k": "v"}}}


@pytest.mark.parametrize("method,path,until", UNTIL)
def test_a_method_is_served_up_to_the_version_the_route_table_names(cloud, method, path,
                                                                    until):
    """``Spec.max_version`` (the reference's "Available until") is the last version served.

    One version later, where this cloud serves it, the route is unknown (404); nothing is
    changed by that request.
    """
    image = ensure_image(cloud, str(uuid.uuid4()), k="v")["id"]
    url = cloud.url + "/compute" + path.format(image_id=image, key="k")
    body = _BODIES.get((method, path.rsplit("/", 1)[-1]))

    def send(version: str) -> requests.Response:
        return requests.request(method, url, json=body, headers={
            "X-Auth-Token": cloud.admin_token(),
            "OpenStack-API-Version": f"compute {version}"})

    names = [name for name, _ in versions.HISTORY]
    if until != names[-1]:
        unknown = {"itemNotFound": {"code": 404,
                                    "message": "The resource could not be found."}}
        after = send(names[names.index(until) + 1])
        assert (after.status_code, after.json()) == (404, unknown)
        assert requests.get(f"{cloud.url}/image/v2/images/{image}", headers={
            "X-Auth-Token": cloud.admin_token()}).json()["k"] == "v"
    served = send(until)
    assert served.status_code < 300, served.text
