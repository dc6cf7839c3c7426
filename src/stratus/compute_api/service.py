"""What every compute handler reaches through ``req.service``: databases, policy, settings."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from stratus.common.policy import Policy


@dataclass
class ComputeService:
    """The compute API's dependencies, built once per process.

    ``cells`` is the cells layer's CellDatabases (engines per cell, scatter-gather);
    ``compute_task_api`` is where a created server is handed on to be scheduled and built;
    ``image_api`` reaches the image service as the caller (``compute_api.image_api``).
    """

    api_engine: sa.Engine
    cells: object
    policy: Policy
    compute_task_api: object
    image_api: object
    max_limit: int = 1000
    # [DEFAULT] service_down_time: seconds without a heartbeat before a service is down.
    service_down_time: float = 60
