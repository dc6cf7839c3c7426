"""Networks: visibility, rendering with their subnets, create, update, delete."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.netsvc import errors
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, bump, stamp, timestamps

n = s.networks.c
# Ports that go with their network: Neutron deletes these itself.
AUTO_DELETED_OWNERS = ("network:dhcp",)


def visible(viewer: Viewer) -> sa.ColumnElement:
    if viewer.is_admin:
        return sa.true()
    return sa.or_(n.project_id == viewer.project_id, n.shared.is_(True), n.external.is_(True))


def get(conn: sa.Connection, network_id: str, viewer: Viewer, *,
        for_update: bool = False) -> dict:
    stmt = sa.select(s.networks).where(n.id == network_id, visible(viewer))
    if for_update and conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise errors.not_found("Network", network_id)
    return dict(row)


def subnet_filter(values: list[str]) -> sa.ColumnElement:
    """``subnets=<id>``: the networks holding any of those subnets."""
    return n.id.in_(sa.select(s.subnets.c.network_id).where(s.subnets.c.id.in_(values)))


def render(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    """Network documents; the subnets of all of them in one query."""
    ids = [r["id"] for r in rows]
    subnets: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        sc = s.subnets.c
        for network_id, subnet_id in conn.execute(
                sa.select(sc.network_id, sc.id).where(sc.network_id.in_(ids))
                .order_by(sc.created_at, sc.id)):
            subnets[network_id].append(subnet_id)
    return [view(row, subnets[row["id"]]) for row in rows]


def view(row: dict, subnets: list[str]) -> dict:
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "project_id": row["project_id"], "tenant_id": row["project_id"],
            "admin_state_up": row["admin_state_up"], "status": row["status"],
            "shared": row["shared"], "router:external": row["external"],
            "is_default": row["is_default"], "mtu": row["mtu"], "subnets": subnets,
            "availability_zone_hints": [], "availability_zones": [],
            "ipv4_address_scope": None, "ipv6_address_scope": None,
            "port_security_enabled": True, "tags": [],
            "revision_number": row["revision_number"], **timestamps(row)}


def _columns(values: dict) -> dict:
    mapping = {"router:external": "external"}
    keep = ("name", "description", "admin_state_up", "shared", "router:external",
            "is_default", "mtu", "project_id")
    return {mapping.get(k, k): v for k, v in values.items() if k in keep}


def create(conn: sa.Connection, values: dict) -> dict:
    row = stamp({"status": "ACTIVE", "admin_state_up": True, "shared": False,
                 "external": False, "is_default": False, "mtu": 1500, **_columns(values)})
    if row.get("is_default"):
        _check_single_default(conn, row)
    conn.execute(s.networks.insert().values(**row))
    return row


def update(conn: sa.Connection, network: dict, values: dict) -> None:
    columns = _columns(values)
    merged = {**network, **columns}
    if merged["is_default"] and not network["is_default"]:
        _check_single_default(conn, merged)
    bump(conn, s.networks, network["id"], columns)


def _check_single_default(conn: sa.Connection, row: dict) -> None:
    if not row.get("external"):
        raise errors.invalid_input("is_default can only be set on router:external networks")
    other = conn.execute(sa.select(n.id).where(n.is_default.is_(True), n.external.is_(True),
                                               n.id != row["id"])).first()
    if other is not None:
        raise errors.conflict("DefaultExternalNetworkExists",
                              f"Unable to complete operation. The default external network "
                              f"{other.id} already exists.")


def delete(conn: sa.Connection, network: dict) -> None:
    """Delete a network, its subnets and its automatically managed ports; 409 when other
    ports are still on it."""
    p = s.ports.c
    in_use = conn.execute(sa.select(p.id).where(
        p.network_id == network["id"], p.device_owner.not_in(AUTO_DELETED_OWNERS)).limit(1)
    ).first()
    if in_use is not None:
        raise errors.network_in_use(network["id"])
    conn.execute(s.ip_allocations.delete().where(
        s.ip_allocations.c.network_id == network["id"]))
    conn.execute(s.port_security_groups.delete().where(s.port_security_groups.c.port_id.in_(
        sa.select(p.id).where(p.network_id == network["id"]))))
    conn.execute(s.ports.delete().where(p.network_id == network["id"]))
    topo = s.auto_allocated_topologies.c
    conn.execute(s.auto_allocated_topologies.delete().where(topo.network_id == network["id"]))
    conn.execute(s.subnets.delete().where(s.subnets.c.network_id == network["id"]))
    conn.execute(s.networks.delete().where(n.id == network["id"]))


def default_external(conn: sa.Connection) -> dict | None:
    row = conn.execute(sa.select(s.networks).where(n.external.is_(True),
                                                   n.is_default.is_(True))).mappings().first()
    return dict(row) if row else None
