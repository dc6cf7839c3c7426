"""Auto-allocated topologies ("Get Me a Network"): a project's network, a subnet from the
default subnet pool and a router to the default external network, made once.

The whole topology is made in one transaction that also inserts the project's
``auto_allocated_topologies`` row (its primary key is the project): of two concurrent
first requests, the second loses on that key, is run again by the transaction retry, and
finds the first one's topology.
"""

from __future__ import annotations

import sqlalchemy as sa

from stratus.netsvc import errors
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, networks, ports, routers, subnetpools, subnets

tc = s.auto_allocated_topologies.c
NETWORK_NAME = "auto_allocated_network"
ROUTER_NAME = "auto_allocated_router"
SUBNET_NAMES = {4: "auto_allocated_subnet_v4", 6: "auto_allocated_subnet_v6"}
ADMIN = Viewer(None, True)


def find(conn: sa.Connection, project_id: str) -> dict | None:
    row = conn.execute(sa.select(s.auto_allocated_topologies)
                       .where(tc.project_id == project_id)).mappings().first()
    return dict(row) if row else None


def requirements(conn: sa.Connection) -> tuple[dict, list[dict]]:
    """The default external network and default subnet pools, or 409 naming what is
    missing (Neutron's messages)."""
    external = networks.default_external(conn)
    if external is None:
        raise errors.auto_allocation_failure("No default router:external network")
    pools = [p for p in (subnetpools.default_pool(conn, v) for v in (4, 6)) if p]
    if not pools:
        raise errors.auto_allocation_failure("No default subnetpools defined")
    return external, pools


def view(project_id: str, network_id: str) -> dict:
    return {"auto_allocated_topology": {"id": network_id, "tenant_id": project_id,
                                        "project_id": project_id}}


def dry_run_view(project_id: str) -> dict:
    # Neutron answers a passing check with this id; clients print "pass" for it.
    return {"auto_allocated_topology": {"id": "dry-run=pass", "dry_run": "dry-run=pass",
                                        "tenant_id": project_id, "project_id": project_id}}


def ensure(conn: sa.Connection, project_id: str, port_opts: dict) -> str:
    """The project's topology network id, made now if it has none."""
    existing = find(conn, project_id)
    if existing is not None:
        return existing["network_id"]
    external, pools = requirements(conn)
    network = networks.create(conn, {"project_id": project_id, "name": NETWORK_NAME,
                                     "admin_state_up": True, "shared": False,
                                     "mtu": external["mtu"]})
    owner = Viewer(project_id, False)
    made = []
    for pool in pools:
        made.append(subnets.create(conn, network, {
            "project_id": project_id, "name": SUBNET_NAMES[pool["ip_version"]],
            "ip_version": pool["ip_version"], "subnetpool_id": pool["id"]}, ADMIN))
    router = routers.create(conn, {"project_id": project_id, "name": ROUTER_NAME},
                            owner, port_opts)
    routers.set_gateway(conn, router, {"network_id": external["id"]}, ADMIN, port_opts)
    for subnet in made:
        routers.add_interface(conn, router, {"subnet_id": subnet["id"]}, ADMIN, port_opts)
    conn.execute(s.auto_allocated_topologies.insert().values(
        project_id=project_id, network_id=network["id"], router_id=router["id"]))
    return network["id"]


def delete(conn: sa.Connection, project_id: str) -> None:
    """Remove the topology: router (interfaces and gateway), subnets, network.

    409 NetworkInUse while instance ports are still on the network; nothing of the
    topology is removed then (one transaction).
    """
    topology = find(conn, project_id)
    if topology is None:
        return
    conn.execute(s.auto_allocated_topologies.delete().where(tc.project_id == project_id))
    if topology["router_id"]:
        router = conn.execute(sa.select(s.routers).where(
            s.routers.c.id == topology["router_id"])).mappings().first()
        if router is not None:
            for port_id in routers.interface_ports(conn, router["id"]):
                ports.delete(conn, port_id)
            routers.delete(conn, dict(router))
    network = conn.execute(sa.select(s.networks).where(
        s.networks.c.id == topology["network_id"])).mappings().first()
    if network is not None:
        networks.delete(conn, dict(network))
