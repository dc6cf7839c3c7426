"""Fresh network resources for the network policy matrix: ``{new_*}``-style placeholders.

Networks, subnets, subnet pools, ports, routers and security groups belong to the owning
project ``{project_id}`` and are made by its member through the API; shared and external
networks are the cloud admin's. The owning project's quotas are lifted once per world (in
the network database, not through the quota API the matrix checks), so rows never meet
OverQuota however often they run. Everything a row changes or deletes is made fresh per
call. A factory never needs the rule of the rows that use it (the override test denies
it).
"""

from __future__ import annotations

import uuid

import requests
import sqlalchemy as sa
from personas import World

from stratus.netsvc import schema as s
from stratus.netsvc.store import quotas


def _name() -> str:
    return f"matrix-{uuid.uuid4().hex[:8]}"


def _ready(world: World) -> None:
    """Once per world: no quota limits on the owning project (``network: -1``, ...)."""
    if world.values.get("network_ready"):
        return
    project_id = world.values["project_id"]
    world.cloud.aio.network.write(lambda conn: quotas.update(
        conn, project_id, dict.fromkeys(quotas.RESOURCES, -1)))
    world.values["network_ready"] = "yes"


def _call(world: World, method: str, path: str, body: dict | None = None,
          token: str | None = None) -> dict:
    """A network API call as the owning project's member (or ``token``): its JSON."""
    _ready(world)
    resp = requests.request(method, f"{world.cloud.url}/network/v2.0{path}", json=body,
                            headers={"X-Auth-Token": token or world.tokens["member"]})
    assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
    return resp.json() if resp.content else {}


def _network(world: World, token: str | None = None, **attributes) -> str:
    return _call(world, "POST", "/networks", {"network": {"name": _name(), **attributes}},
                 token=token)["network"]["id"]


def new_network_id(world: World, persona: str) -> str:
    """A private network of the owning project, with no subnet."""
    return _network(world)


def shared_network_id(world: World, persona: str) -> str:
    """A network of the admin's project, shared with every project."""
    return _network(world, token=world.admin_token, shared=True)


def external_network_id(world: World, persona: str) -> str:
    """A network of the admin's project with ``router:external`` (not the default one)."""
    return _network(world, token=world.admin_token, **{"router:external": True})


def _subnet(world: World, network_id: str, token: str | None = None) -> str:
    return _call(world, "POST", "/subnets", {"subnet": {
        "name": _name(), "network_id": network_id, "ip_version": 4,
        "cidr": "192.168.77.0/24"}}, token=token)["subnet"]["id"]


def new_subnet_id(world: World, persona: str) -> str:
    """A subnet (192.168.77.0/24, gateway .1) on a fresh network of the owning project."""
    return _subnet(world, new_network_id(world, persona))


def shared_subnet_id(world: World, persona: str) -> str:
    """The admin's subnet on a fresh shared network."""
    return _subnet(world, shared_network_id(world, persona), token=world.admin_token)


def new_subnetpool_id(world: World, persona: str) -> str:
    """A subnet pool of the owning project (not shared, not a default)."""
    return _call(world, "POST", "/subnetpools", {"subnetpool": {
        "name": _name(), "prefixes": ["10.240.0.0/16"], "default_prefixlen": 24}}
    )["subnetpool"]["id"]


def new_port_id(world: World, persona: str) -> str:
    """A port of the owning project on a fresh network of its own, unbound."""
    return _call(world, "POST", "/ports", {"port": {
        "name": _name(), "network_id": new_network_id(world, persona)}})["port"]["id"]


def new_router_id(world: World, persona: str) -> str:
    """A router of the owning project with no gateway and no interface."""
    return _call(world, "POST", "/routers", {"router": {"name": _name()}})["router"]["id"]


def interfaced_router_id(world: World, persona: str) -> str:
    """A router of the owning project with an interface on a fresh subnet of the project;
    ``{interface_subnet_id}`` is that subnet."""
    router = new_router_id(world, persona)
    subnet = new_subnet_id(world, persona)
    _call(world, "PUT", f"/routers/{router}/add_router_interface", {"subnet_id": subnet})
    world.values["interface_subnet_id"] = subnet
    return router


def new_security_group_id(world: World, persona: str) -> str:
    """A security group of the owning project (with Neutron's two egress rules)."""
    return _call(world, "POST", "/security-groups", {"security_group": {
        "name": _name()}})["security_group"]["id"]


def new_security_group_rule_id(world: World, persona: str) -> str:
    """An ingress SSH rule in a fresh security group of the owning project."""
    return _call(world, "POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": new_security_group_id(world, persona), "direction": "ingress",
        "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}}
    )["security_group_rule"]["id"]


def _undefault(world: World, persona: str, table: sa.Table, *where) -> str:
    """A fresh name; for the admin, ``table``'s default rows first stop being defaults
    (in the database), so the row's admin may make the next default."""
    if persona == "admin":
        world.cloud.aio.network.write(lambda conn: conn.execute(
            sa.update(table).where(table.c.is_default.is_(True), *where)
            .values(is_default=False)))
    return _name()


def default_network_name(world: World, persona: str) -> str:
    """A name for the cloud's next default external network: a cloud has one, as in
    Neutron (DefaultExternalNetworkExists). The admin's new one serves auto-allocation."""
    return _undefault(world, persona, s.networks)


def default_pool_name(world: World, persona: str) -> str:
    """A name for the cloud's next default IPv6 subnet pool (one per IP version)."""
    return _undefault(world, persona, s.subnetpools, s.subnetpools.c.ip_version == 6)


FACTORIES = {
    "new_network_id": new_network_id,
    "shared_network_id": shared_network_id,
    "external_network_id": external_network_id,
    "new_subnet_id": new_subnet_id,
    "shared_subnet_id": shared_subnet_id,
    "new_subnetpool_id": new_subnetpool_id,
    "new_port_id": new_port_id,
    "new_router_id": new_router_id,
    "interfaced_router_id": interfaced_router_id,
    "new_security_group_id": new_security_group_id,
    "new_security_group_rule_id": new_security_group_rule_id,
    "default_network_name": default_network_name,
    "default_pool_name": default_pool_name,
}
