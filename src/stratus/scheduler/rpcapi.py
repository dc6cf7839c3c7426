"""The caller's side of topic ``scheduler`` (the conductor uses it).

The caller's RPC must allow ``ERRORS_MODULE`` (``RPC(conf, allowed_remote_exmods=
[ERRORS_MODULE])``) for NoValidHost to arrive as itself over RabbitMQ as well as fake://.
"""

from __future__ import annotations

from stratus.common.context import RequestContext
from stratus.common.rpc import RPC
from stratus.scheduler import errors
from stratus.scheduler.manager import TOPIC

ERRORS_MODULE = errors.__name__


class SchedulerClient:
    """Calls ``select_destinations`` on whichever scheduler serves the topic."""

    def __init__(self, rpc: RPC, timeout: float | None = None):
        self._client = rpc.client(TOPIC, timeout=timeout)

    def select_destinations(self, context: RequestContext | dict, request_spec: dict,
                            instance_uuids: list[str], return_alternates: bool = True
                            ) -> list[list[dict]]:
        """One list of selections per instance (claimed host first); NoValidHost if none."""
        return self._client.call(context, "select_destinations", request_spec=request_spec,
                                 instance_uuids=instance_uuids,
                                 return_alternates=return_alternates)
