"""The interface between the compute agent and a hypervisor: one ComputeDriver per host.

Instances are handed to drivers as plain dicts (the instance record: ``uuid``,
``display_name``, ``flavor`` with ``vcpus``/``memory_mb``/``root_gb``/``ephemeral_gb``,
``image_ref``, ...), so nothing here depends on how or where the agent stores them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass, field

import os_traits

# Driver capability -> the os-traits COMPUTE_* trait it is reported as.
CAPABILITY_TRAITS = {
    "supports_attach_interface": "COMPUTE_NET_ATTACH_INTERFACE",
    "supports_device_tagging": "COMPUTE_DEVICE_TAGGING",
    "supports_multiattach": "COMPUTE_VOLUME_MULTI_ATTACH",
    "supports_extend_volume": "COMPUTE_VOLUME_EXTEND",
    "supports_trusted_certs": "COMPUTE_TRUSTED_CERTS",
    "supports_image_type_raw": "COMPUTE_IMAGE_TYPE_RAW",
    "supports_image_type_qcow2": "COMPUTE_IMAGE_TYPE_QCOW2",
}


class VirtError(Exception):
    """A driver could not do what it was asked; the message says why."""


class InstanceNotFound(VirtError):
    """The hypervisor has no such instance."""


class InvalidPowerState(VirtError):
    """The instance's power state does not allow the operation."""


@dataclass(frozen=True)
class InstanceInfo:
    """What the hypervisor knows of one instance."""

    state: int  # a stratus.virt.power_state value
    vcpus: int = 0
    memory_mb: int = 0


@dataclass(frozen=True)
class Snapshot:
    """A root disk saved for upload: its formats and its bytes, chunk by chunk.

    ``chunks`` is read once, as the upload goes, so a driver never holds a whole disk
    in memory (it may stream from a file it made, and clean that up when exhausted).
    """

    disk_format: str
    container_format: str
    chunks: Iterable[bytes]


@dataclass
class HostResources:
    """A node's size and use, as the compute_nodes record and Placement want it."""

    hypervisor_hostname: str
    hypervisor_type: str
    hypervisor_version: int
    vcpus: int
    memory_mb: int
    local_gb: int
    vcpus_used: int = 0
    memory_mb_used: int = 0
    local_gb_used: int = 0
    running_vms: int = 0
    host_ip: str | None = None
    cpu_info: dict = field(default_factory=dict)


class ComputeDriver(abc.ABC):
    """One hypervisor host. Methods block until the hypervisor has done the work."""

    # Capability name -> supported; CAPABILITY_TRAITS turns them into traits.
    capabilities: dict[str, bool] = {}

    def init_host(self, host: str) -> None:  # noqa: B027 - most drivers need no set-up
        """Get ready to serve ``host``; called once before anything else."""

    @abc.abstractmethod
    def list_instances(self) -> list[str]:
        """UUIDs of the instances on the host."""

    @abc.abstractmethod
    def get_available_nodes(self) -> list[str]:
        """Names of the nodes (hypervisor_hostname) this driver manages."""

    @abc.abstractmethod
    def get_available_resource(self, nodename: str) -> HostResources:
        """Size and current use of ``nodename``."""

    @abc.abstractmethod
    def cpu_traits(self) -> set[str]:
        """The host CPU's features as os-traits names (HW_CPU_X86_*)."""

    def capability_traits(self) -> set[str]:
        """COMPUTE_* traits for the capabilities this driver has."""
        return {trait for name, trait in CAPABILITY_TRAITS.items()
                if self.capabilities.get(name)}

    @abc.abstractmethod
    def spawn(self, instance: dict, image_meta: dict,
              network_info: list[dict] | None = None) -> None:
        """Create the instance from ``image_meta`` and start it.

        ``network_info``: the instance's bound Neutron ports, each with its ``network``
        and ``subnets`` (:mod:`stratus.network.allocation`); the driver plugs them
        (:func:`stratus.network.vif_plugging.plug_vifs`) and attaches the instance.
        """

    @abc.abstractmethod
    def destroy(self, instance: dict, network_info: list[dict] | None = None) -> None:
        """Stop the instance and remove it and its disks; no error if it is already gone.

        ``network_info`` (as for spawn) is unplugged; None: the ports the driver plugged.
        """

    @abc.abstractmethod
    def reboot(self, instance: dict, reboot_type: str) -> None:
        """Restart the instance: ``SOFT`` asks the guest, ``HARD`` resets it."""

    @abc.abstractmethod
    def power_off(self, instance: dict) -> None: ...

    @abc.abstractmethod
    def power_on(self, instance: dict) -> None: ...

    @abc.abstractmethod
    def pause(self, instance: dict) -> None: ...

    @abc.abstractmethod
    def unpause(self, instance: dict) -> None: ...

    @abc.abstractmethod
    def suspend(self, instance: dict) -> None: ...

    @abc.abstractmethod
    def resume(self, instance: dict) -> None: ...

    @abc.abstractmethod
    def rebuild(self, instance: dict, image_meta: dict) -> None:
        """Replace the instance's root disk with ``image_meta`` and start it again."""

    @abc.abstractmethod
    def snapshot(self, instance: dict, image_id: str) -> Snapshot:
        """Save the instance's root disk for image ``image_id``, as it is now.

        Returns once the disk is captured (the guest may run on); the agent then uploads
        ``Snapshot.chunks`` to the image service.
        """

    @abc.abstractmethod
    def migrate_disk_and_power_off(self, instance: dict, dest_host: str, flavor: dict) -> dict:
        """Stop the instance and hand its disks over for a move; returns the disk info."""

    @abc.abstractmethod
    def finish_migration(self, instance: dict, disk_info: dict, flavor: dict,
                         power_on: bool) -> None:
        """On the destination: set the moved instance up with ``flavor``."""

    @abc.abstractmethod
    def finish_revert_migration(self, instance: dict, power_on: bool) -> None:
        """On the source: bring the instance back as it was before the move."""

    @abc.abstractmethod
    def confirm_migration(self, instance: dict) -> None:
        """On the source: forget the instance that moved away."""

    @abc.abstractmethod
    def get_info(self, instance: dict) -> InstanceInfo:
        """The instance's power state and size; InstanceNotFound if the host has none."""

    @abc.abstractmethod
    def get_console_output(self, instance: dict) -> str:
        """The instance's console log."""

    @abc.abstractmethod
    def get_host_uptime(self) -> str:
        """The host's uptime line, as ``uptime`` prints it (os-hypervisors uptime)."""


# CPU flags (as /proc/cpuinfo spells them) whose trait name is not the flag upper-cased
# without dots.
_CPU_FLAG_ALIASES = {"aes": "AESNI", "pclmulqdq": "CLMUL", "fma": "FMA3", "lm": None}


def cpu_flag_traits(flags: list[str] | set[str]) -> set[str]:
    """The HW_CPU_X86_* traits os-traits defines for these CPU flags; unknown flags dropped."""
    known = set(os_traits.get_traits("HW_CPU_X86_"))
    traits = set()
    for flag in flags:
        flag = flag.strip().lower()
        name = _CPU_FLAG_ALIASES.get(flag, flag.replace(".", "").replace("_", "").upper())
        if name and f"HW_CPU_X86_{name}" in known:
            traits.add(f"HW_CPU_X86_{name}")
    return traits
