"""Server actions that change what a server runs on: resize (with confirm and revert),
cold migrate, rebuild and evacuate.

Each is refused in the words Nova uses when the server's state does not allow it, moves
the server into its task state in one conditional write and records the instance action.
Resize and migrate then wait for the conductor to schedule (no valid host: 400, the server
unchanged); confirm, revert and evacuate are handed to the conductor, rebuild to the
server's host.
"""

from __future__ import annotations

import secrets

from stratus.cells import mappings
from stratus.common.context import RequestContext
from stratus.compute_api import quota_usage, requested_image, server_create, server_lookup
from stratus.compute_api.server_actions import (
    ActionRefused,
    Transition,
    _refusal,
    check_not_locked,
    check_state,
    host_of,
    move_into_task,
)
from stratus.compute_api.server_lookup import Located, in_cell
from stratus.compute_api.service import ComputeService
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import flavors as flavor_store
from stratus.compute_api.store import hosts as host_store
from stratus.compute_api.store import instance_actions as action_store
from stratus.compute_api.store import instances as instance_store
from stratus.compute_api.store import migrations as migration_store
from stratus.compute_api.store import quotas as quota_store
from stratus.scheduler.errors import NoValidHost

MOVES = {
    "resize": Transition(("active", "stopped"), (None,), "resize_prep"),
    "migrate": Transition(("active", "stopped"), (None,), "resize_prep"),
    "confirmResize": Transition(("resized",), (None,), None),
    "revertResize": Transition(("resized",), (None,), "resize_reverting"),
    "rebuild": Transition(("active", "stopped", "error"), (None,), "rebuilding"),
    "evacuate": Transition(("active", "stopped", "error"), (None,), "rebuilding"),
}


class MoveRefused(Exception):
    """The request itself is wrong (the API answers 400 with this message)."""


class HostNotFound(Exception):
    """The host named in the request does not exist (404)."""


def _conductor(compute: ComputeService, server: dict, method: str):
    conductor = compute.compute_task_api
    if not hasattr(conductor, method):  # an API running without a conductor
        raise ActionRefused(f"Instance {server['uuid']} is not ready")
    return getattr(conductor, method)


def _embedded(compute: ComputeService, context: RequestContext, flavor_ref: str) -> dict:
    with compute.api_engine.connect() as conn:
        try:
            flavor = flavor_store.get(conn, str(flavor_ref),
                                      project_id=None if context.is_admin
                                      else context.project_id)
        except NoSuchRow:
            raise MoveRefused("Unable to locate requested flavor.") from None
        extra_specs = flavor_store.extra_specs(conn, flavor["id"])
    return server_create._embedded_flavor(flavor, extra_specs)


def _schedule(compute: ComputeService, context: RequestContext, located: Located,
              action: str, flavor: dict) -> None:
    server = located.server
    migrate = _conductor(compute, server, "migrate_server")
    move_into_task(compute, context, located, action, MOVES[action])
    resize = action == "resize"
    try:
        migrate(context, server["uuid"], flavor,
                migration_store.RESIZE if resize else migration_store.MIGRATION,
                same_host=resize and compute.allow_resize_to_same_host)
    except NoValidHost as exc:
        raise MoveRefused(f"No valid host was found. {exc.reason}") from None
    except Exception:
        # The conductor did not answer: the move may or may not have started, so the task
        # state is left for it (or an operator's os-resetState) to settle.
        raise


def resize(compute: ComputeService, context: RequestContext, located: Located,
           flavor_ref: str) -> None:
    """Resize to flavor ``flavor_ref``; the server ends RESIZED on its new host."""
    server = located.server
    check_not_locked(server, context)
    check_state(server, "resize", MOVES["resize"])
    host_of(located)
    flavor = _embedded(compute, context, flavor_ref)
    current = server["flavor"]
    if flavor["id"] == server.get("instance_type_id") or \
            flavor["flavorid"] == current.get("flavorid"):
        raise MoveRefused("When resizing, instances must change flavor!")
    if flavor["root_gb"] and flavor["root_gb"] < int(current.get("root_gb") or 0):
        raise MoveRefused("Resize error: Unable to resize disk down.")
    _check_quota_for_upsize(compute, server, flavor)
    _schedule(compute, context, located, "resize", flavor)


def _check_quota_for_upsize(compute: ComputeService, server: dict, flavor: dict) -> None:
    """A bigger flavor needs its extra cores and RAM within the server's project's (and
    user's) quota, as Nova checks it: Forbidden, in Nova's words, naming the increase."""
    current = server["flavor"]
    extra = {"cores": int(flavor["vcpus"]) - int(current.get("vcpus") or 0),
             "ram": int(flavor["memory_mb"]) - int(current.get("memory_mb") or 0)}
    extra = {resource: amount for resource, amount in extra.items() if amount > 0}
    if not extra:
        return
    with compute.api_engine.connect() as conn:
        limits = quota_store.user_limits(conn, server["project_id"], server["user_id"])
    used = quota_usage.usage(compute, server["project_id"])
    for resource, amount in extra.items():
        quota_usage.check_count(
            used[resource], amount, limits[resource],
            f"Quota exceeded for {resource}: Requested {amount}, but already used "
            f"{used[resource]} of {limits[resource]} {resource}")


def migrate(compute: ComputeService, context: RequestContext, located: Located) -> None:
    """Cold migration: the same flavor on another host, confirmed like a resize."""
    server = located.server
    check_not_locked(server, context)
    check_state(server, "migrate", MOVES["migrate"])
    host_of(located)
    _schedule(compute, context, located, "migrate", server["flavor"])


def _finished_migration(compute: ComputeService, context: RequestContext, located: Located,
                        action: str, status: str) -> str:
    """Move the resize's migration from ``finished`` to ``status`` (and the server into the
    action's task state) in one transaction; the migration's uuid."""
    server = located.server
    check_not_locked(server, context)
    transition = MOVES[action]
    check_state(server, action, transition)
    if located.cell is None:
        raise ActionRefused(f"Instance {server['uuid']} is not ready")

    # The server is RESIZED once the destination finished; the conductor marks the
    # migration finished just after, so a confirm or revert may find it post-migrating.
    ready = ("finished", "post-migrating")

    def claim(conn) -> str | None:
        migration = migration_store.latest(conn, server["uuid"], ready)
        if migration is None:
            raise MoveRefused("Instance has not been resized.")
        if transition.task_state is not None and not instance_store.update_if(
                conn, server["uuid"], {"task_state": transition.task_state},
                vm_states=transition.vm_states, task_states=transition.task_states):
            return None
        if not migration_store.update(conn, migration["uuid"], {"status": status},
                                      from_status=ready):
            return None
        action_store.record(conn, server["uuid"], action, context)
        return migration["uuid"]

    migration_uuid = in_cell(compute.cells, located, claim)
    if migration_uuid is None:
        with compute.cells.engine(located.cell).connect() as conn:
            current = instance_store.get(conn, server["uuid"])
        raise _refusal(action, current, transition)
    return migration_uuid


def confirm_resize(compute: ComputeService, context: RequestContext,
                   located: Located) -> None:
    """The resized server stays where it is; its source host lets go of it."""
    confirm = _conductor(compute, located.server, "confirm_resize")
    migration_uuid = _finished_migration(compute, context, located, "confirmResize",
                                         "confirming")
    confirm(context, located.server["uuid"], migration_uuid)


def revert_resize(compute: ComputeService, context: RequestContext,
                  located: Located) -> None:
    """Back to the source host with the old flavor."""
    revert = _conductor(compute, located.server, "revert_resize")
    migration_uuid = _finished_migration(compute, context, located, "revertResize",
                                         "reverting")
    revert(context, located.server["uuid"], migration_uuid)


def rebuild(compute: ComputeService, rpc, context: RequestContext, located: Located,
            image_ref: str, changes: dict) -> tuple[str, dict]:
    """Rebuild from ``image_ref`` in place (name, metadata and access IPs may change with
    it); the admin password and the server as the rebuild left it in the API (read
    before the host is told, so the answer always shows it rebuilding)."""
    server = located.server
    check_not_locked(server, context)
    check_state(server, "rebuild", MOVES["rebuild"])
    host = host_of(located)
    image = requested_image.fetch(compute.image_api.client(context), image_ref)
    requested_image.check_for_flavor(image, server["flavor"])
    metadata = changes.pop("metadata", None)
    transition = MOVES["rebuild"]

    def move(conn) -> bool:
        moved = instance_store.update_if(
            conn, server["uuid"], {"task_state": transition.task_state, "image_ref": image_ref,
                                   **changes},
            vm_states=transition.vm_states, task_states=transition.task_states)
        if moved:
            if metadata is not None:
                instance_store.set_metadata(conn, server["uuid"], metadata, replace=True)
            action_store.record(conn, server["uuid"], "rebuild", context)
        return moved

    if not in_cell(compute.cells, located, move):
        with compute.cells.engine(located.cell).connect() as conn:
            raise _refusal("rebuild", instance_store.get(conn, server["uuid"]), transition)
    rebuilding = server_lookup.locate(compute.cells, server["uuid"]).server
    rpc.client(host).cast(context, "rebuild_instance", instance_uuid=server["uuid"],
                          image_meta=requested_image.for_request_spec(image))
    return secrets.token_urlsafe(9), rebuilding


def evacuate(compute: ComputeService, context: RequestContext, located: Located,
             host: str | None, *, force: bool = False) -> str:
    """Rebuild the server on another host because its own is down; the admin password.
    ``force``: the scheduler's filters do not judge ``host`` (Placement still must have
    room on it)."""
    server = located.server
    check_state(server, "evacuate", MOVES["evacuate"])
    source = host_of(located)
    start = _conductor(compute, server, "evacuate_server")
    if host is not None:
        if host == source:
            raise MoveRefused("The target host can't be the same one.")
        with compute.api_engine.connect() as conn:
            try:
                mappings.get_host_mapping(conn, host)
            except mappings.MappingNotFound:
                raise HostNotFound(f"Compute host {host} could not be found.") from None
    if host_store.compute_service_is_up(compute.cells, located.cell, source,
                                        compute.service_down_time):
        raise MoveRefused(f"Compute service of {source} is still in use.")
    transition = MOVES["evacuate"]

    def move(conn) -> dict | None:
        if not instance_store.update_if(conn, server["uuid"],
                                        {"task_state": transition.task_state},
                                        vm_states=transition.vm_states,
                                        task_states=transition.task_states):
            return None
        action_store.record(conn, server["uuid"], "evacuate", context)
        return migration_store.create(conn, server, migration_store.EVACUATION, "accepted",
                                      old_flavor_id=server.get("instance_type_id"),
                                      new_flavor_id=server.get("instance_type_id"),
                                      dest_compute=host)

    migration = in_cell(compute.cells, located, move)
    if migration is None:
        with compute.cells.engine(located.cell).connect() as conn:
            raise _refusal("evacuate", instance_store.get(conn, server["uuid"]), transition)
    start(context, server["uuid"], migration["uuid"], host, {"id": server.get("image_ref")},
          force=force)
    return secrets.token_urlsafe(9)
