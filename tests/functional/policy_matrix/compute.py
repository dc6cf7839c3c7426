"""Fresh compute resources for the compute policy matrix: ``{new_*}``-style placeholders.

Servers, server groups and key pairs belong to the owning project ``{project_id}`` and are
made by its member through the API. Servers boot on the matrix cloud's fake compute host
and are handed out ACTIVE, or brought by their member into the state a server action
needs (stopped, paused, suspended, locked), so an action's row meets policy, never a 409
for state. Images for the image proxy are made through the image API
(``compute_helpers.ensure_image``), private to the owning project. Flavors, aggregates and
the extra compute host ``matrix-host`` (service and node rows, no agent) are the cloud
admin's. A live migration, which Stratus does not serve, is a record written into cell1
as Nova's conductor writes one. Everything a row changes or deletes is made fresh per
call. A factory never needs the rule of the rows that use it (the override test denies it).
"""

from __future__ import annotations

import time
import uuid

import requests
import sqlalchemy as sa
from compute_helpers import IMAGE, add_compute_host, cell, cell_engine, ensure_image
from personas import World

from stratus.cells import mappings
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import instances, migrations

VERSION = {"OpenStack-API-Version": "compute 2.38"}
FLAVOR = "matrix-tiny"
BIGGER = "matrix-bigger"  # what servers are resized to
HOST = "matrix-host"


def _call(world: World, method: str, path: str, body=None, token: str | None = None,
          version: str = "2.38") -> requests.Response:
    headers = {"X-Auth-Token": token or world.admin_token,
               "OpenStack-API-Version": f"compute {version}"}
    resp = requests.request(method, f"{world.cloud.url}/compute/v2.1{path}", json=body,
                            headers=headers)
    assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
    return resp


def _member(world: World) -> str:
    return world.tokens["member"]


def _map_host(world: World, host: str) -> None:
    """A compute host's service and node rows, mapped to cell1 as discover_hosts does."""
    add_compute_host(world.cloud, host)
    with world.cloud.aio.compute.api_engine.begin() as conn:
        conn.execute(sa.insert(mappings.api.host_mappings).values(
            host=host, cell_id=cell(world.cloud).id, created_at=utcnow()))


def _ready(world: World) -> None:
    """Once per world: the boot image, a public flavor, no quota limits on the owning
    project, one host."""
    if world.values.get("compute_ready"):
        return
    ensure_image(world.cloud)
    _call(world, "POST", "/flavors", {"flavor": {
        "name": FLAVOR, "id": FLAVOR, "ram": 64, "vcpus": 1, "disk": 1}})
    _call(world, "POST", "/flavors", {"flavor": {
        "name": BIGGER, "id": BIGGER, "ram": 128, "vcpus": 1, "disk": 1}})
    _call(world, "PUT", f"/os-quota-sets/{world.values['project_id']}", {"quota_set": {
        "instances": -1, "cores": -1, "ram": -1, "server_groups": -1,
        "metadata_items": -1}})
    _map_host(world, HOST)
    world.values["compute_ready"] = "yes"


def flavor_id(world: World, persona: str) -> str:
    _ready(world)
    return FLAVOR


def _settled(world: World, server: str, vm_state: str, timeout: float = 30.0) -> None:
    """Wait until the server's row in cell1 has ``vm_state`` and no task. Read from the
    database: showing the server through the API is a rule the override test denies."""
    query = sa.select(instances.c.vm_state, instances.c.task_state).where(
        instances.c.uuid == server, instances.c.deleted == 0)
    deadline = time.monotonic() + timeout
    while True:
        with cell_engine(world.cloud).connect() as conn:
            row = conn.execute(query).first()
        if row is not None and row.vm_state == vm_state and row.task_state is None:
            return
        assert time.monotonic() < deadline, f"server {server} never {vm_state}: {row}"
        time.sleep(0.02)


def new_server_id(world: World, persona: str, **extra) -> str:
    """An ACTIVE server of the owning project, booted by its member."""
    _ready(world)
    server = _call(world, "POST", "/servers", {"server": {
        "name": f"matrix-{uuid.uuid4().hex[:8]}", "imageRef": IMAGE, "flavorRef": FLAVOR,
        "networks": "none", **extra}}, token=_member(world)).json()["server"]["id"]
    _settled(world, server, "active")
    return server


def _acted_on(world: World, persona: str, action: dict, vm_state: str | None = None,
              token: str | None = None) -> str:
    """A fresh server after ``action`` by its member (or ``token``), settled in
    ``vm_state``."""
    server = new_server_id(world, persona)
    _call(world, "POST", f"/servers/{server}/action", action, token=token or _member(world))
    if vm_state:
        _settled(world, server, vm_state)
    return server


def stopped_server_id(world: World, persona: str) -> str:
    return _acted_on(world, persona, {"os-stop": None}, "stopped")


def paused_server_id(world: World, persona: str) -> str:
    return _acted_on(world, persona, {"pause": None}, "paused")


def suspended_server_id(world: World, persona: str) -> str:
    return _acted_on(world, persona, {"suspend": None}, "suspended")


def bigger_flavor_id(world: World, persona: str) -> str:
    """A public flavor servers can be resized to from ``{flavor_id}``."""
    _ready(world)
    return BIGGER


def boot_image_id(world: World, persona: str) -> str:
    """The image servers boot from (rebuilds use it too)."""
    _ready(world)
    return IMAGE


def resized_server_id(world: World, persona: str) -> str:
    """A server its member resized to ``{bigger_flavor_id}``, waiting in VERIFY_RESIZE on
    the matrix cloud's other fake host."""
    return _acted_on(world, persona, {"resize": {"flavorRef": BIGGER}}, "resized")


def live_migrating_server_id(world: World, persona: str) -> str:
    """An ACTIVE server with a running live migration recorded in cell1, as Nova's
    conductor records one (Stratus serves no live migration); ``{live_migration_id}`` is
    that record's id."""
    server = new_server_id(world, persona)
    with cell_engine(world.cloud).begin() as conn:
        world.values["live_migration_id"] = str(conn.execute(sa.insert(migrations).values(
            uuid=str(uuid.uuid4()), instance_uuid=server, migration_type="live-migration",
            status="running", source_compute=HOST, dest_compute=HOST,
            created_at=utcnow())).inserted_primary_key[0])
    return server


def locked_server_id(world: World, persona: str) -> str:
    """A server its member locked: Nova records the lock as the owner's."""
    return _acted_on(world, persona, {"lock": None})


def admin_locked_server_id(world: World, persona: str) -> str:
    """A server the cloud admin (of another project) locked: the lock is the admin's."""
    return _acted_on(world, persona, {"lock": None}, token=world.admin_token)


def tagged_server_id(world: World, persona: str) -> str:
    """A server with metadata ``matrix: yes`` and the tag ``matrix``."""
    server = new_server_id(world, persona, metadata={"matrix": "yes"})
    _call(world, "PUT", f"/servers/{server}/tags/matrix", token=_member(world))
    return server


def networked_server_id(world: World, persona: str) -> str:
    """An ACTIVE server with one port on the owning project's network ``matrix-net`` (in
    the matrix cloud's fake Neutron); ``{networked_port_id}`` is that port and
    ``{matrix_network_id}`` the network."""
    _ready(world)
    neutron = world.cloud.neutron
    if "matrix_network_id" not in world.values:
        world.values["matrix_network_id"] = neutron.add_network(
            "matrix-net", world.values["project_id"], "192.168.200.0/24")["id"]
    server = new_server_id(world, persona,
                           networks=[{"uuid": world.values["matrix_network_id"]}])
    world.values["networked_port_id"] = neutron.ports_of(server)[0]["id"]
    return server


def acted_server_id(world: World, persona: str) -> str:
    """A server its member deleted; ``{acted_request_id}`` is that delete's request id.

    Rows read it at 2.21, where the actions of a deleted server can be read.
    """
    server = new_server_id(world, persona)
    resp = _call(world, "DELETE", f"/servers/{server}", token=_member(world))
    world.values["acted_request_id"] = resp.headers["x-openstack-request-id"]
    return server


def proxied_image_id(world: World, persona: str) -> str:
    """An active image private to the owning project, with the property ``matrix: yes``."""
    return ensure_image(world.cloud, str(uuid.uuid4()), visibility="private",
                        owner=world.values["project_id"], matrix="yes")["id"]


def new_private_flavor_id(world: World, persona: str) -> str:
    flavor = f"matrix-{uuid.uuid4().hex[:8]}"
    _call(world, "POST", "/flavors", {"flavor": {
        "name": flavor, "id": flavor, "ram": 64, "vcpus": 1, "disk": 1,
        "os-flavor-access:is_public": False}})
    return flavor


def shared_flavor_id(world: World, persona: str) -> str:
    """A private flavor the owning project has been given access to."""
    flavor = new_private_flavor_id(world, persona)
    _call(world, "POST", f"/flavors/{flavor}/action", {
        "addTenantAccess": {"tenant": world.values["project_id"]}})
    return flavor


def spec_flavor_id(world: World, persona: str) -> str:
    """A public flavor with the extra spec ``matrix:key``."""
    flavor = f"matrix-{uuid.uuid4().hex[:8]}"
    _call(world, "POST", "/flavors", {"flavor": {
        "name": flavor, "id": flavor, "ram": 64, "vcpus": 1, "disk": 1}})
    _call(world, "POST", f"/flavors/{flavor}/os-extra_specs",
          {"extra_specs": {"matrix:key": "value"}})
    return flavor


def member_keypair(world: World, persona: str) -> str:
    """A key pair of the owning project's member user."""
    name = f"matrix-{uuid.uuid4().hex[:8]}"
    _call(world, "POST", "/os-keypairs", {"keypair": {"name": name}}, token=_member(world))
    return name


def group_id(world: World, persona: str) -> str:
    """A server group of the owning project."""
    return _call(world, "POST", "/os-server-groups", {"server_group": {
        "name": f"matrix-{uuid.uuid4().hex[:8]}", "policies": ["affinity"]}},
        token=_member(world)).json()["server_group"]["id"]


def aggregate_id(world: World, persona: str) -> str:
    return str(_call(world, "POST", "/os-aggregates", {"aggregate": {
        "name": f"matrix-{uuid.uuid4().hex[:8]}"}}).json()["aggregate"]["id"])


def hosted_aggregate_id(world: World, persona: str) -> str:
    """An aggregate holding ``matrix-host``."""
    _ready(world)
    aggregate = aggregate_id(world, persona)
    _call(world, "POST", f"/os-aggregates/{aggregate}/action", {"add_host": {"host": HOST}})
    return aggregate


def hypervisor_id(world: World, persona: str) -> str:
    _ready(world)
    found = _call(world, "GET", f"/os-hypervisors/{HOST}/search").json()["hypervisors"]
    return str(found[0]["id"])


def new_compute_service_id(world: World, persona: str) -> str:
    """A fresh compute service with no instances, safe to delete."""
    host = f"matrix-{uuid.uuid4().hex[:8]}"
    _map_host(world, host)
    services = _call(world, "GET", f"/os-services?host={host}").json()["services"]
    return str(services[0]["id"])


def host(world: World, persona: str) -> str:
    _ready(world)
    return HOST


FACTORIES = {
    "flavor_id": flavor_id,
    "new_server_id": new_server_id,
    "tagged_server_id": tagged_server_id,
    "acted_server_id": acted_server_id,
    "networked_server_id": networked_server_id,
    "stopped_server_id": stopped_server_id,
    "paused_server_id": paused_server_id,
    "suspended_server_id": suspended_server_id,
    "locked_server_id": locked_server_id,
    "bigger_flavor_id": bigger_flavor_id,
    "boot_image_id": boot_image_id,
    "resized_server_id": resized_server_id,
    "live_migrating_server_id": live_migrating_server_id,
    "admin_locked_server_id": admin_locked_server_id,
    "proxied_image_id": proxied_image_id,
    "new_private_flavor_id": new_private_flavor_id,
    "shared_flavor_id": shared_flavor_id,
    "spec_flavor_id": spec_flavor_id,
    "member_keypair": member_keypair,
    "group_id": group_id,
    "aggregate_id": aggregate_id,
    "hosted_aggregate_id": hosted_aggregate_id,
    "hypervisor_id": hypervisor_id,
    "new_compute_service_id": new_compute_service_id,
    "host": host,
}
