"""DELETE /servers/{id} at every stage of a server's life, as Nova does it.

A build request is simply removed (the conductor then never builds it and releases any
claim it made). A server on a host whose compute service is up is put into task_state
``deleting`` and ``terminate_instance`` is cast to that host, which destroys it, marks it
deleted and removes its allocation. A server without a host, or whose host's service is
down, is deleted here ("local delete"): its allocations are removed from Placement and
its ports released in Neutron.
"""

from __future__ import annotations

import logging

from stratus.cells import mappings
from stratus.common.context import RequestContext
from stratus.compute_api import server_lookup
from stratus.compute_api.server_actions import check_not_locked
from stratus.compute_api.server_lookup import Located
from stratus.compute_api.service import ComputeService
from stratus.compute_api.store import hosts
from stratus.compute_api.store import instance_actions as action_store
from stratus.compute_api.store import instances as instance_store
from stratus.compute_api.store import server_groups as group_store
from stratus.network.allocation import NetworkAllocator

LOG = logging.getLogger(__name__)


def delete(compute: ComputeService, located: Located, context: RequestContext) -> None:
    """Delete the server; ServerNotFound if it is already gone, ActionRefused if locked."""
    check_not_locked(located.server, context)
    if located.cell is None:
        located = server_lookup.delete_build_request(compute.cells, located)
        if located is None:
            return
    host = located.server.get("host")
    if host and compute.compute_rpc is not None and \
            hosts.compute_service_is_up(compute.cells, located.cell, host,
                                        compute.service_down_time):
        _terminate_on_host(compute, located, context, host)
        return
    server_lookup.delete(compute.cells, located, context)
    if compute.placement is not None:
        compute.placement.delete_allocations(located.server["uuid"])
    _release_ports(compute, located, context)


def _release_ports(compute: ComputeService, located: Located, context: RequestContext) -> None:
    """A local delete of a server whose host is down releases its ports here, as Nova's
    does: the ones Stratus made are deleted, the user's unbound."""
    network_info = located.server.get("network_info") or []
    if not network_info or compute.network_api is None:
        return
    try:
        NetworkAllocator(compute.network_api).deallocate(context, located.server["uuid"],
                                                         network_info)
    except Exception:  # the server is gone either way; the ports are the operator's now
        LOG.exception("Could not release the ports of %s", located.server["uuid"])


def _terminate_on_host(compute: ComputeService, located: Located, context: RequestContext,
                       host: str) -> None:
    uuid = located.server["uuid"]

    def mark(conn) -> None:
        instance_store.update(conn, uuid, {"task_state": "deleting"})
        action_store.record(conn, uuid, "delete", context)

    try:
        server_lookup.in_cell(compute.cells, located, mark)
    except LookupError:
        raise server_lookup.ServerNotFound(uuid) from None
    with compute.cells.api_engine.begin() as conn:
        mappings.set_queued_for_delete(conn, uuid)
        group_store.remove_member(conn, uuid)
    compute.compute_rpc.terminate_instance(context, host, uuid)
