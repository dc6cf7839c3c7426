"""ResourceTracker: the compute node's record and its resource provider in Placement.

The provider's uuid is the compute node's uuid. On start the tracker writes the whole
provider (inventory, traits, aggregates), which heals anything changed behind its back;
afterwards it pushes inventory only when what it would report changes.
"""

from __future__ import annotations

import logging
import math
import threading

from stratus.compute import service_records
from stratus.scheduler.report import PlacementError
from stratus.virt.driver import ComputeDriver, HostResources

LOG = logging.getLogger(__name__)
# Trait namespaces the tracker reports from the host and so may also take away.
OWNED_TRAIT_PREFIXES = ("COMPUTE_", "HW_CPU_X86_")


def _custom_trait(name: str) -> str:
    name = name.strip().upper()
    return name if name.startswith("CUSTOM_") else f"CUSTOM_{name}"


class ResourceTracker:
    """One node of one host: its compute_nodes row and its Placement provider."""

    def __init__(self, conf, driver: ComputeDriver, services: service_records.ServiceStore,
                 service: dict, placement=None):
        self.conf = conf
        self.driver = driver
        self.services = services  # or the cell conductor's RemoteServiceStore
        self.service = service
        self.placement = placement
        self.nodename = driver.get_available_nodes()[0]
        self.node: dict | None = None
        self._reported_inventory: dict | None = None
        self._provider_synced = False
        self._dirty = threading.Event()

    @property
    def ratios(self) -> dict[str, float]:
        return {"cpu": self.conf.cpu_allocation_ratio, "ram": self.conf.ram_allocation_ratio,
                "disk": self.conf.disk_allocation_ratio}

    def inventory(self, resources: HostResources) -> dict[str, dict]:
        """VCPU, MEMORY_MB and DISK_GB as Placement wants them, from the host's size and
        the configured reserved amounts and allocation ratios."""
        conf = self.conf

        def one(total: int, reserved: int, ratio: float) -> dict:
            return {"total": total, "reserved": min(reserved, total), "min_unit": 1,
                    "max_unit": total, "step_size": 1, "allocation_ratio": ratio}

        return {
            "VCPU": one(resources.vcpus, conf.reserved_host_cpus, conf.cpu_allocation_ratio),
            "MEMORY_MB": one(resources.memory_mb, conf.reserved_host_memory_mb,
                             conf.ram_allocation_ratio),
            "DISK_GB": one(resources.local_gb, math.ceil(conf.reserved_host_disk_mb / 1024),
                           conf.disk_allocation_ratio),
        }

    def traits(self) -> set[str]:
        """COMPUTE_NODE, the driver's COMPUTE_* capabilities, CPU flags as HW_CPU_X86_*,
        and ``[compute] provider_traits`` as CUSTOM_*."""
        return ({"COMPUTE_NODE"} | self.driver.capability_traits() | self.driver.cpu_traits()
                | {_custom_trait(t) for t in self.conf.compute.provider_traits if t.strip()})

    def start(self) -> dict:
        """Write the compute node and the whole provider; returns the compute node row.

        Placement not answering does not stop the host: the provider is written at the
        next full report (``update_resources_interval``) instead.
        """
        resources = self.driver.get_available_resource(self.nodename)
        self.node = self.services.register_node(self.service, resources, self.ratios)
        self._sync_provider(resources)
        return self.node

    def _sync_provider(self, resources: HostResources) -> None:
        if self.placement is None:
            return
        uuid = self.node["uuid"]
        try:
            self.placement.ensure_provider(uuid, self.nodename)
            inventory = self.inventory(resources)
            self.placement.set_inventory(uuid, inventory)
            # Traits outside the namespaces the tracker owns (an operator's CUSTOM_* set
            # with osc-placement) stay; owned ones are made exactly what the host has.
            kept = {t for t in self.placement.get_traits(uuid)
                    if not t.startswith(OWNED_TRAIT_PREFIXES)}
            self.placement.set_traits(uuid, sorted(kept | self.traits()))
            # The configured aggregates and the network fabric's (IP pools are shared
            # through it): added to, never replacing, what the compute API mirrored there.
            joined = list(self.conf.compute.provider_aggregates)
            if self.conf.network.fabric_aggregate:
                joined.append(self.conf.network.fabric_aggregate)
            if joined:
                self.placement.add_aggregates(uuid, joined)
        except PlacementError as exc:
            LOG.warning("Could not report node %s to Placement (retried at the next full "
                        "report): %s", self.nodename, exc)
            self._reported_inventory = None
            self._provider_synced = False
            return
        self._reported_inventory = inventory
        self._provider_synced = True

    def mark_changed(self) -> None:
        """An instance landed or left: the next :meth:`collect` reports usage."""
        self._dirty.set()

    def collect(self, force: bool = False) -> tuple[int, HostResources, dict] | None:
        """The node's current size and use for a batched compute_nodes update (None when
        nothing changed and not ``force``); pushes inventory to Placement if it changed."""
        if self.node is None or not (force or self._dirty.is_set()):
            return None
        self._dirty.clear()
        resources = self.driver.get_available_resource(self.nodename)
        if self.placement is not None and not self._provider_synced:
            if force:
                self._sync_provider(resources)
        elif self.placement is not None:
            inventory = self.inventory(resources)
            if inventory != self._reported_inventory:
                try:
                    self.placement.set_inventory(self.node["uuid"], inventory)
                    self._reported_inventory = inventory
                except PlacementError as exc:
                    LOG.warning("Could not update the inventory of %s: %s", self.nodename,
                                exc)
        return self.node["id"], resources, self.ratios
