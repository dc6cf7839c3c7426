"""ComputeManager: the RPC endpoint (topic ``compute``, server = host) of one compute host.

Every operation moves the instance through Nova's state machine (task_state while the
driver works, then vm_state/power_state from what the driver did), records an instance
action event, and keeps Placement right: a failed build gives its allocation back, and so
does terminate. Operations on one instance are serialised on this host.
"""

from __future__ import annotations

import inspect
import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from stratus.cells.schema_api import utcnow
from stratus.common.context import RequestContext
from stratus.compute.instance_store import InstanceGone, InstanceStore, UnexpectedTaskState
from stratus.compute.moves import HostMoves
from stratus.image import glance
from stratus.network import allocation, neutron
from stratus.scheduler.report import PlacementError
from stratus.virt import power_state
from stratus.virt.driver import ComputeDriver, InstanceNotFound

LOG = logging.getLogger(__name__)

# Striped per-instance locks: bounded memory however many instances a host has seen.
_LOCK_STRIPES = 64
# Nova's task states of a snapshot, in order: the API sets the first.
SNAPSHOT_TASKS = ("image_snapshot_pending", "image_snapshot", "image_pending_upload",
                  "image_uploading")


@dataclass(frozen=True)
class _Power:
    """One power action: its event, the task state while it runs, the vm_state it ends in
    and the driver call that does it."""

    event: str
    task_state: str
    vm_state: str
    call: Callable[[ComputeDriver, dict], None]


_POWER_ACTIONS = {
    "stop": _Power("compute_stop_instance", "powering-off", "stopped",
                   lambda d, i: d.power_off(i)),
    "start": _Power("compute_start_instance", "powering-on", "active",
                    lambda d, i: d.power_on(i)),
    "pause": _Power("compute_pause_instance", "pausing", "paused", lambda d, i: d.pause(i)),
    "unpause": _Power("compute_unpause_instance", "unpausing", "active",
                      lambda d, i: d.unpause(i)),
    "suspend": _Power("compute_suspend_instance", "suspending", "suspended",
                      lambda d, i: d.suspend(i)),
    "resume": _Power("compute_resume_instance", "resuming", "active",
                     lambda d, i: d.resume(i)),
}


class ComputeManager(HostMoves):
    """Runs instances on ``host`` through ``driver``; state goes through ``store``.

    ``placement`` is a PlacementClient (None: no Placement to keep right, e.g. driver-only
    tests); ``conductor`` an RPC client of topic ``conductor`` for reschedules;
    ``on_usage_change`` is called after an instance lands or leaves (the resource tracker
    marks its node for the next periodic report); ``images`` (a glance.UserImageClients)
    reaches the image service as the user of a request (None: snapshots fail);
    ``network`` (a network.allocation.NetworkAllocator) makes and binds ports before a
    spawn and releases them after (None: only servers without networking can be built).
    """

    def __init__(self, host: str, driver: ComputeDriver, store: InstanceStore, *,
                 placement=None, conductor=None,
                 on_usage_change: Callable[[], None] | None = None,
                 images: glance.UserImageClients | None = None,
                 network: allocation.NetworkAllocator | None = None):
        self.host = host
        self.driver = driver
        self.nodename = driver.get_available_nodes()[0]
        self._store = store
        self._placement = placement
        self._conductor = conductor
        self._images = images
        self._network = network
        # The os-vif work adds network_info to spawn/destroy; older drivers go without.
        self._spawn_takes_network = _accepts(driver.spawn, "network_info")
        self._destroy_takes_network = _accepts(driver.destroy, "network_info")
        self._on_usage_change = on_usage_change or (lambda: None)
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    def init_host(self) -> None:
        """Settle instances an earlier run of this host left mid-operation (called once at
        start, before RPC is served): an interrupted build ends in ERROR with a fault, an
        interrupted delete is finished, any other task is dropped. Servers evacuated off
        this host while it was down are removed from it."""
        evacuating = self._clean_up_evacuations()
        for instance in self._store.on_host(self.host):
            uuid, task = instance["uuid"], instance["task_state"]
            if uuid in evacuating:
                continue
            try:
                if instance["vm_state"] == "building":
                    self._fail(uuid, RuntimeError(
                        f"Build was interrupted: compute host {self.host} restarted"),
                        {"vm_state": "error", "task_state": None,
                         "power_state": power_state.NOSTATE})
                elif task == "deleting":
                    network_info = self._store.network_info(uuid)
                    self._destroy({"uuid": uuid}, network_info)
                    self._deallocate(None, uuid, network_info)
                    self._store.destroy(uuid)
                    self._delete_allocation(uuid)
                elif task is not None:
                    self._store.update(uuid, {"task_state": None})
            except Exception:
                LOG.exception("Could not settle instance %s at start", uuid)

    def _lock(self, instance_uuid: str) -> threading.Lock:
        return self._locks[zlib.crc32(instance_uuid.encode()) % _LOCK_STRIPES]

    # -- networks --------------------------------------------------------------------------

    def _destroy(self, instance: dict, network_info: list[dict]) -> None:
        if self._destroy_takes_network:
            self.driver.destroy(instance, network_info=network_info)
        else:
            self.driver.destroy(instance)

    def _allocate(self, context: RequestContext, instance: dict, requested) -> list[dict]:
        """The instance's ports, made and bound here, and written to its info cache."""
        if not requested:
            return []
        if self._network is None:
            raise RuntimeError(f"No network service configured on {self.host}")
        network_info = self._network.allocate(context, instance, requested, self.host)
        self._store.set_network_info(instance["uuid"], network_info)
        return network_info

    def _deallocate(self, context: RequestContext | None, instance_uuid: str,
                    network_info: list[dict], requested=None) -> None:
        """Delete the ports made for the instance and unbind the user's; a failure is
        logged (the instance's own state is already right) and its cache emptied."""
        if not network_info and not requested:
            return
        if self._network is None:
            LOG.error("Ports of %s left bound: no network service here", instance_uuid)
            return
        try:
            self._network.deallocate(context, instance_uuid, network_info,
                                     allocation.requested_port_ids(requested))
            self._store.set_network_info(instance_uuid, [])
        except Exception:
            LOG.exception("Could not release the ports of %s", instance_uuid)

    def _delete_allocation(self, instance_uuid: str) -> None:
        if self._placement is None:
            return
        try:
            self._placement.delete_allocations(instance_uuid)
        except PlacementError:
            # Left for the operator (or a heal) to remove; the instance's own state is
            # already right, so the operation is not failed for it.
            LOG.exception("Could not remove the allocation of %s", instance_uuid)

    # -- build -----------------------------------------------------------------------------

    def build_and_run_instance(self, context: RequestContext, instance_uuid: str,
                               request_spec: dict, selection: dict | None = None,
                               alternates: list | None = None) -> None:
        """Spawn the instance here (cast by the conductor after the scheduler claimed it)."""
        with self._lock(instance_uuid):
            started = self._store.start_build(context, instance_uuid, self.host,
                                              self.nodename)
            event, instance = started["event"], started["instance"]
            if instance is None:
                # Deleted (or being deleted) before it got here: nothing to build, and the
                # allocation the scheduler made for it must not stay behind.
                LOG.info("Not building %s: %s", instance_uuid, started["skipped"])
                self._delete_allocation(instance_uuid)
                if event is not None:
                    self._store.event_finish(event)
                return
            # On success _build has finished the event already (finish_build).
            error = self._build(context, instance, request_spec, alternates or [], event)
            if error is not None and event is not None:
                self._store.event_finish(event, error)

    def _build(self, context: RequestContext, instance: dict, request_spec: dict,
               alternates: list, event: int | None) -> BaseException | None:
        """Spawn ``instance`` (taken for this host); the failure, or None when it is ACTIVE
        (or was deleted meanwhile), with the build event then finished."""
        instance_uuid = instance["uuid"]
        image_meta = dict(request_spec.get("image") or {})
        image_meta.setdefault("id", instance.get("image_ref"))
        requested = request_spec.get("requested_networks") or []
        network_info: list[dict] = []
        try:
            network_info = self._allocate(context, instance, requested)
            if self._spawn_takes_network:
                self.driver.spawn(instance, image_meta, network_info=network_info)
            else:
                self.driver.spawn(instance, image_meta)
        except Exception as exc:  # any failure ends in a reschedule or ERROR
            LOG.warning("Build of %s failed on %s: %s", instance_uuid, self.host, exc)
            self._destroy(instance, network_info)
            # Ports are made again on the next host: none stay bound to this one.
            if network_info:
                self._deallocate(context, instance_uuid, network_info, requested)
            self._build_failed(context, instance_uuid, request_spec, alternates, exc)
            return exc
        if not self._store.finish_build(instance_uuid, event, {
                "vm_state": "active", "task_state": None, "power_state": power_state.RUNNING,
                "launched_at": utcnow()}):
            LOG.info("%s was deleted while it was being built; cleaning up", instance_uuid)
            self._destroy(instance, network_info)
            self._deallocate(context, instance_uuid, network_info, requested)
            self._delete_allocation(instance_uuid)
        self._on_usage_change()
        return None

    def _build_failed(self, context: RequestContext, instance_uuid: str, request_spec: dict,
                      alternates: list, error: Exception) -> None:
        self._delete_allocation(instance_uuid)
        if alternates and self._conductor is not None:
            try:
                self._store.update(instance_uuid, {"host": None, "node": None,
                                                   "task_state": "scheduling"})
            except InstanceGone:
                return
            self._conductor.cast(context, "reschedule_instance", instance_uuid=instance_uuid,
                                 request_spec=request_spec, alternates=alternates,
                                 fault={"message": str(error) or type(error).__name__,
                                        "code": 500, "host": self.host})
            return
        # The fault first: whoever sees ERROR can read why.
        self._fail(instance_uuid, error, {"vm_state": "error", "task_state": None,
                                          "power_state": power_state.NOSTATE})

    # -- delete ----------------------------------------------------------------------------

    def terminate_instance(self, context: RequestContext, instance_uuid: str) -> None:
        """Destroy the instance, mark it deleted and give its allocation back."""
        with self._lock(instance_uuid):
            event = self._store.event_start(context, instance_uuid,
                                            "compute_terminate_instance", self.host)
            error = None
            try:
                try:
                    self._store.update(instance_uuid, {"task_state": "deleting"})
                except InstanceGone:
                    pass  # the API already marked it deleted (delete of a down host, ...)
                network_info = self._store.network_info(instance_uuid)
                self._destroy({"uuid": instance_uuid}, network_info)
                self._deallocate(context, instance_uuid, network_info)
                self._store.destroy(instance_uuid)
                self._delete_allocation(instance_uuid)
                self._on_usage_change()
            except Exception as exc:
                LOG.exception("Terminate of %s failed", instance_uuid)
                error = exc
                self._fail(instance_uuid, exc, {"vm_state": "error", "task_state": None})
            self._store.event_finish(event, error)

    # -- power -----------------------------------------------------------------------------

    def _power(self, context: RequestContext, instance_uuid: str, action: _Power) -> None:
        with self._lock(instance_uuid):
            event = self._store.event_start(context, instance_uuid, action.event, self.host)
            error = None
            try:
                # The API may have set the task state already (Nova's API does).
                self._store.update(instance_uuid, {"task_state": action.task_state},
                                   expected_task_state=(None, action.task_state))
                instance = self._store.get(instance_uuid)
                action.call(self.driver, instance)
                info = self.driver.get_info(instance)
                self._store.update(instance_uuid, {
                    "vm_state": action.vm_state, "task_state": None,
                    "power_state": info.state}, expected_task_state=action.task_state)
            except (InstanceGone, UnexpectedTaskState) as exc:
                error = exc
            except Exception as exc:  # the driver refused: record why, keep the vm_state
                LOG.warning("%s of %s failed: %s", action.event, instance_uuid, exc)
                error = exc
                self._fail(instance_uuid, exc, {"task_state": None})
            self._store.event_finish(event, error)

    def _fail(self, instance_uuid: str, error: Exception, changes: dict) -> None:
        try:
            self._store.add_fault(instance_uuid, error, self.host)
            self._store.update(instance_uuid, changes)
        except InstanceGone:
            pass

    def reboot_instance(self, context: RequestContext, instance_uuid: str,
                        reboot_type: str = "SOFT") -> None:
        """SOFT or HARD reboot; the instance ends active and running."""
        hard = reboot_type == "HARD"
        action = _Power("compute_reboot_instance", "rebooting_hard" if hard else "rebooting",
                        "active", lambda d, i: d.reboot(i, "HARD" if hard else "SOFT"))
        self._power(context, instance_uuid, action)

    def stop_instance(self, context: RequestContext, instance_uuid: str) -> None:
        self._power(context, instance_uuid, _POWER_ACTIONS["stop"])

    def start_instance(self, context: RequestContext, instance_uuid: str) -> None:
        self._power(context, instance_uuid, _POWER_ACTIONS["start"])

    def pause_instance(self, context: RequestContext, instance_uuid: str) -> None:
        self._power(context, instance_uuid, _POWER_ACTIONS["pause"])

    def unpause_instance(self, context: RequestContext, instance_uuid: str) -> None:
        self._power(context, instance_uuid, _POWER_ACTIONS["unpause"])

    def suspend_instance(self, context: RequestContext, instance_uuid: str) -> None:
        self._power(context, instance_uuid, _POWER_ACTIONS["suspend"])

    def resume_instance(self, context: RequestContext, instance_uuid: str) -> None:
        self._power(context, instance_uuid, _POWER_ACTIONS["resume"])

    # -- snapshot --------------------------------------------------------------------------

    def snapshot_instance(self, context: RequestContext, instance_uuid: str,
                          image_id: str) -> None:
        """Save the instance's disk as image ``image_id``, which the API created queued.

        Any failure deletes the image (as Nova does), records a fault and clears the task
        state; the instance keeps its vm_state.
        """
        with self._lock(instance_uuid):
            event = self._store.event_start(context, instance_uuid,
                                            "compute_snapshot_instance", self.host)
            error = None
            try:
                self._snapshot(context, instance_uuid, image_id)
            except (InstanceGone, UnexpectedTaskState) as exc:
                # Deleted, or taken over by another task (a delete): the image goes, the
                # instance is left to whoever has it now.
                error = exc
                self._delete_image(context, image_id)
            except Exception as exc:
                LOG.warning("Snapshot of %s as image %s failed: %s", instance_uuid, image_id,
                            exc)
                error = exc
                self._delete_image(context, image_id)
                self._snapshot_failed(instance_uuid, exc)
            self._store.event_finish(event, error)

    def _image_client(self, context: RequestContext) -> glance.GlanceClient:
        # The image service is reached as the user who asked, as Nova does: the RPC
        # context carries the user's token (RequestContext.to_dict sends auth_token, and
        # oslo.context's logging values mask it, so it is not logged). The service account
        # that reaches Placement is not used: the image is the user's project's, and the
        # user's token keeps the image service's own checks (quota, ownership) in force.
        # Unlike Nova there is no service token beside it, so an upload that outlives
        # the user's token fails (and the image is deleted).
        if self._images is None:
            raise glance.ImageServiceUnavailable("No image service configured on this host")
        return self._images.client(context)

    def _snapshot(self, context: RequestContext, instance_uuid: str, image_id: str) -> None:
        self._store.update(instance_uuid, {"task_state": "image_snapshot"},
                           expected_task_state="image_snapshot_pending")
        instance = self._store.get(instance_uuid)
        images = self._image_client(context)
        snapshot = self.driver.snapshot(instance, image_id)
        self._store.update(instance_uuid, {"task_state": "image_pending_upload"},
                           expected_task_state="image_snapshot")
        # The API copied the base image's formats; the disk as saved is what counts.
        formats = {"disk_format": snapshot.disk_format,
                   "container_format": snapshot.container_format}
        image = images.show(image_id)
        changed = {key: value for key, value in formats.items() if image.get(key) != value}
        if changed:
            images.update(image_id, changed)
        self._store.update(instance_uuid, {"task_state": "image_uploading"},
                           expected_task_state="image_pending_upload")
        images.upload(image_id, iter(snapshot.chunks))
        self._store.update(instance_uuid, {"task_state": None},
                           expected_task_state="image_uploading")

    def _delete_image(self, context: RequestContext, image_id: str) -> None:
        try:
            self._image_client(context).delete(image_id)
        except glance.ImageNotFound:
            pass
        except glance.ImageError:
            LOG.exception("Could not delete image %s of a failed snapshot", image_id)

    def _snapshot_failed(self, instance_uuid: str, error: Exception) -> None:
        """The fault, and the task state cleared if the snapshot still holds it."""
        try:
            self._store.add_fault(instance_uuid, error, self.host)
            self._store.update(instance_uuid, {"task_state": None},
                               expected_task_state=SNAPSHOT_TASKS)
        except (InstanceGone, UnexpectedTaskState):
            pass

    # -- interfaces ------------------------------------------------------------------------

    def attach_interface(self, context: RequestContext, instance_uuid: str,
                         network_id: str | None = None, port_id: str | None = None,
                         fixed_ip: str | None = None) -> dict:
        """Bind one more port to the instance and plug it (os-interface create). Call, not
        cast: the API answers with the port. Nothing stays bound if this raises."""
        with self._lock(instance_uuid):
            event = self._store.event_start(context, instance_uuid,
                                            "compute_attach_interface", self.host)
            error = None
            try:
                if self._network is None:
                    raise neutron.NeutronUnavailable(f"No network service on {self.host}")
                instance = self._store.get(instance_uuid)
                entry = self._network.attach(context, instance, self.host,
                                             network_id=network_id, port_id=port_id,
                                             fixed_ip=fixed_ip)
                try:
                    plug = getattr(self.driver, "attach_interface", None)
                    if plug is not None:
                        plug(instance, entry)
                    self._store.set_network_info(
                        instance_uuid, [*self._store.network_info(instance_uuid), entry])
                except Exception:
                    self._network.detach(context, entry, preserve=port_id is not None)
                    raise
                return entry
            except Exception as exc:
                error = exc
                raise
            finally:
                self._store.event_finish(event, error)

    def detach_interface(self, context: RequestContext, instance_uuid: str,
                         port_id: str) -> None:
        """Unplug and release one port (os-interface delete): a port the user passed is
        unbound, one Stratus made is deleted."""
        with self._lock(instance_uuid):
            event = self._store.event_start(context, instance_uuid,
                                            "compute_detach_interface", self.host)
            error = None
            try:
                network_info = self._store.network_info(instance_uuid)
                entry = next((p for p in network_info if p["id"] == port_id),
                             {"id": port_id, "preserve_on_delete": True})
                unplug = getattr(self.driver, "detach_interface", None)
                if unplug is not None:
                    unplug(self._store.get(instance_uuid), entry)
                if self._network is not None:
                    self._network.detach(context, entry,
                                         preserve=bool(entry.get("preserve_on_delete")))
                self._store.set_network_info(
                    instance_uuid, [p for p in network_info if p["id"] != port_id])
            except Exception as exc:
                LOG.warning("Detach of port %s from %s failed: %s", port_id, instance_uuid,
                            exc)
                error = exc
                self._fail(instance_uuid, exc, {})
            self._store.event_finish(event, error)

    # -- console ---------------------------------------------------------------------------

    def get_console_output(self, context: RequestContext, instance_uuid: str,
                           length: int | None = None) -> str:
        """The console log (its last ``length`` lines when given). Call, not cast."""
        try:
            output = self.driver.get_console_output({"uuid": instance_uuid})
        except InstanceNotFound:
            raise InstanceGone(instance_uuid) from None
        if length is None:
            return output
        lines = output.splitlines(keepends=True)
        return "".join(lines[-length:]) if length > 0 else ""

    def get_host_uptime(self, context: RequestContext) -> str:
        """The host's uptime line (os-hypervisors/{id}/uptime). Call, not cast."""
        return self.driver.get_host_uptime()


def _accepts(method, name: str) -> bool:
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
