"""The compute agents' RPC interface, as the API and the conductor call it (topic ``compute``).

Each method addresses the agent of one host (``server=<host>``). Actions are casts: the
API has already moved the instance into its task state and answers 202; the agent does
the work and records the outcome (createImage's snapshot too). Console output is a call,
it returns the text.
"""

from __future__ import annotations

from typing import Any

from stratus.common.context import RequestContext
from stratus.common.rpc import RPC

TOPIC = "compute"

# Actions the API casts to the agent of the server's host: API action -> agent method.
CAST_ACTIONS = {
    "reboot": "reboot_instance", "stop": "stop_instance", "start": "start_instance",
    "pause": "pause_instance", "unpause": "unpause_instance",
    "suspend": "suspend_instance", "resume": "resume_instance",
}


class ComputeRPC:
    """Casts and calls to compute agents over one process's RPC transport."""

    def __init__(self, rpc: RPC, *, call_timeout: float | None = None):
        self._rpc = rpc
        self._call_timeout = call_timeout

    def client(self, host: str, timeout: float | None = None):
        """An RPC client of one host's agent (``call``/``cast`` any agent method)."""
        return self._rpc.client(TOPIC, server=host, timeout=timeout)

    _client = client

    def build_and_run_instance(self, context: RequestContext, host: str, *,
                               instance_uuid: str, request_spec: dict, selection: dict,
                               alternates: list[dict]) -> None:
        self._client(host).cast(context, "build_and_run_instance",
                                instance_uuid=instance_uuid, request_spec=request_spec,
                                selection=selection, alternates=alternates)

    def terminate_instance(self, context: RequestContext, host: str,
                           instance_uuid: str) -> None:
        self._client(host).cast(context, "terminate_instance", instance_uuid=instance_uuid)

    def cast_action(self, context: RequestContext, host: str, action: str,
                    instance_uuid: str, **kwargs: Any) -> None:
        """Cast one of ``CAST_ACTIONS`` (reboot takes ``reboot_type``)."""
        self._client(host).cast(context, CAST_ACTIONS[action], instance_uuid=instance_uuid,
                                **kwargs)

    def snapshot_instance(self, context: RequestContext, host: str, instance_uuid: str,
                          image_id: str) -> None:
        """createImage: the agent saves the disk into the queued image ``image_id``.

        ``context`` carries the user's token, with which the agent uploads.
        """
        self._client(host).cast(context, "snapshot_instance", instance_uuid=instance_uuid,
                                image_id=image_id)

    def get_console_output(self, context: RequestContext, host: str, instance_uuid: str,
                           length: int | None) -> str:
        return self._client(host, self._call_timeout).call(
            context, "get_console_output", instance_uuid=instance_uuid, length=length)
