"""RPC between Stratus services: the only module that talks to oslo.messaging.

A process builds one :class:`RPC` from its configuration and keeps it for its lifetime;
that object, not a module global, owns the transport. The all-in-one uses ``fake://``:
in-process, served by :mod:`stratus.common.rpc_local` (oslo.messaging's fake driver's
semantics without its 50 ms polling; proven under concurrent load by the RPC contract
tests); deployments that scale out use RabbitMQ through the same API.

Contexts travel as dicts (:meth:`RequestContext.to_dict` plus the few fields it leaves
out) and endpoints receive a :class:`~stratus.common.context.RequestContext` rebuilt
from them. An endpoint is any object whose public methods take ``(context, **kwargs)``.
"""

from __future__ import annotations

import socket
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

from oslo_config import cfg
from oslo_service import backend

# oslo.messaging picks its executor from the oslo.service backend at import time;
# Stratus runs on native threads, never eventlet.
if backend.get_backend_type() is None:
    backend.init_backend(backend.BackendType.THREADING)

import oslo_messaging  # noqa: E402
import oslo_messaging.opts  # noqa: E402
from oslo_messaging._metrics import client as _metrics_client  # noqa: E402
from oslo_messaging._tracing import client as _tracing_client  # noqa: E402

from stratus.common.context import RequestContext  # noqa: E402
from stratus.common.rpc_local import LocalDriver  # noqa: E402

__all__ = [
    "RPC",
    "RPCClient",
    "RPCServer",
    "RPCTimeout",
    "RemoteError",
    "get_transport",
    "register_opts",
]

# An endpoint exception whose class is not importable by the caller (see
# ``allowed_remote_exmods``) arrives as this; exported so services need not import oslo.
RemoteError = oslo_messaging.RemoteError
_REMOTE_SUFFIX = "_Remote"

# RequestContext.to_dict() drops these, yet from_dict() reads them (and Stratus adds
# expires_at); sending them keeps logs and token checks on the far side complete.
_CONTEXT_FIELDS_NOT_IN_TO_DICT = (
    "user_name", "project_name", "domain_name", "user_domain_name", "project_domain_name",
    "expires_at",
)


class RPCTimeout(Exception):
    """A call got no reply in time; ``__cause__`` is oslo.messaging's MessagingTimeout."""

    def __init__(self, topic: str, method: str, timeout: float):
        self.topic = topic
        self.method = method
        self.timeout = timeout
        super().__init__(
            f"No reply from topic {topic!r} to {method!r} within {timeout:g}s: "
            "is a service consuming this topic running?")


class _MessagingConf:
    """The Stratus ConfigOpts as handed to oslo.messaging.

    oslo.messaging registers its own definitions of options on the conf it is given
    (``transport_url`` and ``rpc_response_timeout`` among them) every time a transport,
    client or server is made. Stratus defines those two itself, with its own defaults
    and help, and oslo.config rejects a second, different definition of a name with
    DuplicateOptError. This view keeps the definition already registered and passes
    everything else through to the real conf.
    """

    def __init__(self, conf: cfg.ConfigOpts):
        self._conf = conf

    def register_opt(self, opt: cfg.Opt, group: Any = None, cli: bool = False) -> bool:
        try:
            return self._conf.register_opt(opt, group=group, cli=cli)
        except cfg.DuplicateOptError:
            return False

    def register_opts(self, opts: Iterable[cfg.Opt], group: Any = None) -> None:
        for opt in opts:
            self.register_opt(opt, group=group)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conf, name)

    def __getitem__(self, key: str) -> Any:
        return self._conf[key]

    def __contains__(self, key: object) -> bool:
        return key in self._conf

    def __iter__(self):
        return iter(self._conf)

    def __len__(self) -> int:
        return len(self._conf)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register oslo.messaging's options on ``conf``; safe to call more than once.

    Options Stratus already defines under the same name (``transport_url``,
    ``rpc_response_timeout``) keep Stratus's definition.
    """
    view = _MessagingConf(conf)
    for group, opts in oslo_messaging.opts.list_opts():
        view.register_opts(opts, group=None if group in (None, "DEFAULT") else group)
    # Read from the transport's conf on every call, but only registered on the global CONF.
    view.register_opts(_tracing_client.oslo_messaging_tracing, group="oslo_messaging_tracing")
    view.register_opts(_metrics_client.oslo_messaging_metrics, group="oslo_messaging_metrics")


def get_transport(conf: cfg.ConfigOpts,
                  allowed_remote_exmods: Sequence[str] = ()) -> oslo_messaging.Transport:
    """A new RPC transport for ``conf.transport_url``; the caller owns and cleans it up.

    Nothing is cached: the caller keeps the transport (as :class:`RPC` does). Exceptions
    raised by endpoints in the modules named by ``allowed_remote_exmods`` (and builtin
    ones) are re-raised at the caller as their own class; others arrive as
    :data:`RemoteError`.
    """
    register_opts(conf)
    view = _MessagingConf(conf)
    if conf.transport_url.startswith("fake://"):
        driver = LocalDriver(view, oslo_messaging.TransportURL.parse(view, conf.transport_url),
                             default_exchange=conf.control_exchange,
                             allowed_remote_exmods=list(allowed_remote_exmods))
        return oslo_messaging.transport.RPCTransport(driver)
    return oslo_messaging.get_rpc_transport(
        view, url=conf.transport_url, allowed_remote_exmods=list(allowed_remote_exmods))


class _ContextSerializer(oslo_messaging.NoOpSerializer):
    """Sends a RequestContext as a dict; endpoints get a RequestContext back."""

    def serialize_context(self, ctxt: RequestContext | dict) -> dict:
        if isinstance(ctxt, dict):
            return ctxt
        values = ctxt.to_dict()
        for field in _CONTEXT_FIELDS_NOT_IN_TO_DICT:
            values.setdefault(field, getattr(ctxt, field, None))
        return values

    def deserialize_context(self, ctxt: dict) -> RequestContext:
        return RequestContext.from_dict(ctxt, expires_at=ctxt.get("expires_at"))


def _arrives_as_itself(exc: Exception, allowed_modules: frozenset[str]) -> bool:
    """Whether RabbitMQ would let a call's caller see ``exc`` with its own class."""
    if isinstance(exc, RemoteError):
        return True
    # RabbitMQ rebuilds an allow-listed class as a "<Name>_Remote" subclass whose module
    # is "<module>_Remote"; builtins keep their class.
    module = type(exc).__module__.removesuffix(_REMOTE_SUFFIX)
    if module in allowed_modules:
        return True
    # oslo.messaging's own errors (delivery failure, version cap, ...) are raised by the
    # client, not the endpoint; only the dispatcher's (NoSuchMethod, UnsupportedVersion)
    # come from the server and travel as RemoteError.
    return module.startswith("oslo_messaging") and module != "oslo_messaging.rpc.dispatcher"


class RPCClient:
    """Calls and casts to the service consuming one topic."""

    def __init__(self, transport: oslo_messaging.Transport, topic: str, *,
                 server: str | None, timeout: float, version: str,
                 allowed_remote_exmods: Sequence[str] = ()):
        self.topic = topic
        self._allowed_modules = frozenset(("builtins", *allowed_remote_exmods))
        self.server = server
        self.timeout = timeout
        target = oslo_messaging.Target(topic=topic, server=server, version=version)
        self._client = oslo_messaging.get_rpc_client(
            transport, target, timeout=timeout, serializer=_ContextSerializer())

    def call(self, context: RequestContext | dict, method: str, **kwargs: Any) -> Any:
        """Invoke ``method`` on one server of the topic and return its result.

        ``context`` is a RequestContext or a dict in ``RequestContext.to_dict()`` form.
        Raises :class:`RPCTimeout` when no reply comes within ``self.timeout`` seconds,
        and the endpoint's exception (or :data:`RemoteError`) when the method raised.
        """
        try:
            return self._client.call(context, method, **kwargs)
        except oslo_messaging.MessagingTimeout as exc:
            raise RPCTimeout(self.topic, method, self.timeout) from exc
        except Exception as exc:
            if _arrives_as_itself(exc, self._allowed_modules):
                raise
            # fake:// hands back the endpoint's own exception object, where RabbitMQ
            # rebuilds only allow-listed classes; make both look like RabbitMQ so a
            # service behaves the same on either transport.
            raise RemoteError(type(exc).__name__, str(exc),
                              traceback.format_exception(exc)) from exc

    def cast(self, context: RequestContext | dict, method: str, **kwargs: Any) -> None:
        """Send ``method`` to one server of the topic without waiting for it to run."""
        self._client.cast(context, method, **kwargs)


class RPCServer:
    """Consumes a topic and dispatches its messages to endpoints on a thread pool."""

    def __init__(self, transport: oslo_messaging.Transport, topic: str,
                 endpoints: Sequence[object], *, server: str):
        self.topic = topic
        self.server = server
        self.started = False
        target = oslo_messaging.Target(topic=topic, server=server)
        self._server = oslo_messaging.get_rpc_server(
            transport, target, list(endpoints), executor="threading",
            serializer=_ContextSerializer(),
            # Methods whose names start with "_" are never callable remotely.
            access_policy=oslo_messaging.DefaultRPCAccessPolicy)

    def start(self) -> None:
        """Start consuming; returns once the topic's queues exist."""
        self._server.start()
        self.started = True

    def stop(self) -> None:
        """Stop taking new messages; messages being handled carry on. Idempotent."""
        self._server.stop()

    def wait(self) -> None:
        """Block until messages being handled are done; call after :meth:`stop`.

        Takes up to a second even when idle: the thread pool's workers notice
        shutdown only when their one-second poll for work ends.
        """
        self._server.wait()


class RPC:
    """A process's RPC: one transport, and the clients and servers made on it."""

    def __init__(self, conf: cfg.ConfigOpts, *, allowed_remote_exmods: Sequence[str] = ()):
        self.conf = conf
        self._allowed_remote_exmods = tuple(allowed_remote_exmods)
        self.transport = get_transport(conf, allowed_remote_exmods)
        self._servers: list[RPCServer] = []

    def client(self, topic: str, *, server: str | None = None, timeout: float | None = None,
               version: str = "1.0") -> RPCClient:
        """A client for ``topic`` (one ``server`` of it, if named).

        ``timeout`` defaults to ``[DEFAULT] rpc_response_timeout``.
        """
        if timeout is None:
            timeout = self.conf.rpc_response_timeout
        return RPCClient(self.transport, topic, server=server, timeout=timeout,
                         version=version, allowed_remote_exmods=self._allowed_remote_exmods)

    def server(self, topic: str, endpoints: Sequence[object], *,
               server: str | None = None) -> RPCServer:
        """A server (not yet started) for ``topic``, named ``server`` (default: hostname).

        Endpoints without a ``target`` attribute serve API version 1.x.
        """
        rpc_server = RPCServer(self.transport, topic, endpoints,
                               server=server or socket.gethostname())
        self._servers.append(rpc_server)
        return rpc_server

    def cleanup(self) -> None:
        """Stop and wait for every started server made here, then close the transport."""
        # oslo.messaging's stop() blocks forever on a server that was never started.
        started = [rpc_server for rpc_server in self._servers if rpc_server.started]
        for rpc_server in started:
            rpc_server.stop()
        for rpc_server in started:
            rpc_server.wait()
        self._servers.clear()
        self.transport.cleanup()
