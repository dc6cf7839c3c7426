"""Subnets' allocation pools in Placement, as shared providers of ``IPV4_ADDRESS``.

Each IPv4 subnet with addresses in its pools is one resource provider (uuid: the
subnet's id) with trait ``MISC_SHARES_VIA_AGGREGATE`` and inventory ``IPV4_ADDRESS``:
total the addresses of its pools, reserved the ones ports not owned by an instance hold
(routers, unbound ports); instances' addresses are the allocations the scheduler claims.
The provider is in two aggregates: its network's id (what a request names with
``member_of``) and ``[network] fabric_aggregate``, which every compute host joins (the
hosts that can reach the network: on a flat network, all of them).

:class:`Publisher` keeps Placement in step: after every change to a network's subnets
or ports (:meth:`NetworkService.changed`), and in full at start-up. Only what changed is
written; a Placement failure is logged and mended by the next change or restart.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from collections.abc import Iterable

import os_traits
import sqlalchemy as sa

from stratus.netsvc import schema as s
from stratus.scheduler.report import PlacementClient

LOG = logging.getLogger(__name__)

RESOURCE_CLASS = "IPV4_ADDRESS"
SHARING_TRAIT = os_traits.MISC_SHARES_VIA_AGGREGATE


def pool_size(pools: list[dict]) -> int:
    return sum(int(ipaddress.ip_address(p["end"])) - int(ipaddress.ip_address(p["start"])) + 1
               for p in pools)


def _in_pools(address: str, bounds: list[tuple[int, int]]) -> bool:
    value = int(ipaddress.ip_address(address))
    return any(lo <= value <= hi for lo, hi in bounds)


def pools_of_networks(conn: sa.Connection, network_ids: Iterable[str] | None
                      ) -> dict[str, tuple[str, int, int]]:
    """{subnet id: (network id, total, reserved)} of the IPv4 subnets of the networks
    (all networks for None); a subnet with no pool address is left out."""
    query = sa.select(s.subnets.c.id, s.subnets.c.network_id, s.subnets.c.allocation_pools) \
        .where(s.subnets.c.ip_version == 4)
    if network_ids is not None:
        query = query.where(s.subnets.c.network_id.in_(list(network_ids)))
    subnets = conn.execute(query).all()
    if not subnets:
        return {}
    held = conn.execute(
        sa.select(s.ip_allocations.c.subnet_id, s.ip_allocations.c.ip_address)
        .join(s.ports, s.ports.c.id == s.ip_allocations.c.port_id)
        .where(s.ip_allocations.c.subnet_id.in_([row.id for row in subnets]),
               ~s.ports.c.device_owner.like("compute:%"))).all()
    by_subnet: dict[str, list[str]] = {}
    for row in held:
        by_subnet.setdefault(row.subnet_id, []).append(row.ip_address)
    out = {}
    for row in subnets:
        pools = json.loads(row.allocation_pools or "[]")
        total = pool_size(pools)
        if total <= 0:
            continue
        bounds = [(int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"])))
                  for p in pools]
        reserved = sum(1 for a in by_subnet.get(row.id, ()) if _in_pools(a, bounds))
        out[row.id] = (row.network_id, total, min(reserved, total))
    return out


def inventory(total: int, reserved: int) -> dict[str, dict]:
    return {RESOURCE_CLASS: {"total": total, "reserved": reserved, "min_unit": 1,
                             "max_unit": total, "step_size": 1, "allocation_ratio": 1.0}}


class Publisher:
    """Writes the network service's IPv4 pools to Placement (one per process)."""

    def __init__(self, engine: sa.Engine, placement: PlacementClient, fabric_aggregate: str):
        self.engine = engine
        self.placement = placement
        self.fabric = fabric_aggregate
        # One sync at a time, reading the database inside the lock: the last write to
        # Placement is always from the newest read.
        self._lock = threading.Lock()
        # {subnet id: (network id, total, reserved)} as Placement has it now.
        self._published: dict[str, tuple[str, int, int]] = {}

    def networks_changed(self, network_ids: set[str]) -> None:
        """Bring the pools of these networks up to date (NetworkService.on_change)."""
        with self._lock:
            with self.engine.connect() as conn:
                wanted = pools_of_networks(conn, network_ids)
            gone = [sid for sid, (nid, _, _) in self._published.items()
                    if nid in network_ids and sid not in wanted]
            self._apply(wanted, gone)

    def sync_all(self) -> None:
        """Publish every pool and delete pool providers of subnets that are gone."""
        with self._lock:
            with self.engine.connect() as conn:
                wanted = pools_of_networks(conn, None)
            listed = self.placement.list_providers(member_of=self.fabric,
                                                   required=SHARING_TRAIT)
            self._published = {}
            gone = [rp["uuid"] for rp in listed if rp["uuid"] not in wanted]
            self._apply(wanted, gone)

    def _apply(self, wanted: dict[str, tuple[str, int, int]], gone: list[str]) -> None:
        for subnet_id in gone:
            self.placement.delete_provider(subnet_id)
            self._published.pop(subnet_id, None)
        for subnet_id, (network_id, total, reserved) in wanted.items():
            known = self._published.get(subnet_id)
            if known == (network_id, total, reserved):
                continue
            if known is None:
                self.placement.ensure_provider(subnet_id, f"ipv4-pool-{subnet_id}")
                self.placement.set_traits(subnet_id, [SHARING_TRAIT])
                self.placement.set_aggregates(subnet_id, [network_id, self.fabric])
            self.placement.set_inventory(subnet_id, inventory(total, reserved))
            self._published[subnet_id] = (network_id, total, reserved)
