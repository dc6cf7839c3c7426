"""What auto-allocation needs, made on the all-in-one's first start: a default external
network ``public`` with a subnet, and a shared default IPv4 subnet pool."""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common import db
from stratus.netsvc.store import Viewer, networks, subnetpools, subnets, transaction

PUBLIC_NETWORK = "public"
DEFAULT_POOL = "shared-default-subnetpool-v4"
# Project subnets carved from the default pool: 61 addresses each, as DevStack's /26.
DEFAULT_PREFIXLEN = 26


def create_defaults(conf: cfg.ConfigOpts, engine: sa.Engine, admin_project_id: str) -> None:
    """Make the defaults that are missing (a second call changes nothing)."""
    opts = conf.network

    def work(conn: sa.Connection) -> None:
        if networks.default_external(conn) is None:
            public = networks.create(conn, {
                "project_id": admin_project_id, "name": PUBLIC_NETWORK,
                "router:external": True, "is_default": True})
            cidr = ipaddress.ip_network(opts.public_cidr)
            subnets.create(conn, public, {
                "project_id": admin_project_id, "name": f"{PUBLIC_NETWORK}-subnet",
                "ip_version": cidr.version, "cidr": str(cidr), "enable_dhcp": False},
                Viewer(None, True))
        if subnetpools.default_pool(conn, 4) is None:
            prefix = ipaddress.ip_network(opts.default_pool_prefix)
            subnetpools.create(conn, {
                "project_id": admin_project_id, "name": DEFAULT_POOL,
                "prefixes": [str(prefix)], "shared": True, "is_default": True,
                "default_prefixlen": max(prefix.prefixlen, DEFAULT_PREFIXLEN)})

    transaction(db.writer(engine), work)
