"""Server actions in Nova's state machine: which states allow them, and what they start.

The API moves the instance into the action's task state with one conditional UPDATE
(so two racing actions cannot both start), records the instance action and casts the
work to the agent of the server's host, which finishes the state change.
"""

from __future__ import annotations

from dataclasses import dataclass

from stratus.common.context import RequestContext
from stratus.compute_api import server_lookup
from stratus.compute_api.compute_rpc import ComputeRPC
from stratus.compute_api.server_lookup import Located, in_cell
from stratus.compute_api.service import ComputeService
from stratus.compute_api.store import instance_actions as action_store
from stratus.compute_api.store import instances as instance_store

REBOOT_TASKS = ("rebooting", "reboot_pending", "reboot_started")
HARD_REBOOT_TASKS = ("rebooting_hard", "reboot_pending_hard", "reboot_started_hard")


@dataclass(frozen=True)
class Transition:
    """An action's allowed vm_states and task_states, and the task state it sets."""

    vm_states: tuple[str, ...]
    task_states: tuple[str | None, ...]
    task_state: str


TRANSITIONS = {
    "soft_reboot": Transition(("active",), (None,), "rebooting"),
    "hard_reboot": Transition(("active", "stopped", "paused", "suspended", "error"),
                              (None, *REBOOT_TASKS), "rebooting_hard"),
    "stop": Transition(("active", "error"), (None,), "powering-off"),
    "start": Transition(("stopped",), (None,), "powering-on"),
    "pause": Transition(("active",), (None,), "pausing"),
    "unpause": Transition(("paused",), (None,), "unpausing"),
    "suspend": Transition(("active",), (None,), "suspending"),
    "resume": Transition(("suspended",), (None,), "resuming"),
    "createImage": Transition(("active", "stopped", "paused", "suspended"), (None,),
                              "image_snapshot_pending"),
}


class ActionRefused(Exception):
    """The server cannot take this action now (the API answers 409 with this message)."""


def check_not_locked(server: dict, context: RequestContext) -> None:
    """Nova's lock: only an admin may act on a locked server."""
    if server.get("locked") and not context.is_admin:
        raise ActionRefused(f"Instance {server['uuid']} is locked")


def _locker(server: dict, context: RequestContext) -> str:
    """Who a lock by ``context`` is recorded as: Nova goes by project, not by role."""
    return "owner" if server["project_id"] == context.project_id else "admin"


def lock(compute: ComputeService, context: RequestContext, located: Located) -> None:
    """Lock the server; locking it again from its own project keeps the first lock."""
    server = located.server
    if server.get("locked") and _locker(server, context) == "owner":
        return
    server_lookup.update(compute.cells, located,
                         {"locked": True, "locked_by": _locker(server, context)})


def locked_by_the_other_side(server: dict, context: RequestContext) -> bool:
    """Nova's ``not is_expected_locked_by``: the owning project locked the server and the
    caller is from elsewhere, or the other way round; lifting that lock needs the
    unlock_override rule, whatever the caller's role."""
    return bool(server.get("locked_by")) and server["locked_by"] != _locker(server, context)


def unlock(compute: ComputeService, located: Located) -> None:
    """Lift the lock (the caller has passed the override check if it needed one)."""
    server_lookup.update(compute.cells, located, {"locked": False, "locked_by": None})


def host_of(located: Located) -> str:
    """The server's host; ActionRefused while it has none (or is not in a cell yet)."""
    server = located.server
    if located.cell is None or not server.get("host"):
        raise ActionRefused(f"Instance {server['uuid']} is not ready")
    return server["host"]


def _refusal(action: str, server: dict, transition: Transition) -> ActionRefused:
    if server["vm_state"] in transition.vm_states:
        attr, state = "task_state", server.get("task_state")
    else:
        attr, state = "vm_state", server["vm_state"]
    return ActionRefused(f"Cannot '{action}' instance {server['uuid']} while it is in "
                         f"{attr} {state}")


def check_state(server: dict, action: str, transition: Transition) -> None:
    """ActionRefused, in Nova's words, unless the server's states allow ``transition``."""
    if server["vm_state"] not in transition.vm_states or \
            server.get("task_state") not in transition.task_states:
        raise _refusal(action, server, transition)


def move_into_task(compute: ComputeService, context: RequestContext, located: Located,
                   action: str, transition: Transition) -> None:
    """Set the transition's task state and record ``action``, in one conditional write of
    the server's cell; ActionRefused when another action got there first."""
    server = located.server

    def move(conn) -> bool:
        moved = instance_store.update_if(
            conn, server["uuid"], {"task_state": transition.task_state},
            vm_states=transition.vm_states, task_states=transition.task_states)
        if moved:
            action_store.record(conn, server["uuid"], action, context)
        return moved

    if not in_cell(compute.cells, located, move):
        with compute.cells.engine(located.cell).connect() as conn:
            current = instance_store.get(conn, server["uuid"])
        raise _refusal(action, current, transition)


def start_action(compute: ComputeService, rpc: ComputeRPC, context: RequestContext,
                 located: Located, action: str, **kwargs) -> None:
    """Check, move into the task state, record and cast ``action`` (reboot needs
    ``reboot_type``); ActionRefused when the server's state does not allow it."""
    server = located.server
    check_not_locked(server, context)
    key = action
    if action == "reboot":
        key = "hard_reboot" if kwargs["reboot_type"] == "HARD" else "soft_reboot"
    transition = TRANSITIONS[key]
    check_state(server, action, transition)
    host = host_of(located)
    move_into_task(compute, context, located, action, transition)
    rpc.cast_action(context, host, action, server["uuid"], **kwargs)


def console_output(rpc: ComputeRPC, context: RequestContext, located: Located,
                   length: int | None) -> str:
    """The last ``length`` lines (all when None) of the server's console log."""
    host = host_of(located)
    return rpc.get_console_output(context, host, located.server["uuid"], length)


def reset_state(compute: ComputeService, context: RequestContext, located: Located,
                state: str) -> None:
    """os-resetState: an admin forces vm_state, clearing any task."""
    if located.cell is None:
        raise ActionRefused(f"Instance {located.server['uuid']} is not ready")

    def reset(conn) -> None:
        instance_store.update(conn, located.server["uuid"],
                              {"vm_state": state, "task_state": None})
        action_store.record(conn, located.server["uuid"], "resetState", context)

    in_cell(compute.cells, located, reset)
