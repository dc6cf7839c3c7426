"""Where the compute API hands a new server on to be scheduled and built.

``ComputeTaskAPI`` is the interface the super-conductor will implement (Nova's
``ComputeTaskAPI.schedule_and_build_instances``): given the build requests, request specs
and their instance mappings written by ``POST /servers``, it picks hosts, creates each
instance in its cell, points the instance mapping at the cell and deletes the build request.
``ConductorRPC`` casts the hand-off to the super conductor (topic ``conductor``).
``NotYetScheduled`` is for an API running without a conductor: the servers stay in BUILD
as build requests, which is what the API shows honestly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from stratus.common.context import RequestContext
from stratus.common.rpc import RPC

CONDUCTOR_TOPIC = "conductor"


@dataclass(frozen=True)
class BuildHandoff:
    """One server to build: its uuid (build request, request spec and mapping share it)."""

    instance_uuid: str
    reservation_id: str


class ComputeTaskAPI(Protocol):
    """The conductor's side of server creation."""

    def schedule_and_build_instances(self, context: RequestContext,
                                     builds: list[BuildHandoff]) -> None:
        """Schedule and build these servers; must not block the API request."""


class NotYetScheduled:
    """The hand-off before a conductor exists: the servers remain build requests (BUILD)."""

    def schedule_and_build_instances(self, context: RequestContext,
                                     builds: list[BuildHandoff]) -> None:
        return None


class ConductorRPC:
    """The hand-off as a cast to the super conductor: the API request does not wait."""

    def __init__(self, rpc: RPC):
        self._rpc = rpc
        self._client = rpc.client(CONDUCTOR_TOPIC)

    def schedule_and_build_instances(self, context: RequestContext,
                                     builds: list[BuildHandoff]) -> None:
        self._client.cast(context, "schedule_and_build_instances", builds=[
            {"instance_uuid": b.instance_uuid, "reservation_id": b.reservation_id}
            for b in builds])

    # --- moves (conductor.moves) -------------------------------------------------------

    def migrate_server(self, context: RequestContext, instance_uuid: str, flavor: dict,
                       migration_type: str, timeout: float | None = None,
                       same_host: bool = False) -> dict:
        """Resize or cold-migrate: waits for the scheduler (NoValidHost comes back).
        ``same_host``: the server's own host may be chosen."""
        client = self._client if timeout is None else self._rpc.client(
            CONDUCTOR_TOPIC, timeout=timeout)
        return client.call(context, "migrate_server", instance_uuid=instance_uuid,
                           flavor=flavor, migration_type=migration_type,
                           same_host=same_host)

    def confirm_resize(self, context: RequestContext, instance_uuid: str,
                       migration_uuid: str) -> None:
        self._client.cast(context, "confirm_resize", instance_uuid=instance_uuid,
                          migration_uuid=migration_uuid)

    def revert_resize(self, context: RequestContext, instance_uuid: str,
                      migration_uuid: str) -> None:
        self._client.cast(context, "revert_resize", instance_uuid=instance_uuid,
                          migration_uuid=migration_uuid)

    def evacuate_server(self, context: RequestContext, instance_uuid: str,
                        migration_uuid: str, host: str | None, image_meta: dict,
                        force: bool = False) -> None:
        self._client.cast(context, "evacuate_server", instance_uuid=instance_uuid,
                          migration_uuid=migration_uuid, host=host, image_meta=image_meta,
                          force=force)
