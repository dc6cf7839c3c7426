"""How Nova derives a server's API status from its vm_state and task_state, and back."""

from __future__ import annotations

# vm_state -> status (task states that change the status are below).
_BY_VM_STATE = {
    "active": "ACTIVE", "building": "BUILD", "stopped": "SHUTOFF", "resized": "VERIFY_RESIZE",
    "paused": "PAUSED", "suspended": "SUSPENDED", "rescued": "RESCUE", "error": "ERROR",
    "deleted": "DELETED", "soft-delete": "SOFT_DELETED", "shelved": "SHELVED",
    "shelved_offloaded": "SHELVED_OFFLOADED",
}
# (vm_state, task_state) pairs whose status is the task's.
_BY_TASK = {
    ("active", "rebooting"): "REBOOT", ("active", "reboot_pending"): "REBOOT",
    ("active", "reboot_started"): "REBOOT", ("active", "rebooting_hard"): "HARD_REBOOT",
    ("active", "reboot_pending_hard"): "HARD_REBOOT",
    ("active", "reboot_started_hard"): "HARD_REBOOT",
    ("active", "rebuilding"): "REBUILD", ("active", "rebuild_block_device_mapping"): "REBUILD",
    ("active", "rebuild_spawning"): "REBUILD", ("active", "migrating"): "MIGRATING",
    ("active", "resize_prep"): "RESIZE", ("active", "resize_migrating"): "RESIZE",
    ("active", "resize_migrated"): "RESIZE", ("active", "resize_finish"): "RESIZE",
    ("active", "resize_reverting"): "REVERT_RESIZE",
    ("active", "updating_password"): "PASSWORD",
    ("stopped", "resize_prep"): "RESIZE", ("stopped", "resize_migrating"): "RESIZE",
    ("stopped", "resize_migrated"): "RESIZE", ("stopped", "resize_finish"): "RESIZE",
    ("stopped", "rebuilding"): "REBUILD",
}

VALID_STATUSES = frozenset(_BY_VM_STATE.values()) | frozenset(_BY_TASK.values())


def status(vm_state: str | None, task_state: str | None) -> str:
    return _BY_TASK.get((vm_state, task_state)) or _BY_VM_STATE.get(vm_state or "", "UNKNOWN")


def states_for(wanted: str) -> list[tuple[str, str | None]]:
    """(vm_state, task_state or None for "any") pairs whose status is ``wanted``."""
    wanted = wanted.upper()
    pairs = [pair for pair, name in _BY_TASK.items() if name == wanted]
    pairs += [(vm, None) for vm, name in _BY_VM_STATE.items() if name == wanted]
    return pairs


def task_states_of(vm_state: str) -> list[str]:
    """Task states that give ``vm_state`` a status of their own (excluded from it)."""
    return [task for (vm, task) in _BY_TASK if vm == vm_state]
