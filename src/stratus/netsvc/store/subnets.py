"""Subnets: CIDR (given, or carved from a subnet pool), gateway, pools, create/update/delete."""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from stratus.netsvc import errors, ipam
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, bump, dumps, loads, locking, networks, stamp, timestamps
from stratus.netsvc.store import subnetpools as pools_store

sc = s.subnets.c


def visible(viewer: Viewer) -> sa.ColumnElement:
    if viewer.is_admin:
        return sa.true()
    return sa.or_(sc.project_id == viewer.project_id, sc.network_id.in_(
        sa.select(s.networks.c.id).where(networks.visible(viewer))))


def get(conn: sa.Connection, subnet_id: str, viewer: Viewer) -> dict:
    row = conn.execute(sa.select(s.subnets).where(sc.id == subnet_id, visible(viewer))
                       ).mappings().first()
    if row is None:
        raise errors.not_found("Subnet", subnet_id)
    return dict(row)


def render(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    return [view(row) for row in rows]


def view(row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "project_id": row["project_id"], "tenant_id": row["project_id"],
            "network_id": row["network_id"], "ip_version": row["ip_version"],
            "cidr": row["cidr"], "gateway_ip": row["gateway_ip"],
            "enable_dhcp": row["enable_dhcp"], "ipv6_ra_mode": row["ipv6_ra_mode"],
            "ipv6_address_mode": row["ipv6_address_mode"],
            "subnetpool_id": row["subnetpool_id"],
            "dns_nameservers": loads(row["dns_nameservers"]),
            "host_routes": loads(row["host_routes"]),
            "allocation_pools": loads(row["allocation_pools"]),
            "service_types": [], "tags": [], "revision_number": row["revision_number"],
            **timestamps(row)}


def create(conn: sa.Connection, network: dict, values: dict, viewer: Viewer) -> dict:
    """A subnet on ``network``; its CIDR given, or the next free prefix of its pool."""
    version = values["ip_version"]
    pool = _pool_for(conn, values, viewer)
    if pool is not None:
        cidr = _carve(conn, pool, values)
    elif values.get("cidr"):
        cidr = values["cidr"]
    else:
        raise errors.bad_request("a cidr must be specified in the absence of a subnet pool")
    net = ipaddress.ip_network(cidr)
    if net.version != version:
        raise errors.invalid_input("Cidr and IP version are not compatible")
    _check_no_overlap(conn, network["id"], net)
    if "gateway_ip" in values:
        gateway = values["gateway_ip"]
        if gateway is not None and ipaddress.ip_address(gateway).version != version:
            raise errors.invalid_input("Gateway IP version inconsistent with allocation pool "
                                       "version")
    else:
        gateway = ipam.default_gateway(net)
    if "allocation_pools" in values:
        alloc = ipam.check_pools(net, values["allocation_pools"], gateway)
    else:
        alloc = ipam.default_pools(net, gateway)
    row = stamp({
        "project_id": values["project_id"], "network_id": network["id"],
        "name": values.get("name", ""), "description": values.get("description", ""),
        "ip_version": version, "cidr": str(net), "gateway_ip": gateway,
        "enable_dhcp": values.get("enable_dhcp", True),
        "ipv6_ra_mode": values.get("ipv6_ra_mode"),
        "ipv6_address_mode": values.get("ipv6_address_mode"),
        "subnetpool_id": pool["id"] if pool else None,
        "dns_nameservers": dumps(values.get("dns_nameservers", [])),
        "host_routes": dumps(values.get("host_routes", [])),
        "allocation_pools": dumps(alloc)})
    conn.execute(s.subnets.insert().values(**row))
    return row


def _pool_for(conn: sa.Connection, values: dict, viewer: Viewer) -> dict | None:
    if values.get("subnetpool_id"):
        pool = pools_store.get(conn, values["subnetpool_id"], viewer, for_update=True)
        if pool["ip_version"] != values["ip_version"]:
            raise errors.invalid_input("Cannot allocate IPv"
                                       f"{values['ip_version']} subnet from IPv"
                                       f"{pool['ip_version']} subnet pool")
        return pool
    if values.get("use_default_subnetpool"):
        pool = pools_store.default_pool(conn, values["ip_version"], for_update=True)
        if pool is None:
            raise errors.bad_request(f"No default subnetpool found for IPv"
                                     f"{values['ip_version']}")
        return pool
    return None


def _carve(conn: sa.Connection, pool: dict, values: dict) -> str:
    """A CIDR from the pool: the asked one if free, else the next free prefix.

    The pool row is locked (FOR UPDATE; SQLite serializes writers), so two subnets never
    get one prefix.
    """
    prefixes = loads(pool["prefixes"])
    used = [r.cidr for r in conn.execute(sa.select(sc.cidr).where(
        sc.subnetpool_id == pool["id"]))]
    if values.get("cidr"):
        cidr = values["cidr"]
        if not ipam.within(cidr, prefixes):
            raise errors.invalid_request("IllegalSubnetPoolPrefixBounds",
                                         f"Cidr {cidr} is not within the prefixes of "
                                         f"subnet pool {pool['id']}")
        if any(ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(u)) for u in used):
            raise errors.conflict("PrefixUnavailable", f"Prefix {cidr} is not available "
                                  f"in subnet pool {pool['id']}")
        return cidr
    prefixlen = values.get("prefixlen", pool["default_prefixlen"])
    # BadRequests in Neutron (subnet_alloc.SubnetAllocator.allocate_subnet).
    if prefixlen > pool["max_prefixlen"]:
        raise errors.invalid_request("MaxPrefixSubnetAllocationError",
                                     f"Unable to allocate subnet with prefix length "
                                     f"{prefixlen}, maximum allowed prefix is "
                                     f"{pool['max_prefixlen']}.")
    if prefixlen < pool["min_prefixlen"]:
        raise errors.invalid_request("MinPrefixSubnetAllocationError",
                                     f"Unable to allocate subnet with prefix length "
                                     f"{prefixlen}, minimum allowed prefix is "
                                     f"{pool['min_prefixlen']}.")
    cidr = ipam.next_prefix(prefixes, used, prefixlen)
    if cidr is None:
        raise errors.conflict("SubnetAllocationError",
                              f"Failed to allocate subnet: Insufficient prefix space to "
                              f"allocate subnet size /{prefixlen}.")
    return cidr


def _check_no_overlap(conn: sa.Connection, network_id: str, net) -> None:
    for other in conn.execute(sa.select(sc.id, sc.cidr).where(sc.network_id == network_id)):
        if ipaddress.ip_network(other.cidr).overlaps(net):
            raise errors.bad_request(
                f"Invalid input for operation: Requested subnet with cidr: {net} for network:"
                f" {network_id} overlaps with another subnet.")


def update(conn: sa.Connection, subnet: dict, values: dict) -> None:
    columns = {k: values[k] for k in ("name", "description", "enable_dhcp") if k in values}
    net = ipaddress.ip_network(subnet["cidr"])
    gateway = values.get("gateway_ip", subnet["gateway_ip"])
    if "gateway_ip" in values:
        if gateway is not None and ipaddress.ip_address(gateway) not in net:
            raise errors.invalid_input(f"Gateway {gateway} is not in subnet {net}")
        columns["gateway_ip"] = gateway
    if "allocation_pools" in values or "gateway_ip" in values:
        pools = values.get("allocation_pools", loads(subnet["allocation_pools"]))
        columns["allocation_pools"] = dumps(ipam.check_pools(net, pools, gateway))
    for key in ("dns_nameservers", "host_routes"):
        if key in values:
            columns[key] = dumps(values[key])
    bump(conn, s.subnets, subnet["id"], columns)


def delete(conn: sa.Connection, subnet: dict) -> None:
    """409 SubnetInUse while a port other than the network's own has an address here."""
    ip = s.ip_allocations.c
    p = s.ports.c
    in_use = conn.execute(sa.select(ip.port_id).join(s.ports, p.id == ip.port_id).where(
        ip.subnet_id == subnet["id"], p.device_owner.not_in(networks.AUTO_DELETED_OWNERS)
    ).limit(1)).first()
    if in_use is not None:
        raise errors.subnet_in_use(subnet["id"])
    conn.execute(s.ip_allocations.delete().where(ip.subnet_id == subnet["id"]))
    conn.execute(s.subnets.delete().where(sc.id == subnet["id"]))


def lock_all(conn: sa.Connection, network_id: str) -> list[dict]:
    """The network's subnets, locked against concurrent allocation (ordered by id, so two
    transactions lock them in the same order)."""
    stmt = sa.select(s.subnets).where(sc.network_id == network_id).order_by(sc.id)
    return [dict(r) for r in conn.execute(locking(conn, stmt)).mappings()]
