"""Ports: MAC addresses, fixed IPs from their subnets' allocation pools, bindings.

An address is taken by inserting its ``ip_allocations`` row, whose primary key is
(subnet, address): two ports can never hold one address, whatever the isolation level.
Before choosing, the network's subnets are locked (``FOR UPDATE``; on SQLite the writer
transaction is already exclusive), so concurrent creations queue instead of colliding;
a collision that still happens is a lost race and :func:`stratus.netsvc.store.transaction`
runs the whole creation again.
"""

from __future__ import annotations

import ipaddress
import random

import sqlalchemy as sa

from stratus.netsvc import errors, ipam
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, bump, dumps, loads, stamp, subnets, timestamps

pc = s.ports.c
ic = s.ip_allocations.c
# Owners whose ports the network service makes for itself, never with a security group.
NETWORK_OWNER_PREFIX = "network:"


def visible(viewer: Viewer) -> sa.ColumnElement:
    """A project sees its own ports, and the ports on networks it owns."""
    if viewer.is_admin:
        return sa.true()
    owned = sa.select(s.networks.c.id).where(s.networks.c.project_id == viewer.project_id)
    return sa.or_(pc.project_id == viewer.project_id, pc.network_id.in_(owned))


def get(conn: sa.Connection, port_id: str, viewer: Viewer) -> dict:
    row = conn.execute(sa.select(s.ports).where(pc.id == port_id, visible(viewer))
                       ).mappings().first()
    if row is None:
        raise errors.not_found("Port", port_id)
    return dict(row)


def fixed_ip_filter(values: list[str]) -> sa.ColumnElement:
    """``fixed_ips=ip_address=10.0.0.5`` / ``fixed_ips=subnet_id=...`` (Nova uses these)."""
    clauses = []
    for value in values:
        key, _, wanted = value.partition("=")
        column = {"ip_address": ic.ip_address, "subnet_id": ic.subnet_id}.get(key)
        if column is None:
            raise errors.bad_request(f"Invalid fixed_ips filter '{value}'")
        clauses.append(pc.id.in_(sa.select(ic.port_id).where(column == wanted)))
    return sa.or_(*clauses)


def security_group_filter(values: list[str]) -> sa.ColumnElement:
    """``security_groups=<id>``: the ports in any of those groups."""
    psg = s.port_security_groups.c
    return pc.id.in_(sa.select(psg.port_id).where(psg.security_group_id.in_(values)))


def render(conn: sa.Connection, rows: list[dict], binding: dict[str, tuple[str, dict]]
           ) -> list[dict]:
    """Port documents; addresses and groups of all of them in two queries.

    ``binding`` maps a network id to the (vif_type, vif_details) a port on it gets once
    bound to a host (the mechanism's answer; :class:`stratus.netsvc.service.NetworkService`
    computes it).
    """
    ids = [r["id"] for r in rows]
    addresses: dict[str, list[dict]] = {i: [] for i in ids}
    groups: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for alloc in conn.execute(sa.select(ic.port_id, ic.subnet_id, ic.ip_address)
                                  .where(ic.port_id.in_(ids))):
            addresses[alloc.port_id].append({"subnet_id": alloc.subnet_id,
                                             "ip_address": alloc.ip_address})
        psg = s.port_security_groups.c
        for link in conn.execute(sa.select(psg.port_id, psg.security_group_id)
                                 .where(psg.port_id.in_(ids))
                                 .order_by(psg.security_group_id)):
            groups[link.port_id].append(link.security_group_id)
    for found in addresses.values():
        found.sort(key=lambda a: (ipaddress.ip_address(a["ip_address"]).version,
                                  int(ipaddress.ip_address(a["ip_address"]))))
    return [view(row, addresses[row["id"]], groups[row["id"]], binding)
            for row in rows]


def view(row: dict, addresses: list[dict], groups: list[str],
         binding: dict[str, tuple[str, dict]]) -> dict:
    bound = bool(row["binding_host_id"])
    vif_type, vif_details = binding.get(row["network_id"], ("unbound", {})) if bound \
        else ("unbound", {})
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "project_id": row["project_id"], "tenant_id": row["project_id"],
            "network_id": row["network_id"], "mac_address": row["mac_address"],
            "admin_state_up": row["admin_state_up"], "status": row["status"],
            "device_id": row["device_id"], "device_owner": row["device_owner"],
            "fixed_ips": addresses, "security_groups": groups,
            "port_security_enabled": row["port_security_enabled"],
            "allowed_address_pairs": [], "extra_dhcp_opts": [],
            "binding:host_id": row["binding_host_id"],
            "binding:profile": loads(row["binding_profile"]) or {},
            "binding:vnic_type": row["binding_vnic_type"],
            "binding:vif_type": vif_type, "binding:vif_details": vif_details,
            "tags": [], "revision_number": row["revision_number"], **timestamps(row)}


def _status(row: dict) -> str:
    """ACTIVE once bound to a host (or the network's own port), DOWN otherwise: there is
    no agent here to report the link up later."""
    if row["device_owner"].startswith(NETWORK_OWNER_PREFIX) or row["binding_host_id"]:
        return "ACTIVE"
    return "DOWN"


def random_mac(base: str) -> str:
    prefix = base.split(":")[:3]
    return ":".join([*prefix, *(f"{random.randint(0, 255):02x}" for _ in range(3))])


def _mac_taken(conn: sa.Connection, network_id: str, mac: str) -> bool:
    return conn.execute(sa.select(pc.id).where(pc.network_id == network_id,
                                               pc.mac_address == mac)).first() is not None


def create(conn: sa.Connection, network: dict, values: dict, *, base_mac: str,
           mac_retries: int) -> dict:
    """A port on ``network`` with its addresses; ``values`` are parsed API attributes.

    Security groups are the caller's business (they live in another module); this
    writes the port, its MAC and its fixed IPs.
    """
    mac = values.get("mac_address")
    if mac is not None:
        if _mac_taken(conn, network["id"], mac):
            raise errors.mac_in_use(network["id"], mac)
    else:
        for _ in range(mac_retries):
            mac = random_mac(base_mac)
            if not _mac_taken(conn, network["id"], mac):
                break
        else:
            raise errors.mac_generation_failure(network["id"])
    row = stamp({
        "project_id": values["project_id"], "network_id": network["id"],
        "name": values.get("name", ""), "description": values.get("description", ""),
        "mac_address": mac, "admin_state_up": values.get("admin_state_up", True),
        "device_id": values.get("device_id", ""),
        "device_owner": values.get("device_owner", ""),
        "binding_host_id": values.get("binding:host_id", ""),
        "binding_profile": dumps(values.get("binding:profile") or {}),
        "binding_vnic_type": values.get("binding:vnic_type", "normal"),
        "port_security_enabled": values.get("port_security_enabled", True)})
    row["status"] = _status(row)
    conn.execute(s.ports.insert().values(**row))
    requested = values.get("fixed_ips")
    allocate(conn, network, row, requested, default=requested is None)
    return row


def allocate(conn: sa.Connection, network: dict, port: dict, requested: list[dict] | None,
             *, default: bool) -> list[dict]:
    """Give ``port`` the requested addresses, or (``default``) one per IP version.

    ``requested`` entries hold ``subnet_id``, ``ip_address`` or both. Returns the
    (subnet_id, ip_address) dicts inserted.
    """
    subnet_rows = subnets.lock_all(conn, network["id"])
    by_id = {sub["id"]: sub for sub in subnet_rows}
    wanted: list[tuple[dict, str | None]] = []
    if default:
        seen_versions: set[int] = set()
        for sub in sorted(subnet_rows, key=lambda r: (r["created_at"], r["id"])):
            if sub["ip_version"] in seen_versions:
                continue
            seen_versions.add(sub["ip_version"])
            wanted.append((sub, None))
    else:
        for entry in requested or []:
            wanted.append(_requested_subnet(network, subnet_rows, by_id, entry))
    made = []
    for sub, address in wanted:
        if address is None and sub["ip_version"] == 6 \
                and sub["ipv6_address_mode"] in ("slaac", "dhcpv6-stateless"):
            address = _eui64(sub["cidr"], port["mac_address"])
        if address is None:
            address = _next_free(conn, sub, network["id"])
        elif _taken(conn, sub["id"], address):
            raise errors.ip_in_use(network["id"], address)
        conn.execute(s.ip_allocations.insert().values(
            port_id=port["id"], subnet_id=sub["id"], network_id=network["id"],
            ip_address=address))
        made.append({"subnet_id": sub["id"], "ip_address": address})
    return made


def _requested_subnet(network: dict, subnet_rows: list[dict], by_id: dict[str, dict],
                      entry: dict) -> tuple[dict, str | None]:
    address = entry.get("ip_address")
    if entry.get("subnet_id"):
        sub = by_id.get(entry["subnet_id"])
        if sub is None:
            raise errors.invalid_input(f"Failed to create port on network {network['id']}"
                                       f", because fixed_ips included invalid subnet "
                                       f"{entry['subnet_id']}")
        if address is not None and \
                ipaddress.ip_address(address) not in ipaddress.ip_network(sub["cidr"]):
            raise errors.invalid_input(f"IP address {address} is not a valid IP for the "
                                       f"specified subnet")
        return sub, address
    ip = ipaddress.ip_address(address)
    for sub in subnet_rows:
        if ip in ipaddress.ip_network(sub["cidr"]):
            return sub, address
    raise errors.invalid_input(f"IP address {address} is not a valid IP for any of the "
                               f"subnets on the specified network")


def _taken(conn: sa.Connection, subnet_id: str, address: str) -> bool:
    return conn.execute(sa.select(ic.port_id).where(ic.subnet_id == subnet_id,
                                                    ic.ip_address == address)
                        ).first() is not None


def _next_free(conn: sa.Connection, subnet: dict, network_id: str) -> str:
    used = {r.ip_address for r in conn.execute(
        sa.select(ic.ip_address).where(ic.subnet_id == subnet["id"]))}
    address = ipam.first_free(loads(subnet["allocation_pools"]) or [], used,
                              subnet["ip_version"])
    if address is None:
        raise errors.ip_generation_failure(network_id)
    return address


def _eui64(cidr: str, mac: str) -> str:
    """The SLAAC address of ``mac`` in an IPv6 /64."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    iid = octets[:3] + [0xFF, 0xFE] + octets[3:]
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + int.from_bytes(bytes(iid), "big"))


def release(conn: sa.Connection, port_id: str, keep: list[dict] | None = None) -> None:
    """Free the port's addresses, except those in ``keep``."""
    kept = {(k["subnet_id"], k["ip_address"]) for k in keep or []}
    for alloc in conn.execute(sa.select(ic.subnet_id, ic.ip_address)
                              .where(ic.port_id == port_id)).all():
        if (alloc.subnet_id, alloc.ip_address) not in kept:
            conn.execute(s.ip_allocations.delete().where(
                ic.subnet_id == alloc.subnet_id, ic.ip_address == alloc.ip_address))


def addresses_of(conn: sa.Connection, port_id: str) -> list[dict]:
    return [{"subnet_id": r.subnet_id, "ip_address": r.ip_address}
            for r in conn.execute(sa.select(ic.subnet_id, ic.ip_address)
                                  .where(ic.port_id == port_id))]


def update(conn: sa.Connection, network: dict, port: dict, values: dict) -> None:
    columns = {}
    for key, column in (("name", "name"), ("description", "description"),
                        ("admin_state_up", "admin_state_up"), ("device_id", "device_id"),
                        ("device_owner", "device_owner"),
                        ("binding:host_id", "binding_host_id"),
                        ("binding:vnic_type", "binding_vnic_type"),
                        ("port_security_enabled", "port_security_enabled")):
        if key in values:
            columns[column] = values[key]
    if "binding:profile" in values:
        columns["binding_profile"] = dumps(values["binding:profile"] or {})
    if "mac_address" in values and values["mac_address"] != port["mac_address"]:
        if port["binding_host_id"] or columns.get("binding_host_id"):
            raise errors.conflict("PortBound", f"Unable to complete operation on port "
                                  f"{port['id']}, port is already bound, port type: "
                                  f"{port['binding_vnic_type']}, old_mac "
                                  f"{port['mac_address']}, new_mac {values['mac_address']}.")
        if _mac_taken(conn, network["id"], values["mac_address"]):
            raise errors.mac_in_use(network["id"], values["mac_address"])
        columns["mac_address"] = values["mac_address"]
    if "fixed_ips" in values:
        current = addresses_of(conn, port["id"])
        keep = [a for a in current if any(_same(a, r) for r in values["fixed_ips"])]
        new = [r for r in values["fixed_ips"] if not any(_same(a, r) for a in keep)]
        release(conn, port["id"], keep)
        allocate(conn, network, port, new, default=False)
    merged = {**port, **columns}
    columns["status"] = _status(merged)
    bump(conn, s.ports, port["id"], columns)


def _same(held: dict, requested: dict) -> bool:
    if requested.get("ip_address") and requested["ip_address"] != held["ip_address"]:
        return False
    if requested.get("subnet_id") and requested["subnet_id"] != held["subnet_id"]:
        return False
    return bool(requested.get("ip_address"))


def delete(conn: sa.Connection, port_id: str) -> None:
    conn.execute(s.ip_allocations.delete().where(ic.port_id == port_id))
    conn.execute(s.port_security_groups.delete().where(
        s.port_security_groups.c.port_id == port_id))
    conn.execute(s.ports.delete().where(pc.id == port_id))
