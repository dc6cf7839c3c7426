"""A project's (or project user's) quota usage, counted from the rows that are the resources."""

from __future__ import annotations

from stratus.common.wsgi.errors import Forbidden
from stratus.compute_api.service import ComputeService
from stratus.compute_api.store import build_requests as build_store
from stratus.compute_api.store import instances as instance_store
from stratus.compute_api.store import quotas


def check_count(used: int, wanted: int, limit: int, message: str) -> None:
    """Raise Forbidden(message) when ``wanted`` more on top of ``used`` exceeds ``limit``."""
    if 0 <= limit < used + wanted:
        raise Forbidden(message)


def usage(compute: ComputeService, project_id: str, user_id: str | None = None
          ) -> dict[str, int]:
    """In-use counts of every counted resource; uncounted ones are 0."""
    used = {resource: 0 for resource in quotas.RESOURCES}
    used.update(instance_store.usage(compute.cells, project_id, user_id))
    with compute.api_engine.connect() as conn:
        for resource, count in build_store.usage(conn, project_id, user_id).items():
            used[resource] += count
        used.update(quotas.api_usage(conn, project_id, user_id))
    return used
