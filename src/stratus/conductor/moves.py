"""Moving a server between hosts: resize, cold migration and evacuation, run by the super
conductor (mixed into its RPC endpoint).

Placement follows Nova's migration-consumer scheme. When a move starts, the instance's
allocation on the source host is handed to the migration record (its uuid is the
consumer), and the scheduler claims the destination for the instance as for a new
server. Confirming a resize drops the migration's allocation; reverting hands it back to
the instance (which replaces the destination claim in the same write). An evacuation
keeps the source's allocation on the migration until the source host comes back and
cleans up.

``migrate_server`` is an RPC call: the API waits for the scheduler, so a move with no
valid host is answered 400 at once, as Nova does. The host steps that follow run in the
background; each host step is a call to that host's agent, which records its own
instance action event and moves the instance through Nova's task states.
"""

from __future__ import annotations

import logging
import threading

import orjson
import sqlalchemy as sa

from stratus.cells.schema_api import request_specs
from stratus.common.context import RequestContext
from stratus.common.db import writer
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import instances as instance_store
from stratus.compute_api.store import migrations as migration_store
from stratus.scheduler.errors import NoValidHost
from stratus.scheduler.report import PlacementError
from stratus.virt import power_state

LOG = logging.getLogger(__name__)

# Host steps run as RPC calls; a step may stop a guest and copy its disk.
STEP_TIMEOUT_S = 300


class MoveFailed(Exception):
    """A move could not start; the message says why (the API answers 400 with it)."""


class MoveTasks:
    """The conductor's move methods. Uses the endpoint's ``_cells``, ``_scheduler``,
    ``_compute`` (ComputeRPC) and ``_placement``, and its ``_cell_of``."""

    # --- resize and cold migration ------------------------------------------------------

    def migrate_server(self, context: RequestContext, instance_uuid: str, flavor: dict,
                       migration_type: str, same_host: bool = False) -> dict:
        """Schedule a resize (``flavor`` is the new one) or cold migration (the same
        flavor) and start it; NoValidHost or MoveFailed when it cannot start, with the
        server back as it was. Returns the migration record's uuid and the destination."""
        cell = self._moving_cell(instance_uuid)
        engine = self._cells.engine(cell)
        with writer(engine).begin() as conn:
            instance = instance_store.get(conn, instance_uuid)
            migration = migration_store.create(
                conn, instance, migration_type, "pre-migrating",
                old_flavor_id=instance.get("instance_type_id"), new_flavor_id=flavor.get("id"))
        try:
            selection = self._schedule_move(context, instance, migration, flavor, cell,
                                            ignore_hosts=[] if same_host
                                            else [instance["host"]])
        except (NoValidHost, MoveFailed) as exc:
            self._move_refused(cell, instance_uuid, migration["uuid"], exc)
            raise
        with writer(engine).begin() as conn:
            migration_store.update(conn, migration["uuid"], {
                "dest_compute": selection["service_host"], "dest_node": selection["nodename"],
                "dest_host": selection["service_host"], "status": "migrating"})
        threading.Thread(target=self._run_resize, name=f"resize-{instance_uuid[:8]}",
                         args=(context, cell, instance, migration["uuid"], flavor,
                               selection["service_host"]), daemon=True).start()
        return {"migration_uuid": migration["uuid"], "host": selection["service_host"]}

    def _run_resize(self, context: RequestContext, cell, instance: dict,
                    migration_uuid: str, flavor: dict, dest: str) -> None:
        source = instance["host"]
        try:
            disk_info = self._step(context, source, "resize_instance",
                                   instance_uuid=instance["uuid"],
                                   migration_uuid=migration_uuid, flavor=flavor,
                                   dest_host=dest)
            self._set_status(cell, migration_uuid, "post-migrating")
            self._step(context, dest, "finish_resize", instance_uuid=instance["uuid"],
                       migration_uuid=migration_uuid, flavor=flavor, disk_info=disk_info)
            # Only from post-migrating: a confirm or revert may already have taken it on.
            self._set_status(cell, migration_uuid, "finished",
                             from_status=("post-migrating",))
        except Exception as exc:  # the server ends in ERROR, back on its source's claim
            LOG.exception("Resize of %s to %s failed", instance["uuid"], dest)
            self._move_failed(cell, instance["uuid"], migration_uuid, exc, source)

    def confirm_resize(self, context: RequestContext, instance_uuid: str,
                       migration_uuid: str) -> None:
        """Cast by the API: the source host drops its copy, its allocation goes."""
        cell = self._moving_cell(instance_uuid)
        with self._cells.engine(cell).connect() as conn:
            migration = migration_store.get(conn, migration_uuid)
            instance = instance_store.get(conn, instance_uuid)
        try:
            self._step(context, migration["source_compute"], "confirm_resize",
                       instance_uuid=instance_uuid, migration_uuid=migration_uuid)
            self._placement.delete_allocations(migration_uuid)
        except Exception as exc:
            LOG.exception("Confirming the resize of %s failed", instance_uuid)
            self._move_failed(cell, instance_uuid, migration_uuid, exc, instance["host"],
                              give_back=False)
            return
        stopped = instance["power_state"] == power_state.SHUTDOWN
        with writer(self._cells.engine(cell)).begin() as conn:
            instance_store.update(conn, instance_uuid, {
                "vm_state": "stopped" if stopped else "active", "task_state": None})
            migration_store.update(conn, migration_uuid, {"status": "confirmed"})
        self._save_spec_flavor(instance_uuid, instance["flavor"])

    def revert_resize(self, context: RequestContext, instance_uuid: str,
                      migration_uuid: str) -> None:
        """Cast by the API: the destination drops the server, the source takes it back
        with its old flavor and its old allocation."""
        cell = self._moving_cell(instance_uuid)
        with self._cells.engine(cell).connect() as conn:
            migration = migration_store.get(conn, migration_uuid)
        source = migration["source_compute"]
        try:
            self._step(context, migration["dest_compute"], "revert_resize",
                       instance_uuid=instance_uuid, migration_uuid=migration_uuid)
            if not self._placement.move_allocations(migration_uuid, instance_uuid):
                raise MoveFailed("Placement refused to hand the source host's allocation "
                                 "back to the server")
            self._step(context, source, "finish_revert_resize", instance_uuid=instance_uuid,
                       migration_uuid=migration_uuid, source_node=migration["source_node"])
        except Exception as exc:
            LOG.exception("Reverting the resize of %s failed", instance_uuid)
            self._move_failed(cell, instance_uuid, migration_uuid, exc, source,
                              give_back=False)
            return
        self._set_status(cell, migration_uuid, "reverted")

    # --- evacuation ---------------------------------------------------------------------

    def evacuate_server(self, context: RequestContext, instance_uuid: str,
                        migration_uuid: str, host: str | None, image_meta: dict,
                        force: bool = False) -> None:
        """Cast by the API once the source host is down: rebuild the server elsewhere
        (on ``host`` if given, past the filters when ``force``). Without a host it stays
        where it was, with a fault."""
        cell = self._moving_cell(instance_uuid)
        with self._cells.engine(cell).connect() as conn:
            instance = instance_store.get(conn, instance_uuid)
            migration = migration_store.get(conn, migration_uuid)
        try:
            selection = self._schedule_move(context, instance, migration, instance["flavor"],
                                            cell, ignore_hosts=[instance["host"]],
                                            force_host=host, skip_filters=force)
        except (NoValidHost, MoveFailed) as exc:
            self._move_refused(cell, instance_uuid, migration_uuid, exc, fault=True)
            return
        dest = selection["service_host"]
        with writer(self._cells.engine(cell)).begin() as conn:
            migration_store.update(conn, migration_uuid, {
                "dest_compute": dest, "dest_node": selection["nodename"], "dest_host": dest,
                "status": "pre-migrating"})
        threading.Thread(target=self._run_evacuation, name=f"evacuate-{instance_uuid[:8]}",
                         args=(context, cell, instance, migration_uuid, dest, image_meta),
                         daemon=True).start()

    def _run_evacuation(self, context: RequestContext, cell, instance: dict,
                        migration_uuid: str, dest: str, image_meta: dict) -> None:
        instance_uuid = instance["uuid"]
        try:
            self._step(context, dest, "rebuild_instance", instance_uuid=instance_uuid,
                       image_meta=image_meta, evacuated_from=instance["host"])
        except Exception as exc:
            LOG.exception("Evacuating %s to %s failed", instance_uuid, dest)
            self._move_failed(cell, instance_uuid, migration_uuid, exc, instance["host"])
            return
        self._set_status(cell, migration_uuid, "done")

    # --- shared steps -------------------------------------------------------------------

    def _moving_cell(self, instance_uuid: str):
        cell = self._cell_of(instance_uuid)
        if cell is None or cell.is_cell0:
            raise MoveFailed(f"Instance {instance_uuid} is not on a host")
        return cell

    def _schedule_move(self, context: RequestContext, instance: dict, migration: dict,
                       flavor: dict, cell, *, ignore_hosts: list[str],
                       force_host: str | None = None, skip_filters: bool = False) -> dict:
        """Hand the source allocation to the migration, then claim a destination in the
        server's cell for the instance; the selection of the destination."""
        try:
            moved = self._placement.move_allocations(instance["uuid"], migration["uuid"])
        except PlacementError as exc:
            raise MoveFailed(f"Placement could not be updated: {exc}") from None
        if not moved:
            raise MoveFailed("The server's allocation changed meanwhile; try again")
        spec = self._load_spec(instance)
        spec.update(flavor=flavor, ignore_hosts=ignore_hosts, cell_uuid=cell.uuid,
                    force_hosts=[force_host] if force_host else [],
                    skip_filters=bool(force_host and skip_filters),
                    num_instances=1, instance_uuid=instance["uuid"],
                    project_id=instance["project_id"], user_id=instance["user_id"])
        try:
            (picks,) = self._scheduler.select_destinations(context, spec, [instance["uuid"]],
                                                           return_alternates=False)
        except NoValidHost:
            self._give_back(instance["uuid"], migration["uuid"])
            raise
        except Exception as exc:
            self._give_back(instance["uuid"], migration["uuid"])
            raise MoveFailed(f"Scheduling failed: {exc}") from None
        return picks[0]

    def _give_back(self, instance_uuid: str, migration_uuid: str) -> None:
        try:
            self._placement.move_allocations(migration_uuid, instance_uuid)
        except PlacementError:
            LOG.exception("Could not give %s its allocation back from migration %s",
                          instance_uuid, migration_uuid)

    def _step(self, context: RequestContext, host: str, method: str, **kwargs):
        return self._compute.client(host, STEP_TIMEOUT_S).call(context, method, **kwargs)

    def _set_status(self, cell, migration_uuid: str, status: str, *,
                    from_status: tuple[str, ...] | None = None) -> None:
        with writer(self._cells.engine(cell)).begin() as conn:
            migration_store.update(conn, migration_uuid, {"status": status},
                                   from_status=from_status)

    def _move_refused(self, cell, instance_uuid: str, migration_uuid: str, error: Exception,
                      *, fault: bool = False) -> None:
        """The move did not start: the server keeps its states (its task is cleared)."""
        with writer(self._cells.engine(cell)).begin() as conn:
            migration_store.update(conn, migration_uuid, {"status": "error"})
            try:
                instance_store.update(conn, instance_uuid, {"task_state": None})
            except NoSuchRow:
                return
            if fault:
                instance_store.add_fault(conn, instance_uuid, code=400,
                                         message=str(error)[:255] or type(error).__name__)

    def _move_failed(self, cell, instance_uuid: str, migration_uuid: str, error: Exception,
                     host: str | None, *, give_back: bool = True) -> None:
        """A host step failed: ERROR with the fault, as Nova leaves a broken move."""
        if give_back:
            # The destination's claim goes; the source's comes back to the server.
            try:
                self._placement.delete_allocations(instance_uuid)
            except PlacementError:
                LOG.exception("Could not remove the destination claim of %s", instance_uuid)
            self._give_back(instance_uuid, migration_uuid)
        with writer(self._cells.engine(cell)).begin() as conn:
            migration_store.update(conn, migration_uuid, {"status": "error"})
            try:
                changes = {"vm_state": "error", "task_state": None}
                if give_back and host:
                    changes["host"] = host
                instance_store.update(conn, instance_uuid, changes)
                instance_store.add_fault(conn, instance_uuid, code=500,
                                         message=str(error)[:255] or type(error).__name__)
            except NoSuchRow:
                pass

    def _load_spec(self, instance: dict) -> dict:
        with self._cells.api_engine.connect() as conn:
            raw = conn.execute(sa.select(request_specs.c.spec).where(
                request_specs.c.instance_uuid == instance["uuid"])).scalar()
        spec = orjson.loads(raw) if raw else {}
        spec.setdefault("availability_zone", instance.get("availability_zone"))
        return spec

    def _save_spec_flavor(self, instance_uuid: str, flavor: dict) -> None:
        """The request spec keeps the flavor a confirmed resize left, for later moves."""
        with writer(self._cells.api_engine).begin() as conn:
            raw = conn.execute(sa.select(request_specs.c.spec).where(
                request_specs.c.instance_uuid == instance_uuid)).scalar()
            if raw is None:
                return
            spec = orjson.loads(raw)
            spec["flavor"] = flavor
            conn.execute(sa.update(request_specs)
                         .where(request_specs.c.instance_uuid == instance_uuid)
                         .values(spec=orjson.dumps(spec).decode()))
