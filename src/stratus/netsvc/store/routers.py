"""Routers: the data model and API of Neutron's routers (no L3 data plane yet).

A router's external gateway is a port on the external network (device owner
``network:router_gateway``); each interface is a port on a subnet holding the subnet's
gateway address (``network:router_interface``), so the addresses are accounted for as
Neutron accounts them.
"""

from __future__ import annotations

import sqlalchemy as sa

from stratus.common.wsgi.errors import NotFound
from stratus.netsvc import errors
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, bump, networks, ports, stamp, timestamps

rc = s.routers.c
pc = s.ports.c
GATEWAY_OWNER = "network:router_gateway"
INTERFACE_OWNER = "network:router_interface"


def visible(viewer: Viewer) -> sa.ColumnElement:
    return sa.true() if viewer.is_admin else rc.project_id == viewer.project_id


def get(conn: sa.Connection, router_id: str, viewer: Viewer) -> dict:
    row = conn.execute(sa.select(s.routers).where(rc.id == router_id, visible(viewer))
                       ).mappings().first()
    if row is None:
        raise errors.not_found("Router", router_id)
    return dict(row)


def render(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    ids = [r["id"] for r in rows]
    gateway_ips: dict[str, list[dict]] = {i: [] for i in ids}
    if ids:
        ic = s.ip_allocations.c
        for found in conn.execute(
                sa.select(pc.device_id, ic.subnet_id, ic.ip_address)
                .join(s.ip_allocations, ic.port_id == pc.id)
                .where(pc.device_id.in_(ids), pc.device_owner == GATEWAY_OWNER)):
            gateway_ips[found.device_id].append({"subnet_id": found.subnet_id,
                                                 "ip_address": found.ip_address})
    return [view(row, gateway_ips[row["id"]]) for row in rows]


def view(row: dict, gateway_ips: list[dict]) -> dict:
    gateway = None
    if row["gw_network_id"]:
        gateway = {"network_id": row["gw_network_id"], "enable_snat": row["enable_snat"],
                   "external_fixed_ips": gateway_ips}
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "project_id": row["project_id"], "tenant_id": row["project_id"],
            "admin_state_up": row["admin_state_up"], "status": row["status"],
            "external_gateway_info": gateway, "routes": [],
            "availability_zone_hints": [], "availability_zones": [], "tags": [],
            "revision_number": row["revision_number"], **timestamps(row)}


def create(conn: sa.Connection, values: dict, viewer: Viewer, port_opts: dict) -> dict:
    row = stamp({"project_id": values["project_id"], "name": values.get("name", ""),
                 "description": values.get("description", ""),
                 "admin_state_up": values.get("admin_state_up", True), "status": "ACTIVE",
                 "gw_network_id": None, "enable_snat": True})
    conn.execute(s.routers.insert().values(**row))
    if values.get("external_gateway_info"):
        set_gateway(conn, row, values["external_gateway_info"], viewer, port_opts)
        row = get(conn, row["id"], Viewer(None, True))
    return row


def set_gateway(conn: sa.Connection, router: dict, info: dict | None, viewer: Viewer,
                port_opts: dict) -> None:
    """Point the router's gateway at an external network (a new gateway port), or clear
    it (``info`` empty)."""
    _clear_gateway(conn, router)
    if not info:
        bump(conn, s.routers, router["id"], {"gw_network_id": None, "enable_snat": True})
        return
    network_id = info.get("network_id")
    if not network_id:
        raise errors.bad_request("Invalid input for external_gateway_info. Reason: "
                                 "network_id is missing.")
    network = networks.get(conn, network_id, viewer)
    if not network["external"]:
        raise errors.bad_request(f"Bad router request: Network {network_id} is not an "
                                 f"external network.")
    requested = info.get("external_fixed_ips")
    ports.create(conn, network, {
        "project_id": "", "device_id": router["id"], "device_owner": GATEWAY_OWNER,
        **({"fixed_ips": requested} if requested else {})}, **port_opts)
    bump(conn, s.routers, router["id"], {"gw_network_id": network_id,
                                         "enable_snat": info.get("enable_snat", True)})


def _clear_gateway(conn: sa.Connection, router: dict) -> None:
    for found in conn.execute(sa.select(pc.id).where(
            pc.device_id == router["id"], pc.device_owner == GATEWAY_OWNER)).all():
        ports.delete(conn, found.id)


def update(conn: sa.Connection, router: dict, values: dict, viewer: Viewer,
           port_opts: dict) -> None:
    columns = {k: values[k] for k in ("name", "description", "admin_state_up") if k in values}
    if "external_gateway_info" in values:
        set_gateway(conn, router, values["external_gateway_info"], viewer, port_opts)
    if columns:
        bump(conn, s.routers, router["id"], columns)


def interface_ports(conn: sa.Connection, router_id: str) -> list[str]:
    return [r.id for r in conn.execute(sa.select(pc.id).where(
        pc.device_id == router_id, pc.device_owner == INTERFACE_OWNER))]


def prevent_port_deletion(conn: sa.Connection, port: dict) -> None:
    """409 ``ServicePortInUse`` for a router's gateway or interface port: it leaves with
    ``remove_router_interface`` or a cleared gateway. As Neutron's
    ``prevent_l3_port_deletion``, a port without addresses, or whose router is gone, is
    stale and may go."""
    if port["device_owner"] not in (GATEWAY_OWNER, INTERFACE_OWNER):
        return
    if not ports.addresses_of(conn, port["id"]):
        return
    if conn.execute(sa.select(rc.id).where(rc.id == port["device_id"])).first() is None:
        return
    raise errors.conflict("ServicePortInUse", f"Port {port['id']} cannot be deleted "
                          f"directly via the port API: has device owner "
                          f"{port['device_owner']}.")


def delete(conn: sa.Connection, router: dict) -> None:
    if interface_ports(conn, router["id"]):
        raise errors.conflict("RouterInUse", f"Router {router['id']} still has ports")
    _clear_gateway(conn, router)
    conn.execute(s.routers.delete().where(rc.id == router["id"]))


def add_interface(conn: sa.Connection, router: dict, body: dict, viewer: Viewer,
                  port_opts: dict) -> dict:
    """Attach a subnet (a new port on its gateway address) or an existing port."""
    if not isinstance(body, dict) or ("subnet_id" in body) == ("port_id" in body):
        raise errors.bad_request("Bad router request: Either subnet_id or port_id must be "
                                 "specified.")
    if "port_id" in body:
        port = ports.get(conn, body["port_id"], viewer)
        if port["device_id"]:
            raise errors.conflict("PortInUse", f"Unable to complete operation on port "
                                  f"{port['id']} for network {port['network_id']}. Port "
                                  f"already has an attached device {port['device_id']}.")
        addresses = ports.addresses_of(conn, port["id"])
        if not addresses:
            raise errors.bad_request("Bad router request: Router port must have at least "
                                     "one fixed IP.")
        bump(conn, s.ports, port["id"], {"device_id": router["id"],
                                         "device_owner": INTERFACE_OWNER,
                                         "status": "ACTIVE"})
        subnet_ids = [a["subnet_id"] for a in addresses]
        return _interface_info(router, port["id"], port["network_id"], subnet_ids)
    from stratus.netsvc.store import subnets  # noqa: PLC0415 (subnets imports networks)
    subnet = subnets.get(conn, body["subnet_id"], viewer)
    if not subnet["gateway_ip"]:
        raise errors.bad_request("Bad router request: Subnet for router interface must "
                                 "have a gateway IP.")
    for port_id in interface_ports(conn, router["id"]):
        if any(a["subnet_id"] == subnet["id"] for a in ports.addresses_of(conn, port_id)):
            raise errors.bad_request(f"Bad router request: Router already has a port on "
                                     f"subnet {subnet['id']}.")
    network = networks.get(conn, subnet["network_id"], Viewer(None, True))
    port = ports.create(conn, network, {
        "project_id": router["project_id"], "device_id": router["id"],
        "device_owner": INTERFACE_OWNER,
        "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}]},
        **port_opts)
    return _interface_info(router, port["id"], network["id"], [subnet["id"]])


def remove_interface(conn: sa.Connection, router: dict, body: dict, viewer: Viewer) -> dict:
    if not isinstance(body, dict) or not ("subnet_id" in body or "port_id" in body):
        raise errors.bad_request("Bad router request: Either subnet_id or port_id must be "
                                 "specified.")
    for port_id in interface_ports(conn, router["id"]):
        addresses = ports.addresses_of(conn, port_id)
        if body.get("port_id") not in (None, port_id):
            continue
        if body.get("subnet_id") and not any(a["subnet_id"] == body["subnet_id"]
                                             for a in addresses):
            continue
        network_id = conn.execute(sa.select(pc.network_id).where(pc.id == port_id)
                                  ).scalar_one()
        ports.delete(conn, port_id)
        bump(conn, s.routers, router["id"], {})
        return _interface_info(router, port_id, network_id,
                               [a["subnet_id"] for a in addresses])
    if body.get("port_id"):
        raise NotFound(f"Router {router['id']} does not have an interface with id "
                       f"{body['port_id']}", code="RouterInterfaceNotFound")
    raise NotFound(f"Router {router['id']} has no interface on subnet {body['subnet_id']}",
                   code="RouterInterfaceNotFoundForSubnet")


def _interface_info(router: dict, port_id: str, network_id: str, subnet_ids: list[str]
                    ) -> dict:
    return {"id": router["id"], "tenant_id": router["project_id"],
            "project_id": router["project_id"], "port_id": port_id,
            "network_id": network_id, "subnet_id": subnet_ids[0] if subnet_ids else None,
            "subnet_ids": subnet_ids, "tags": []}
