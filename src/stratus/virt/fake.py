"""FakeDriver: a hypervisor in memory, so one process can run hundreds of compute hosts.

Each instance is a small record with a power state and a console log of what happened to
it (``openstack console log show`` reads it). Sizes come from the constructor (or the
``[fake_driver]`` options through :meth:`FakeDriver.from_conf`). With ``[fake_driver]
netns_vifs`` its ports are real: a network namespace per instance, plugged by os-vif
(:mod:`stratus.virt.fake_netns`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stratus.virt import power_state
from stratus.virt.driver import (
    ComputeDriver,
    HostResources,
    InstanceInfo,
    InstanceNotFound,
    InvalidPowerState,
    Snapshot,
    VirtError,
    cpu_flag_traits,
)

HYPERVISOR_TYPE = "fake"
HYPERVISOR_VERSION = 1000
# A fake snapshot: a text header describing the guest, padded to this size with bytes
# derived from its uuid, handed out in chunks of SNAPSHOT_CHUNK.
SNAPSHOT_SIZE = 8192
SNAPSHOT_CHUNK = 1024


@dataclass
class _Guest:
    uuid: str
    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    image_id: str | None
    state: int = power_state.RUNNING
    console: list[str] = field(default_factory=list)
    network_info: list[dict] = field(default_factory=list)


def _flavor_size(instance: dict, flavor: dict | None = None) -> tuple[int, int, int]:
    flavor = flavor if flavor is not None else (instance.get("flavor") or {})
    return (int(flavor.get("vcpus", instance.get("vcpus", 0)) or 0),
            int(flavor.get("memory_mb", instance.get("memory_mb", 0)) or 0),
            int(flavor.get("root_gb", instance.get("root_gb", 0)) or 0)
            + int(flavor.get("ephemeral_gb", instance.get("ephemeral_gb", 0)) or 0))


class FakeDriver(ComputeDriver):
    """An in-memory hypervisor with one node named after its host."""

    capabilities = {"supports_attach_interface": True, "supports_device_tagging": True,
                    "supports_multiattach": True, "supports_extend_volume": True,
                    "supports_image_type_raw": True, "supports_image_type_qcow2": True}

    def __init__(self, host: str = "fake-host", *, vcpus: int = 16, memory_mb: int = 65536,
                 local_gb: int = 2048, cpu_flags: list[str] | None = None,
                 nodename: str | None = None, netns_backing=None):
        self.host = host
        self.nodename = nodename or host
        self.vcpus = vcpus
        self.memory_mb = memory_mb
        self.local_gb = local_gb
        self.cpu_flags = list(cpu_flags or [])
        self._guests: dict[str, _Guest] = {}
        self._spawn_failures: list[str] = []
        self._snapshot_failures: list[str] = []
        self._booted = time.monotonic()
        self._lock = threading.Lock()
        # A stratus.virt.fake_netns.NetnsBacking, or None: ports are only recorded.
        self._netns = netns_backing

    @classmethod
    def from_conf(cls, conf, host: str) -> FakeDriver:
        opts = conf.fake_driver
        netns_backing = None
        if opts.netns_vifs:
            # Imported here: os-vif and pyroute2 cost hosts without netns backing nothing.
            from stratus.virt.fake_netns import NetnsBacking
            netns_backing = NetnsBacking(conf)
        return cls(host, vcpus=opts.vcpus, memory_mb=opts.memory_mb, local_gb=opts.local_gb,
                   cpu_flags=opts.cpu_flags, netns_backing=netns_backing)

    def fail_next_spawns(self, count: int = 1, reason: str = "Injected spawn failure") -> None:
        """Make the next ``count`` spawns raise VirtError(reason): a host that cannot boot."""
        with self._lock:
            self._spawn_failures.extend([reason] * count)

    def fail_next_snapshots(self, count: int = 1,
                            reason: str = "Injected snapshot failure") -> None:
        """Make the next ``count`` snapshots fail with VirtError(reason) halfway through
        their data, after the first chunk: an upload that breaks off."""
        with self._lock:
            self._snapshot_failures.extend([reason] * count)

    # -- host ----------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        self.host = host

    def list_instances(self) -> list[str]:
        with self._lock:
            return list(self._guests)

    def get_available_nodes(self) -> list[str]:
        return [self.nodename]

    def get_available_resource(self, nodename: str) -> HostResources:
        with self._lock:
            guests = list(self._guests.values())
        return HostResources(
            hypervisor_hostname=self.nodename, hypervisor_type=HYPERVISOR_TYPE,
            hypervisor_version=HYPERVISOR_VERSION, vcpus=self.vcpus,
            memory_mb=self.memory_mb, local_gb=self.local_gb,
            vcpus_used=sum(g.vcpus for g in guests),
            memory_mb_used=sum(g.memory_mb for g in guests),
            local_gb_used=sum(g.disk_gb for g in guests), running_vms=len(guests),
            host_ip="127.0.0.1",
            cpu_info={"arch": "x86_64", "model": "fake", "vendor": "Stratus",
                      "topology": {"sockets": 1, "cores": self.vcpus, "threads": 1},
                      "features": sorted(self.cpu_flags)})

    def cpu_traits(self) -> set[str]:
        return cpu_flag_traits(self.cpu_flags)

    # -- instances -----------------------------------------------------------------------

    def _guest(self, instance: dict) -> _Guest:
        guest = self._guests.get(instance["uuid"])
        if guest is None:
            raise InstanceNotFound(f"Instance {instance['uuid']} could not be found.")
        return guest

    @staticmethod
    def _log(guest: _Guest, line: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        guest.console.append(f"[{stamp}] {line}")

    def _transition(self, instance: dict, allowed: tuple[int, ...], new_state: int,
                    what: str, line: str) -> None:
        with self._lock:
            guest = self._guest(instance)
            if guest.state not in allowed:
                raise InvalidPowerState(
                    f"Cannot {what} instance {guest.uuid} while it is "
                    f"{power_state.NAMES.get(guest.state, guest.state)}.")
            guest.state = new_state
            self._log(guest, line)

    def spawn(self, instance: dict, image_meta: dict,
              network_info: list[dict] | None = None) -> None:
        vcpus, memory_mb, disk_gb = _flavor_size(instance)
        with self._lock:
            if self._spawn_failures:
                raise VirtError(self._spawn_failures.pop(0))
            if instance["uuid"] in self._guests:
                raise VirtError(f"Instance {instance['uuid']} already exists on {self.host}.")
            guest = _Guest(uuid=instance["uuid"], name=instance.get("display_name") or "",
                           vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb,
                           image_id=image_meta.get("id"), network_info=list(network_info or []))
            self._log(guest, f"Creating instance {guest.name} on {self.host} "
                             f"({vcpus} vCPU, {memory_mb} MiB, {disk_gb} GiB) "
                             f"from image {guest.image_id}")
            self._log(guest, "Booting: login prompt reached")
            self._guests[guest.uuid] = guest
        if self._netns is not None:
            try:
                self._netns.plug(instance, guest.network_info)
            except Exception as exc:
                with self._lock:
                    self._guests.pop(guest.uuid, None)
                raise VirtError(f"Plugging the ports of instance {guest.uuid} failed: "
                                f"{exc}") from exc

    def destroy(self, instance: dict, network_info: list[dict] | None = None) -> None:
        with self._lock:
            guest = self._guests.pop(instance["uuid"], None)
        if self._netns is not None:
            if network_info is None:
                network_info = guest.network_info if guest is not None else []
            self._netns.unplug(instance, network_info)

    def reboot(self, instance: dict, reboot_type: str) -> None:
        if reboot_type == "HARD":
            allowed = (power_state.RUNNING, power_state.SHUTDOWN, power_state.PAUSED,
                       power_state.SUSPENDED, power_state.CRASHED)
        else:
            allowed = (power_state.RUNNING,)
        self._transition(instance, allowed, power_state.RUNNING, "reboot",
                         f"Reboot ({reboot_type.lower()}): login prompt reached")

    def power_off(self, instance: dict) -> None:
        self._transition(instance, (power_state.RUNNING, power_state.PAUSED,
                                    power_state.SUSPENDED, power_state.CRASHED),
                         power_state.SHUTDOWN, "power off", "Powered off")

    def power_on(self, instance: dict) -> None:
        self._transition(instance, (power_state.SHUTDOWN, power_state.CRASHED),
                         power_state.RUNNING, "power on", "Powered on: login prompt reached")

    def pause(self, instance: dict) -> None:
        self._transition(instance, (power_state.RUNNING,), power_state.PAUSED, "pause",
                         "Paused")

    def unpause(self, instance: dict) -> None:
        self._transition(instance, (power_state.PAUSED,), power_state.RUNNING, "unpause",
                         "Unpaused")

    def suspend(self, instance: dict) -> None:
        self._transition(instance, (power_state.RUNNING, power_state.PAUSED),
                         power_state.SUSPENDED, "suspend", "Suspended to disk")

    def resume(self, instance: dict) -> None:
        self._transition(instance, (power_state.SUSPENDED,), power_state.RUNNING, "resume",
                         "Resumed from disk")

    def rebuild(self, instance: dict, image_meta: dict) -> None:
        with self._lock:
            guest = self._guest(instance)
            guest.image_id = image_meta.get("id")
            guest.state = power_state.RUNNING
            self._log(guest, f"Rebuilt from image {guest.image_id}: login prompt reached")

    def snapshot(self, instance: dict, image_id: str) -> Snapshot:
        """A few KiB describing the guest (its uuid, name, base image and console log),
        the same bytes for the same guest state."""
        with self._lock:
            guest = self._guest(instance)
            failure = self._snapshot_failures.pop(0) if self._snapshot_failures else None
            header = "".join(f"{line}\n" for line in (
                "STRATUS FAKE DISK SNAPSHOT 1", f"instance {guest.uuid}", f"name {guest.name}",
                f"base image {guest.image_id}", f"size {guest.vcpus} vCPU "
                f"{guest.memory_mb} MiB {guest.disk_gb} GiB", "console:", *guest.console))
            self._log(guest, f"Snapshot taken for image {image_id}")
        return Snapshot("raw", "bare", _snapshot_chunks(header.encode(), guest.uuid, failure))

    def migrate_disk_and_power_off(self, instance: dict, dest_host: str, flavor: dict) -> dict:
        with self._lock:
            guest = self._guest(instance)
            guest.state = power_state.SHUTDOWN
            self._log(guest, f"Powered off to move to {dest_host}")
            return {"image_id": guest.image_id, "console": list(guest.console)}

    def finish_migration(self, instance: dict, disk_info: dict, flavor: dict,
                         power_on: bool) -> None:
        vcpus, memory_mb, disk_gb = _flavor_size(instance, flavor)
        with self._lock:
            guest = self._guests.get(instance["uuid"]) or _Guest(
                uuid=instance["uuid"], name=instance.get("display_name") or "", vcpus=0,
                memory_mb=0, disk_gb=0, image_id=disk_info.get("image_id"),
                console=list(disk_info.get("console", [])))
            guest.vcpus, guest.memory_mb, guest.disk_gb = vcpus, memory_mb, disk_gb
            guest.state = power_state.RUNNING if power_on else power_state.SHUTDOWN
            self._log(guest, f"Arrived on {self.host} with {vcpus} vCPU, {memory_mb} MiB, "
                             f"{disk_gb} GiB")
            self._guests[guest.uuid] = guest

    def finish_revert_migration(self, instance: dict, power_on: bool) -> None:
        vcpus, memory_mb, disk_gb = _flavor_size(instance)
        with self._lock:
            guest = self._guest(instance)
            guest.vcpus, guest.memory_mb, guest.disk_gb = vcpus, memory_mb, disk_gb
            guest.state = power_state.RUNNING if power_on else power_state.SHUTDOWN
            self._log(guest, f"Move reverted: back on {self.host}")

    def confirm_migration(self, instance: dict) -> None:
        self.destroy(instance)

    def get_info(self, instance: dict) -> InstanceInfo:
        with self._lock:
            guest = self._guest(instance)
            return InstanceInfo(state=guest.state, vcpus=guest.vcpus, memory_mb=guest.memory_mb)

    def get_console_output(self, instance: dict) -> str:
        with self._lock:
            return "\n".join(self._guest(instance).console) + "\n"

    def get_host_uptime(self) -> str:
        """``uptime``'s line for a host that booted when this driver was made."""
        with self._lock:
            running = len(self._guests)
        minutes = int(time.monotonic() - self._booted) // 60
        now = datetime.now(UTC).strftime("%H:%M:%S")
        return (f" {now} up {minutes // 1440} days, {minutes // 60 % 24:2d}:{minutes % 60:02d},"
                f"  {running} guests,  load average: 0.00, 0.00, 0.00")


def _snapshot_chunks(header: bytes, uuid: str, failure: str | None) -> Iterator[bytes]:
    """``header`` padded to SNAPSHOT_SIZE with a pattern from ``uuid``, chunk by chunk;
    with ``failure``, VirtError(failure) after the first chunk."""
    pattern = hashlib.sha256(uuid.encode()).digest()
    size = max(SNAPSHOT_SIZE, len(header))
    data = header + (pattern * (size // len(pattern) + 1))[:size - len(header)]
    for offset in range(0, size, SNAPSHOT_CHUNK):
        if failure is not None and offset:
            raise VirtError(failure)
        yield data[offset:offset + SNAPSHOT_CHUNK]
