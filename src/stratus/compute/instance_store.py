"""Instance state writes of the compute agent, in its cell database.

The manager is given one store and never touches SQL itself: this direct InstanceStore in
the all-in-one (and with ``[compute] database_access = direct``), or the cell conductor's
``RemoteInstanceStore`` over RPC (``stratus.conductor.cell_conductor``) when the compute
host holds no database credentials. Both share :class:`ErrorTexts`, so an error becomes a
fault or an event traceback on the compute host, where its traceback is.
"""

from __future__ import annotations

import logging
import traceback as tb

import orjson
import sqlalchemy as sa

from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import instance_actions, instance_actions_events, instance_faults
from stratus.cells.schema_cell import instances as instances_table
from stratus.common.context import RequestContext
from stratus.common.db import writer
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import instance_actions as action_store
from stratus.compute_api.store import instances as instance_rows
from stratus.compute_api.store import migrations as migration_store

LOG = logging.getLogger(__name__)

BUILD_EVENT = "compute_build_and_run_instance"

# "Leave task_state alone" marker for update()'s expected_task_state.
ANY = object()
# Events are named after the manager method, as Nova names them (compute_<method>); an
# event whose request has no action yet starts one named by this table.
ACTION_OF_EVENT = {
    "compute_build_and_run_instance": "create", "compute_terminate_instance": "delete",
    "compute_reboot_instance": "reboot", "compute_stop_instance": "stop",
    "compute_start_instance": "start", "compute_pause_instance": "pause",
    "compute_unpause_instance": "unpause", "compute_suspend_instance": "suspend",
    "compute_resume_instance": "resume", "compute_snapshot_instance": "createImage",
    "compute_attach_interface": "attach_interface",
    "compute_detach_interface": "detach_interface",
}


class InstanceGone(LookupError):
    """The instance was deleted (or never reached this cell)."""


class UnexpectedTaskState(Exception):
    """Another operation changed the instance's task_state first."""


def error_texts(error: BaseException) -> tuple[str, str]:
    """A fault's message (at most 255 characters, the class name if empty) and details."""
    return str(error)[:255] or type(error).__name__, "".join(tb.format_exception(error))


class ErrorTexts:
    """``add_fault`` and ``event_finish`` take the exception; the stores record its text."""

    def add_fault(self, instance_uuid: str, error: BaseException, host: str,
                  code: int = 500) -> None:
        """Record why an operation failed (shown as the server's ``fault``)."""
        message, details = error_texts(error)
        self.record_fault(instance_uuid, message, details, host, code)

    def event_finish(self, event_id: int, error: BaseException | None = None) -> None:
        """Finish the event (and its action) as Success, or Error with the traceback."""
        self.finish_event(event_id, error_texts(error)[1] if error else None)


class InstanceStore(ErrorTexts):
    """Reads and writes of instances, faults, action events and the migrations a host
    settles, in one cell database."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        # Transactions that read before they write (event_start) queue behind other
        # writers on SQLite instead of failing with "database is locked" under load.
        self._writer = writer(engine)

    def get(self, instance_uuid: str) -> dict:
        """The live instance with its flavor parsed; InstanceGone if deleted."""
        with self.engine.connect() as conn:
            try:
                return instance_rows.get(conn, instance_uuid)
            except NoSuchRow:
                raise InstanceGone(instance_uuid) from None

    def update(self, instance_uuid: str, changes: dict, *,
               expected_task_state: object = ANY) -> None:
        """Apply ``changes``; with ``expected_task_state`` (a value or a tuple of values)
        only if the task state still is one of them, else UnexpectedTaskState."""
        query = sa.update(instances_table).where(instances_table.c.uuid == instance_uuid,
                                                 instances_table.c.deleted == 0)
        if expected_task_state is not ANY:
            expected = expected_task_state if isinstance(expected_task_state, tuple) \
                else (expected_task_state,)
            allowed = [instances_table.c.task_state.in_([s for s in expected if s is not None])]
            if None in expected:
                allowed.append(instances_table.c.task_state.is_(None))
            query = query.where(sa.or_(*allowed))
        with self.engine.begin() as conn:
            if conn.execute(query.values(**changes, updated_at=utcnow())).rowcount:
                return
            exists = conn.execute(sa.select(instances_table.c.task_state)
                                  .where(instances_table.c.uuid == instance_uuid,
                                         instances_table.c.deleted == 0)).first()
        if exists is None:
            raise InstanceGone(instance_uuid)
        raise UnexpectedTaskState(f"Instance {instance_uuid} is in task_state "
                                  f"{exists[0]}, expected {expected_task_state}")

    def destroy(self, instance_uuid: str) -> None:
        """Mark the instance deleted; nothing happens if it already is."""
        with self.engine.begin() as conn:
            try:
                instance_rows.soft_delete(conn, instance_uuid)
            except NoSuchRow:
                pass

    def network_info(self, instance_uuid: str) -> list[dict]:
        """The instance's info cache: its ports as last written ([] if none)."""
        with self.engine.connect() as conn:
            return instance_rows.network_infos(conn, [instance_uuid]).get(instance_uuid, [])

    def set_network_info(self, instance_uuid: str, network_info: list[dict]) -> None:
        """Replace the instance's info cache (deleted instances keep theirs too)."""
        with self.engine.begin() as conn:
            instance_rows.set_network_info(conn, instance_uuid, network_info)

    def record_fault(self, instance_uuid: str, message: str, details: str, host: str,
                     code: int = 500) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(instance_faults).values(
                instance_uuid=instance_uuid, code=code, message=message, details=details,
                host=host, created_at=utcnow()))

    def event_start(self, context: RequestContext, instance_uuid: str, event: str,
                    host: str) -> int:
        """Start ``event`` on the request's instance action (started here if the caller
        did not); returns the event's id for :meth:`event_finish`."""
        now = utcnow()
        with self._writer.begin() as conn:
            action_id = conn.execute(
                sa.select(instance_actions.c.id)
                .where(instance_actions.c.instance_uuid == instance_uuid,
                       instance_actions.c.request_id == context.request_id)
                .order_by(instance_actions.c.id.desc())).scalar()
            if action_id is None:
                action_store.record(conn, instance_uuid,
                                    ACTION_OF_EVENT.get(event, event), context)
                action_id = conn.execute(
                    sa.select(sa.func.max(instance_actions.c.id))
                    .where(instance_actions.c.instance_uuid == instance_uuid,
                           instance_actions.c.request_id == context.request_id)).scalar_one()
            return conn.execute(sa.insert(instance_actions_events).values(
                action_id=action_id, event=event, start_time=now, host=host,
                created_at=now)).inserted_primary_key[0]

    def finish_event(self, event_id: int, traceback: str | None) -> None:
        """Finish the event (and its action): Success, or Error with ``traceback``."""
        now = utcnow()
        events = instance_actions_events
        with self.engine.begin() as conn:
            conn.execute(sa.update(events).where(events.c.id == event_id).values(
                finish_time=now, updated_at=now,
                result="Error" if traceback is not None else "Success",
                traceback=traceback))
            action_id = sa.select(events.c.action_id).where(events.c.id == event_id)
            values = {"finish_time": now, "updated_at": now}
            if traceback is not None:
                values["message"] = "Error"
            conn.execute(sa.update(instance_actions)
                         .where(instance_actions.c.id == action_id.scalar_subquery())
                         .values(**values))

    def start_build(self, context: RequestContext, instance_uuid: str, host: str,
                    node: str) -> dict:
        """A build's first writes in one call (one RPC for a host without a database):
        the build event started and the instance taken for ``host`` (building, spawning)
        unless a delete got there first.

        Returns ``event`` (its id, None if it could not be recorded), ``instance`` (as
        updated; None when there is nothing to build) and ``skipped`` (why not).
        """
        try:
            event = self.event_start(context, instance_uuid, BUILD_EVENT, host)
        except Exception:  # the build goes on unrecorded rather than not at all
            LOG.exception("Could not record the build of %s", instance_uuid)
            event = None
        try:
            instance = self.get(instance_uuid)
            if instance["task_state"] == "deleting":
                raise InstanceGone(f"{instance_uuid} is being deleted")
            # Guarded by the task state just read: a delete that lands in between wins.
            taken = {"host": host, "node": node, "vm_state": "building",
                     "task_state": "spawning"}
            self.update(instance_uuid, taken, expected_task_state=instance["task_state"])
        except (InstanceGone, UnexpectedTaskState) as exc:
            return {"event": event, "instance": None, "skipped": str(exc)}
        instance.update(taken)
        return {"event": event, "instance": instance, "skipped": None}

    def finish_build(self, instance_uuid: str, event_id: int | None, changes: dict) -> bool:
        """A spawned build's last writes in one call: ``changes`` (ACTIVE) applied if the
        instance is still spawning, and the build event finished as Success. False when
        the instance was deleted meanwhile (the caller cleans up what it built)."""
        try:
            self.update(instance_uuid, changes, expected_task_state="spawning")
            landed = True
        except (InstanceGone, UnexpectedTaskState):
            landed = False
        if event_id is not None:
            self.finish_event(event_id, None)
        return landed

    def on_host(self, host: str) -> list[dict]:
        """Live instances whose host is ``host`` (uuid, states, flavor sizes)."""
        t = instances_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.uuid, t.c.vm_state, t.c.task_state,
                                          t.c.power_state, t.c.node)
                                .where(t.c.host == host, t.c.deleted == 0)).mappings()
            return [dict(row) for row in rows]

    def stored_flavors(self, instance_uuid: str) -> dict:
        """The instance's flavor JSON (``cur``, and ``old`` during a resize), deleted too."""
        with self.engine.connect() as conn:
            raw = conn.execute(sa.select(instances_table.c.flavor).where(
                instances_table.c.uuid == instance_uuid)).scalar()
        return orjson.loads(raw) if raw else {}

    def migration(self, migration_uuid: str) -> dict:
        with self.engine.connect() as conn:
            return migration_store.get(conn, migration_uuid)

    def evacuations(self, host: str) -> tuple[list[dict], list[str]]:
        """Evacuations off ``host`` that its source must clean up (status ``done``), and
        the servers whose evacuation off it has not finished yet."""
        with self.engine.connect() as conn:
            return (migration_store.evacuated_from(conn, host),
                    sorted(migration_store.evacuating_from(conn, host)))

    def complete_evacuation(self, migration_uuid: str) -> None:
        """The source cleaned up after an evacuation: ``done`` becomes ``completed``."""
        with self._writer.begin() as conn:
            migration_store.update(conn, migration_uuid, {"status": "completed"},
                                   from_status=("done",))
