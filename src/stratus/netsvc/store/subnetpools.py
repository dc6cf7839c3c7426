"""Subnet pools: prefixes that subnets are carved from; the default pool per IP version."""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from stratus.netsvc import errors
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, bump, dumps, loads, locking, stamp, timestamps

pc = s.subnetpools.c


def visible(viewer: Viewer) -> sa.ColumnElement:
    if viewer.is_admin:
        return sa.true()
    return sa.or_(pc.project_id == viewer.project_id, pc.shared.is_(True))


def get(conn: sa.Connection, pool_id: str, viewer: Viewer, *,
        for_update: bool = False) -> dict:
    stmt = sa.select(s.subnetpools).where(pc.id == pool_id, visible(viewer))
    row = conn.execute(locking(conn, stmt) if for_update else stmt).mappings().first()
    if row is None:
        raise errors.not_found("SubnetPool", pool_id)
    return dict(row)


def render(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    return [view(row) for row in rows]


def view(row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "project_id": row["project_id"], "tenant_id": row["project_id"],
            "prefixes": loads(row["prefixes"]), "ip_version": row["ip_version"],
            "default_prefixlen": row["default_prefixlen"],
            "min_prefixlen": row["min_prefixlen"], "max_prefixlen": row["max_prefixlen"],
            "shared": row["shared"], "is_default": row["is_default"],
            "default_quota": row["default_quota"], "address_scope_id": None, "tags": [],
            "revision_number": row["revision_number"], **timestamps(row)}


def _prefixes(values: list[str]) -> tuple[list[str], int]:
    """The pool's prefixes, collapsed as Neutron stores them, and their IP version."""
    nets = [ipaddress.ip_network(p) for p in values]
    versions = {n.version for n in nets}
    if len(versions) != 1:
        raise errors.bad_request("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
    collapsed = ipaddress.collapse_addresses(nets)  # type: ignore[arg-type]
    return [str(n) for n in collapsed], versions.pop()


def _lengths(version: int, prefixes: list[str], values: dict, current: dict | None) -> dict:
    """min/max/default prefix lengths, checked against each other and the prefixes."""
    max_len = 32 if version == 4 else 128
    shortest = min(ipaddress.ip_network(p).prefixlen for p in prefixes)
    old = current or {}
    min_len = values.get("min_prefixlen", old.get("min_prefixlen", shortest))
    max_pl = values.get("max_prefixlen", old.get("max_prefixlen", max_len))
    default = values.get("default_prefixlen", old.get("default_prefixlen", min_len))
    if max_pl > max_len:
        raise errors.invalid_input(f"Illegal prefix bounds: max_prefixlen={max_pl}, "
                                   f"maximum for IPv{version} is {max_len}")
    if not min_len <= default <= max_pl:
        raise errors.bad_request(f"Illegal prefix bounds: prefix_type=default_prefixlen, "
                                 f"prefixlen={default}, base_prefixlen={min_len}, "
                                 f"max_prefixlen={max_pl}.")
    if min_len < shortest:
        raise errors.bad_request(f"Illegal prefix bounds: prefix_type=min_prefixlen, "
                                 f"prefixlen={min_len}, base_prefixlen={shortest}, "
                                 f"max_prefixlen={max_pl}.")
    return {"min_prefixlen": min_len, "max_prefixlen": max_pl, "default_prefixlen": default}


def create(conn: sa.Connection, values: dict) -> dict:
    prefixes, version = _prefixes(values["prefixes"])
    row = stamp({
        "project_id": values["project_id"], "name": values.get("name", ""),
        "description": values.get("description", ""), "ip_version": version,
        "shared": values.get("shared", False), "is_default": values.get("is_default", False),
        "default_quota": values.get("default_quota"), "prefixes": dumps(prefixes),
        **_lengths(version, prefixes, values, None)})
    if row["is_default"]:
        _check_single_default(conn, row)
    conn.execute(s.subnetpools.insert().values(**row))
    return row


def update(conn: sa.Connection, pool: dict, values: dict) -> None:
    columns = {k: values[k] for k in ("name", "description", "is_default", "default_quota")
               if k in values}
    prefixes = loads(pool["prefixes"])
    if "prefixes" in values:
        new, version = _prefixes(values["prefixes"])
        if version != pool["ip_version"]:
            raise errors.bad_request("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
        # Prefixes can grow, never shrink: subnets may already use any part of them.
        old_nets = [ipaddress.ip_network(p) for p in prefixes]
        for old in old_nets:
            if not any(old.subnet_of(ipaddress.ip_network(n)) for n in new):
                raise errors.bad_request("Existing prefixes must be a subset of the new "
                                         "prefixes")
        prefixes = new
        columns["prefixes"] = dumps(new)
    columns.update(_lengths(pool["ip_version"], prefixes, values, pool))
    if columns.get("is_default") and not pool["is_default"]:
        _check_single_default(conn, {**pool, **columns})
    bump(conn, s.subnetpools, pool["id"], columns)


def _check_single_default(conn: sa.Connection, row: dict) -> None:
    other = conn.execute(sa.select(pc.id).where(
        pc.is_default.is_(True), pc.ip_version == row["ip_version"], pc.id != row["id"])
    ).first()
    if other is not None:
        raise errors.bad_request("Invalid input for operation: A default subnetpool for "
                                 "this IP family has already been set. Only one default "
                                 "may exist per IP family.")


def delete(conn: sa.Connection, pool: dict) -> None:
    used = conn.execute(sa.select(s.subnets.c.id).where(
        s.subnets.c.subnetpool_id == pool["id"]).limit(1)).first()
    if used is not None:
        raise errors.conflict("SubnetPoolInUse", f"Unable to complete operation on subnet "
                              f"pool {pool['id']}. Subnet pool has one or more subnets "
                              f"allocated.")
    conn.execute(s.subnetpools.delete().where(pc.id == pool["id"]))


def default_pool(conn: sa.Connection, ip_version: int, *, for_update: bool = False
                 ) -> dict | None:
    stmt = sa.select(s.subnetpools).where(pc.is_default.is_(True),
                                          pc.ip_version == ip_version)
    row = conn.execute(locking(conn, stmt) if for_update else stmt).mappings().first()
    return dict(row) if row else None
