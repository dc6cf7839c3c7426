"""The super conductor's RPC endpoint (topic ``conductor``): schedule, land, cast to hosts.

``schedule_and_build_instances`` is cast by the compute API once ``POST /servers`` has
written its build requests. For each request it asks the scheduler for hosts (which
claims them in Placement), creates each instance in its host's cell, hands the server over
(build request dropped, mapping set) and casts ``build_and_run_instance`` to the host.
Without a host every server of the request goes to cell0 in ERROR. ``reschedule_instance``
is called by an agent whose build failed: the next alternate host is claimed and tried.
"""

from __future__ import annotations

import logging
from typing import Any

from stratus.cells import mappings
from stratus.cells.mappings import CellDatabases, CellMapping
from stratus.common.context import RequestContext
from stratus.compute_api import conductor_api
from stratus.compute_api.compute_rpc import ComputeRPC
from stratus.compute_api.store import build_requests as build_store
from stratus.compute_api.store import instances as instance_store
from stratus.conductor import cell_landing
from stratus.conductor.moves import MoveTasks
from stratus.scheduler.errors import NoValidHost
from stratus.scheduler.report import PlacementClient
from stratus.scheduler.rpcapi import SchedulerClient

LOG = logging.getLogger(__name__)

TOPIC = conductor_api.CONDUCTOR_TOPIC


class ConductorManager(MoveTasks):
    """The conductor's endpoint: reads and writes the API and cell databases, calls the
    scheduler, casts to compute agents and releases claims in Placement."""

    def __init__(self, cells: CellDatabases, scheduler: SchedulerClient, compute: ComputeRPC,
                 placement: PlacementClient):
        self._cells = cells
        self._scheduler = scheduler
        self._compute = compute
        self._placement = placement

    # --- RPC methods -----------------------------------------------------------------

    def schedule_and_build_instances(self, context: RequestContext,
                                     builds: list[dict]) -> None:
        """Build the servers of one create request (``builds``: ``{"instance_uuid", ...}``)."""
        with self._cells.api_engine.connect() as conn:
            waiting = build_store.get_many(conn, [b["instance_uuid"] for b in builds])
        # Servers deleted before we got here have no build request left: never built.
        uuids = [b["instance_uuid"] for b in builds if b["instance_uuid"] in waiting]
        if not uuids:
            return
        spec = waiting[uuids[0]][1]
        try:
            selections = self._scheduler.select_destinations(context, spec, uuids,
                                                             return_alternates=True)
        except NoValidHost as exc:
            LOG.info("No valid host for %s: %s", uuids, exc)
            self._bury(context, [waiting[uuid][0] for uuid in uuids],
                       cell_landing.no_valid_host_message(_reason(exc)))
            return
        except Exception as exc:  # as Nova: any scheduling failure ends in cell0, in ERROR
            LOG.exception("Scheduling %s failed", uuids)
            self._bury(context, [waiting[uuid][0] for uuid in uuids],
                       f"{type(exc).__name__}: {exc}")
            return
        for uuid, (selection, *alternates) in zip(uuids, selections, strict=True):
            instance, instance_spec = waiting[uuid]
            try:
                self._build_on(context, instance, instance_spec, selection, alternates)
            except Exception as exc:  # one server's failure must not strand the others
                LOG.exception("Handing %s to %s failed", uuid, selection["service_host"])
                self._placement.delete_allocations(uuid)
                self._bury(context, [instance], f"{type(exc).__name__}: {exc}")

    def reschedule_instance(self, context: RequestContext, instance_uuid: str,
                            request_spec: dict, alternates: list[dict], fault: Any) -> None:
        """The build failed on its host (whose claim is gone): try the next alternate."""
        cell = self._cell_of(instance_uuid)
        if cell is None:
            return  # deleted meanwhile
        with self._cells.engine(cell).connect() as conn:
            try:
                instance = instance_store.get(conn, instance_uuid)
            except LookupError:
                return
        for index, alternate in enumerate(alternates):
            if self._claim(instance, alternate):
                self._send_to_host(context, cell, instance_uuid, request_spec, alternate,
                                   alternates[index + 1:])
                return
        message, details, host = _fault_text(fault)
        LOG.warning("Build of %s failed with no host left: %s", instance_uuid, message)
        cell_landing.fail_build(self._cells, cell, instance_uuid, message=message,
                                details=details, host=host)

    # --- steps -----------------------------------------------------------------------

    def _bury(self, context: RequestContext, instances: list[dict], message: str) -> None:
        for instance in instances:
            cell_landing.bury_in_cell0(self._cells, instance, message, context)

    def _build_on(self, context: RequestContext, instance: dict, spec: dict, selection: dict,
                  alternates: list[dict]) -> None:
        cell = self._cell(selection["cell_uuid"])
        placed = {**instance, "host": selection["service_host"],
                  "node": selection["nodename"], "task_state": None}
        if not cell_landing.land(self._cells, cell, placed, context):
            LOG.info("Server %s was deleted while it was scheduled", instance["uuid"])
            self._placement.delete_allocations(instance["uuid"])
            return
        self._compute.build_and_run_instance(
            context, selection["service_host"], instance_uuid=instance["uuid"],
            request_spec=spec, selection=selection, alternates=alternates)

    def _send_to_host(self, context: RequestContext, cell: CellMapping, instance_uuid: str,
                      spec: dict, selection: dict, alternates: list[dict]) -> None:
        with self._cells.engine(cell).begin() as conn:
            instance_store.update(conn, instance_uuid, {
                "host": selection["service_host"], "node": selection["nodename"],
                "vm_state": "building", "task_state": None})
        self._compute.build_and_run_instance(
            context, selection["service_host"], instance_uuid=instance_uuid,
            request_spec=spec, selection=selection, alternates=alternates)

    def _claim(self, instance: dict, alternate: dict) -> bool:
        request = alternate.get("allocation_request") or {}
        return self._placement.claim(instance["uuid"], request.get("allocations", {}),
                                     instance["project_id"], instance["user_id"])

    def _cell(self, cell_uuid: str) -> CellMapping:
        for cell in self._cells.cells():
            if cell.uuid == cell_uuid:
                return cell
        return next(c for c in self._cells.cells(refresh=True) if c.uuid == cell_uuid)

    def _cell_of(self, instance_uuid: str) -> CellMapping | None:
        with self._cells.api_engine.connect() as conn:
            try:
                return mappings.get_instance_mapping(conn, instance_uuid).cell
            except mappings.MappingNotFound:
                return None


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or exc)


def _fault_text(fault: Any) -> tuple[str, str, str | None]:
    """(message, details, host) of the fault an agent sends: a dict or a plain message."""
    if isinstance(fault, dict):
        return (str(fault.get("message") or "Build failed"), str(fault.get("details") or ""),
                fault.get("host"))
    return str(fault or "Build failed"), "", None

