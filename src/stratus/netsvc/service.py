"""The network service's long-lived parts: configuration, database, policy, bindings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common import db
from stratus.common.context import RequestContext
from stratus.common.policy import Policy
from stratus.netsvc import store

LOG = logging.getLogger(__name__)
T = TypeVar("T")

# The integration bridge of os-vif's ovs plugin, on the userspace datapath (no kernel
# module on these hosts).
OVS_BRIDGE = "br-int"


def linux_bridge(network_id: str) -> str:
    """The per-network Linux bridge, named as Neutron's linuxbridge agent names it."""
    return ("brq" + network_id)[:14]


class NetworkService:
    """What every network handler needs, made once per process.

    ``on_change`` callbacks run after a committed write that changed addresses
    (subnets, ports), with the ids of the networks it touched: the IP pool publisher
    keeps Placement in step through them.
    """

    def __init__(self, conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy):
        self.conf = conf
        self.options = conf.network
        self.engine = engine
        self.writer = db.writer(engine)
        self.policy = policy
        self.on_change: list[Callable[[set[str]], None]] = []

    @staticmethod
    def viewer(context: RequestContext) -> store.Viewer:
        return store.Viewer(context.project_id, bool(context.is_admin))

    @property
    def port_opts(self) -> dict:
        return {"base_mac": self.options.base_mac,
                "mac_retries": self.options.mac_generation_retries}

    @property
    def quota_defaults(self) -> dict[str, int]:
        """Each resource's default quota, from ``[quotas] quota_<resource>``."""
        opts = self.conf.quotas
        return {name[len("quota_"):]: getattr(opts, name) for name in opts
                if name.startswith("quota_")}

    def write(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work`` in a write transaction, again after a lost race."""
        return store.transaction(self.writer, work)

    def changed(self, network_ids: set[str]) -> None:
        for callback in self.on_change:
            try:
                callback(network_ids)
            except Exception:  # Placement being down must not fail a committed write
                LOG.exception("Updating IP pools of networks %s failed", network_ids)

    def binding(self, network_ids: set[str]) -> dict[str, tuple[str, dict]]:
        """(vif_type, vif_details) a port on each network gets once bound to a host."""
        if self.options.vif_type == "ovs":
            details = {"port_filter": False, "ovs_hybrid_plug": False,
                       "datapath_type": "netdev", "bridge_name": OVS_BRIDGE}
            return {n: ("ovs", dict(details)) for n in network_ids}
        return {n: ("bridge", {"port_filter": False, "bridge_name": linux_bridge(n)})
                for n in network_ids}
