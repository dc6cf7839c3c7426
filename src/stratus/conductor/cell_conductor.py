"""The cell conductor (RPC topic ``cell_conductor``): a cell database's writes and reads on
behalf of compute hosts that hold no database credentials (DESIGN rule 7).

A compute agent is given an instance store and a service store (``InstanceStore`` and
``ServiceStore`` for direct access); ``RemoteInstanceStore`` and ``RemoteServiceStore``
here have the same methods and send each call to :class:`CellConductor`, which runs it on
the real stores of its cell. Only the methods named in ``INSTANCE_OPS`` and
``SERVICE_OPS`` are served. Values cross as JSON, so datetimes, tuples and
``HostResources`` are tagged on the way (:func:`encode`) and rebuilt on arrival
(:func:`decode`); ``InstanceGone``, ``UnexpectedTaskState`` and ``NoSuchRow`` arrive as
themselves (``REMOTE_ERRORS``).

As in Nova, one conductor process may be both the super conductor and its cell's
conductor (a cell of one); ``stratus conductor`` serves both topics.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from stratus.common.context import RequestContext
from stratus.common.rpc import RPCClient
from stratus.compute.instance_store import ANY, ErrorTexts, InstanceStore
from stratus.compute.service_records import ServiceStore
from stratus.virt.driver import HostResources

TOPIC = "cell_conductor"
# The modules of the store errors a compute host catches by class.
REMOTE_ERRORS = ("stratus.compute.instance_store", "stratus.compute_api.store")

INSTANCE_OPS = frozenset({
    "get", "update", "destroy", "network_info", "set_network_info", "record_fault",
    "event_start", "finish_event", "start_build", "finish_build", "on_host", "stored_flavors",
    "migration", "evacuations", "complete_evacuation"})
# Operations whose first argument is the request's context (sent as the call's context).
_WITH_CONTEXT = frozenset({"event_start", "start_build"})
SERVICE_OPS = frozenset({"register_service", "register_node", "update_nodes", "heartbeat",
                         "map_host"})


def encode(value: Any) -> Any:
    """``value`` with what JSON cannot carry tagged: datetimes, tuples, HostResources."""
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, HostResources):
        return {"__host_resources__": encode(dataclasses.asdict(value))}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {key: encode(v) for key, v in value.items()}
    return value


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag == "__datetime__":
            return dt.datetime.fromisoformat(inner)
        if tag == "__tuple__":
            return tuple(decode(v) for v in inner)
        if tag == "__host_resources__":
            return HostResources(**decode(inner))
    return {key: decode(v) for key, v in value.items()}


class CellConductor:
    """The endpoint: runs allowed store methods against this cell's database."""

    def __init__(self, store: InstanceStore, services: ServiceStore):
        self._store = store
        self._services = services

    def instance_store(self, context: RequestContext, op: str, args: list,
                       kwargs: dict) -> Any:
        if op not in INSTANCE_OPS:
            raise ValueError(f"{op} is not an instance store operation")
        if op in _WITH_CONTEXT:  # the action is the caller's request's
            return encode(getattr(self._store, op)(context, *decode(args), **decode(kwargs)))
        return encode(getattr(self._store, op)(*decode(args), **decode(kwargs)))

    def service_store(self, context: RequestContext, op: str, args: list,
                      kwargs: dict) -> Any:
        if op not in SERVICE_OPS:
            raise ValueError(f"{op} is not a service store operation")
        return encode(getattr(self._services, op)(*decode(args), **decode(kwargs)))


class _RemoteStore:
    """Sends a store method's call to the cell conductor's ``endpoint`` method."""

    endpoint = ""

    def __init__(self, client: RPCClient):
        self._client = client

    def _call(self, op: str, args: list, kwargs: dict,
              context: RequestContext | None = None) -> Any:
        return decode(self._client.call(context or RequestContext(), self.endpoint, op=op,
                                        args=encode(args), kwargs=encode(kwargs)))


def _remote(op: str, doc: str | None):
    def call(self, *args, **kwargs):
        return self._call(op, list(args), kwargs)
    call.__name__ = op
    call.__doc__ = doc
    return call


class RemoteInstanceStore(ErrorTexts, _RemoteStore):
    """``InstanceStore``'s methods, run by the cell conductor."""

    endpoint = "instance_store"

    def update(self, instance_uuid: str, changes: dict, *,
               expected_task_state: object = ANY) -> None:
        """As ``InstanceStore.update``; ANY (the default) is not sent, so it stays ANY."""
        kwargs = {} if expected_task_state is ANY else \
            {"expected_task_state": expected_task_state}
        self._call("update", [instance_uuid, changes], kwargs)

    def event_start(self, context: RequestContext, instance_uuid: str, event: str,
                    host: str) -> int:
        """As ``InstanceStore.event_start``; ``context`` travels as the call's context."""
        return self._call("event_start", [instance_uuid, event, host], {}, context)

    def start_build(self, context: RequestContext, instance_uuid: str, host: str,
                    node: str) -> dict:
        """As ``InstanceStore.start_build``; ``context`` travels as the call's context."""
        return self._call("start_build", [instance_uuid, host, node], {}, context)


for _op in INSTANCE_OPS - {"update"} - _WITH_CONTEXT:
    setattr(RemoteInstanceStore, _op, _remote(_op, getattr(InstanceStore, _op).__doc__))


class RemoteServiceStore(_RemoteStore):
    """``ServiceStore``'s methods, run by the cell conductor."""

    endpoint = "service_store"


for _op in SERVICE_OPS:
    setattr(RemoteServiceStore, _op, _remote(_op, getattr(ServiceStore, _op).__doc__))
