"""Instance actions and their events, in the instance's cell database."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import instance_actions, instance_actions_events
from stratus.common.context import RequestContext
from stratus.compute_api.store import NoSuchRow


def record(conn: sa.Connection, instance_uuid: str, action: str,
           context: RequestContext) -> None:
    """Start an action (Nova's InstanceAction.action_start) for this request."""
    conn.execute(sa.insert(instance_actions).values(
        action=action, instance_uuid=instance_uuid, request_id=context.request_id,
        user_id=context.user_id, project_id=context.project_id, start_time=utcnow(),
        created_at=utcnow()))


def list_actions(conn: sa.Connection, instance_uuid: str) -> list[dict]:
    rows = conn.execute(sa.select(instance_actions)
                        .where(instance_actions.c.instance_uuid == instance_uuid)
                        .order_by(instance_actions.c.created_at.desc(),
                                  instance_actions.c.id.desc())).mappings()
    return [dict(row) for row in rows]


def get(conn: sa.Connection, instance_uuid: str, request_id: str) -> tuple[dict, list[dict]]:
    """The action of ``request_id`` on the instance and its events."""
    row = conn.execute(sa.select(instance_actions)
                       .where(instance_actions.c.instance_uuid == instance_uuid,
                              instance_actions.c.request_id == request_id)).mappings().first()
    if row is None:
        raise NoSuchRow(request_id)
    events = conn.execute(sa.select(instance_actions_events)
                          .where(instance_actions_events.c.action_id == row["id"])
                          .order_by(instance_actions_events.c.id)).mappings()
    return dict(row), [dict(event) for event in events]
