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
    ``image_api`` reaches the image service as the caller (``compute_api.image_api``);
    ``compute_rpc`` (a ComputeRPC) reaches the compute agents and ``placement`` (a
    PlacementClient) removes allocations of servers deleted locally; ``network_api`` (a
    ``network.neutron.NeutronClients``) reaches Neutron as the caller or as the service
    account (None: no network service, servers boot without networking). Without them (an API
    with no conductor or agents) servers stay build requests and are deleted locally.
    """

    api_engine: sa.Engine
    cells: object
    policy: Policy
    compute_task_api: object
    image_api: object
    compute_rpc: object | None = None
    placement: object | None = None
    network_api: object | None = None
    max_limit: int = 1000
    # [DEFAULT] service_down_time: seconds without a heartbeat before a service is down.
    service_down_time: float = 60
    # [DEFAULT] allow_resize_to_same_host: a resize may stay on the server's host.
    allow_resize_to_same_host: bool = False
