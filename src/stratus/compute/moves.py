"""The host steps of resize, cold migration, rebuild and evacuation (mixed into the
ComputeManager). The conductor calls them in order (``conductor.moves``); each step
records its instance action event, moves the instance through Nova's task states and
checks the state it expects, so a delete that lands meanwhile wins.
"""

from __future__ import annotations

import logging

import orjson

from stratus.cells.schema_api import utcnow
from stratus.common.context import RequestContext
from stratus.scheduler.report import PlacementError
from stratus.virt import power_state
from stratus.virt.driver import InstanceNotFound

LOG = logging.getLogger(__name__)

_SIZE_KEYS = ("memory_mb", "vcpus", "root_gb", "ephemeral_gb")


def _flavor_columns(current: dict, old: dict | None = None) -> dict:
    """The instance columns that hold a flavor: the JSON and the sizes copied out."""
    stored = {"cur": current, **({"old": old} if old else {})}
    return {"flavor": orjson.dumps(stored).decode(), "instance_type_id": current.get("id"),
            **{key: int(current.get(key) or 0) for key in _SIZE_KEYS}}


class HostMoves:
    """Uses the manager's ``host``, ``nodename``, ``driver``, ``_store``, ``_placement``,
    ``_network``, ``_lock``, ``_on_usage_change``."""

    def _bind_ports_here(self, instance_uuid: str) -> list[dict]:
        """The instance arrives on this host: its ports are bound here in Neutron and its
        info cache rewritten (Nova's migrate_instance_finish). Raises if Neutron refuses,
        failing the move."""
        network_info = self._store.network_info(instance_uuid)
        if not network_info:
            return []
        if self._network is None:
            raise RuntimeError(f"No network service configured on {self.host}: the ports "
                               f"of {instance_uuid} cannot be bound here")
        network_info = self._network.rebind({"uuid": instance_uuid}, network_info,
                                            self.host)
        self._store.set_network_info(instance_uuid, network_info)
        return network_info

    def _step(self, context: RequestContext, instance_uuid: str, event: str, work):
        """Run ``work()`` under the instance's lock inside action event ``event``; the
        error (re-raised to the conductor) finishes the event as Error."""
        with self._lock(instance_uuid):
            event_id = self._store.event_start(context, instance_uuid, event, self.host)
            try:
                result = work()
            except Exception as exc:
                self._store.event_finish(event_id, exc)
                raise
            self._store.event_finish(event_id)
            return result

    def _stored_flavors(self, instance_uuid: str) -> dict:
        return self._store.stored_flavors(instance_uuid)

    def _resized_in_place(self, migration_uuid: str) -> bool:
        """The resize stayed on this host (allow_resize_to_same_host): the guest there is
        the resized one, and no copy was left behind."""
        migration = self._store.migration(migration_uuid)
        return migration["source_compute"] == migration["dest_compute"]

    # --- resize / cold migration --------------------------------------------------------

    def resize_instance(self, context: RequestContext, instance_uuid: str,
                        migration_uuid: str, flavor: dict, dest_host: str) -> dict:
        """Source: stop the guest and hand over its disk (what the destination needs)."""
        def work():
            self._store.update(instance_uuid, {"task_state": "resize_migrating"},
                               expected_task_state="resize_prep")
            instance = self._store.get(instance_uuid)
            disk_info = self.driver.migrate_disk_and_power_off(instance, dest_host, flavor)
            self._store.update(instance_uuid, {"task_state": "resize_migrated"},
                               expected_task_state="resize_migrating")
            return disk_info
        return self._step(context, instance_uuid, "compute_resize_instance", work)

    def finish_resize(self, context: RequestContext, instance_uuid: str,
                      migration_uuid: str, flavor: dict, disk_info: dict) -> None:
        """Destination: start the guest with the new flavor; the server is RESIZED here."""
        def work():
            self._store.update(instance_uuid, {"task_state": "resize_finish"},
                               expected_task_state="resize_migrated")
            self._bind_ports_here(instance_uuid)
            instance = self._store.get(instance_uuid)
            power_on = instance["vm_state"] != "stopped"
            self.driver.finish_migration(instance, disk_info, flavor, power_on)
            info = self.driver.get_info(instance)
            self._store.update(instance_uuid, {
                "host": self.host, "node": self.nodename, "vm_state": "resized",
                "task_state": None, "power_state": info.state,
                **_flavor_columns(flavor, instance["flavor"])},
                expected_task_state="resize_finish")
            self._on_usage_change()
        self._step(context, instance_uuid, "compute_finish_resize", work)

    def confirm_resize(self, context: RequestContext, instance_uuid: str,
                       migration_uuid: str) -> None:
        """Source: drop the copy the resize left behind (none when it stayed here)."""
        def work():
            if self._resized_in_place(migration_uuid):
                return
            instance = self._store.get(instance_uuid)
            self.driver.confirm_migration(instance)
            self._on_usage_change()
        self._step(context, instance_uuid, "compute_confirm_resize", work)

    def revert_resize(self, context: RequestContext, instance_uuid: str,
                      migration_uuid: str) -> None:
        """Destination: drop the resized guest; the source takes the server back. On the
        same host the guest is kept: finish_revert_resize gives it its old flavor."""
        def work():
            if self._resized_in_place(migration_uuid):
                return
            instance = self._store.get(instance_uuid)
            try:
                self.driver.destroy(instance)
            except InstanceNotFound:
                pass
            self._on_usage_change()
        self._step(context, instance_uuid, "compute_revert_resize", work)

    def finish_revert_resize(self, context: RequestContext, instance_uuid: str,
                             migration_uuid: str, source_node: str | None = None) -> None:
        """Source: start the guest again with its old flavor."""
        def work():
            instance = self._store.get(instance_uuid)
            old = self._stored_flavors(instance_uuid).get("old") or instance["flavor"]
            was_running = instance["power_state"] == power_state.RUNNING
            reverted = {**instance, "flavor": old,
                        **{key: old.get(key, instance.get(key)) for key in _SIZE_KEYS}}
            self._bind_ports_here(instance_uuid)
            self.driver.finish_revert_migration(reverted, was_running)
            info = self.driver.get_info(reverted)
            self._store.update(instance_uuid, {
                "host": self.host, "node": source_node or self.nodename,
                "vm_state": "active" if was_running else "stopped", "task_state": None,
                "power_state": info.state, **_flavor_columns(old)},
                expected_task_state="resize_reverting")
            self._on_usage_change()
        self._step(context, instance_uuid, "compute_finish_revert_resize", work)

    # --- rebuild / evacuate -------------------------------------------------------------

    def rebuild_instance(self, context: RequestContext, instance_uuid: str,
                         image_meta: dict, evacuated_from: str | None = None) -> None:
        """Rebuild the server from ``image_meta`` here: in place, or (``evacuated_from``)
        anew on this host because its own host is down. A stopped server stays stopped;
        one in ERROR comes back active."""
        def work():
            instance = self._store.get(instance_uuid)
            stay_stopped = instance["vm_state"] == "stopped"
            self._store.update(instance_uuid, {"task_state": "rebuild_spawning"},
                               expected_task_state="rebuilding")
            if evacuated_from:
                network_info = self._bind_ports_here(instance_uuid)
                here = {**instance, "host": self.host}
                if self._spawn_takes_network:
                    self.driver.spawn(here, image_meta, network_info=network_info)
                else:
                    self.driver.spawn(here, image_meta)
            else:
                self.driver.rebuild(instance, image_meta)
            if stay_stopped:
                self.driver.power_off(instance)
            info = self.driver.get_info(instance)
            changes = {"vm_state": "stopped" if stay_stopped else "active",
                       "task_state": None, "power_state": info.state,
                       "image_ref": image_meta.get("id"), "launched_at": utcnow()}
            if evacuated_from:
                changes.update(host=self.host, node=self.nodename)
            self._store.update(instance_uuid, changes, expected_task_state="rebuild_spawning")
            self._on_usage_change()
        event = "compute_rebuild_instance"
        if evacuated_from:
            self._step(context, instance_uuid, event, work)
            return
        try:  # cast by the API: nobody waits for the error, so it goes on the server
            self._step(context, instance_uuid, event, work)
        except Exception as exc:
            LOG.warning("Rebuild of %s failed: %s", instance_uuid, exc)
            self._fail(instance_uuid, exc, {"vm_state": "error", "task_state": None})

    def _clean_up_evacuations(self) -> set[str]:
        """At start: servers evacuated off this host while it was down are dropped here,
        and their source allocations go (as Nova's ``_destroy_evacuated_instances``).
        Returns the servers still being evacuated off this host, which are not ours to
        settle."""
        evacuated, evacuating = self._store.evacuations(self.host)
        for migration in evacuated:
            try:
                self.driver.destroy({"uuid": migration["instance_uuid"]})
            except InstanceNotFound:
                pass
            try:
                if self._placement is not None:
                    self._placement.delete_allocations(migration["uuid"])
            except PlacementError:
                LOG.exception("Could not remove the source allocation of evacuated %s",
                              migration["instance_uuid"])
                continue
            self._store.complete_evacuation(migration["uuid"])
            LOG.info("Cleaned up %s, evacuated from this host", migration["instance_uuid"])
        return set(evacuating)
