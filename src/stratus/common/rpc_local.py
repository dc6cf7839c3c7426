"""The in-process RPC driver behind ``fake://``: oslo.messaging's semantics, woken, not polled.

oslo.messaging's own fake driver has each listener wake every 50 ms to look through its
queues under two process-wide locks. An all-in-one with 200 fake compute hosts has over
200 listeners: in a boot storm 63% of the process's non-idle samples were threads in
that polling, and every message waited up to 50 ms per hop. Here each listener sleeps on
its own condition and a delivery wakes just the listeners of the queue it lands in.

What callers see is the fake driver's: a process-wide table of exchanges (two transports
in one process reach each other), a queue per (topic, server) and one per topic, fanout
to every server of a topic, replies through a queue the caller waits on, messages to a
server that is not listening yet kept until it is, and no message lost on stop.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from typing import Any

import oslo_messaging
from oslo_messaging._drivers import base
from oslo_messaging._drivers.impl_fake import FakeIncomingMessage
from oslo_serialization import jsonutils

_Message = tuple  # (ctxt, message, reply_q, requeue)


class _Broker:
    """Every queue of every exchange in this process, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self._server_queues: dict[tuple, collections.deque] = {}
        self._topic_queues: dict[tuple, collections.deque] = {}
        # (exchange, topic) -> listeners, each waiting on its own condition.
        self._listeners: dict[tuple, list[_Listener]] = {}

    def _server_queue(self, exchange: str, topic: str, server: str) -> collections.deque:
        return self._server_queues.setdefault((exchange, topic, server), collections.deque())

    def _topic_queue(self, exchange: str, topic: str) -> collections.deque:
        return self._topic_queues.setdefault((exchange, topic), collections.deque())

    def add(self, listener: _Listener) -> None:
        with self.lock:
            self._server_queue(listener.exchange, listener.topic, listener.server)
            self._topic_queue(listener.exchange, listener.topic)
            self._listeners.setdefault((listener.exchange, listener.topic), []).append(listener)

    def remove(self, listener: _Listener) -> None:
        with self.lock:
            listeners = self._listeners.get((listener.exchange, listener.topic), [])
            if listener in listeners:
                listeners.remove(listener)

    def deliver(self, exchange: str, topic: str, server: str | None, fanout: bool,
                message: _Message) -> None:
        with self.lock:
            listeners = self._listeners.get((exchange, topic), [])
            if fanout:
                for (ex, tp, _server), q in self._server_queues.items():
                    if (ex, tp) == (exchange, topic):
                        q.append(message)
                woken = listeners
            elif server is not None:
                self._server_queue(exchange, topic, server).append(message)
                woken = [lis for lis in listeners if lis.server == server]
            else:
                self._topic_queue(exchange, topic).append(message)
                woken = listeners
            for listener in woken:
                listener.wake.notify()

    def take(self, listener: _Listener) -> _Message | None:
        """The listener's next message, its own server queue first; call under ``lock``."""
        for q in (self._server_queues[(listener.exchange, listener.topic, listener.server)],
                  self._topic_queues[(listener.exchange, listener.topic)]):
            if q:
                return q.popleft()
        return None


_BROKER = _Broker()


class _Listener(base.PollStyleListener):
    def __init__(self, exchange: str, topic: str, server: str):
        super().__init__()
        self.exchange, self.topic, self.server = exchange, topic, server
        self.wake = threading.Condition(_BROKER.lock)
        self._stopped = False
        _BROKER.add(self)

    @base.batch_poll_helper
    def poll(self, timeout: float | None = None) -> FakeIncomingMessage | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.wake:
            while not self._stopped:
                taken = _BROKER.take(self)
                if taken is not None:
                    ctxt, message, reply_q, requeue = taken
                    return FakeIncomingMessage(ctxt, message, reply_q, requeue)
                if deadline is None:
                    self.wake.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self.wake.wait(left)
        return None

    def stop(self) -> None:
        with self.wake:
            self._stopped = True
            self.wake.notify_all()

    def cleanup(self) -> None:
        _BROKER.remove(self)


class LocalDriver(base.BaseDriver):
    """An oslo.messaging driver whose messages never leave this process (RPC only)."""

    def require_features(self, requeue: bool = True) -> None:
        pass

    def _exchange(self, target: oslo_messaging.Target) -> str:
        return target.exchange or self._default_exchange

    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,
             call_monitor_timeout=None, retry=None, transport_options=None) -> Any:
        jsonutils.dumps(message)  # as over RabbitMQ: only what serialises may travel
        reply_q: queue.Queue | None = queue.Queue() if wait_for_reply else None
        exchange = self._exchange(target)

        def requeue() -> None:
            _BROKER.deliver(exchange, target.topic, target.server, target.fanout, entry)

        entry = (ctxt, message, reply_q, requeue)
        _BROKER.deliver(exchange, target.topic, target.server, target.fanout, entry)
        if reply_q is None:
            return None
        try:
            reply, failure = reply_q.get(timeout=timeout)
        except queue.Empty:
            raise oslo_messaging.MessagingTimeout(f"No reply on topic {target.topic}") \
                from None
        if failure:
            raise failure
        return reply

    def send_notification(self, target, ctxt, message, version, retry=None) -> None:
        raise NotImplementedError("fake:// in Stratus carries RPC only, not notifications")

    def listen(self, target, batch_size, batch_timeout) -> base.PollStyleListenerAdapter:
        listener = _Listener(self._exchange(target), target.topic, target.server)
        return base.PollStyleListenerAdapter(listener, batch_size, batch_timeout)

    def listen_for_notifications(self, targets_and_priorities, pool, batch_size,
                                 batch_timeout):
        raise NotImplementedError("fake:// in Stratus carries RPC only, not notifications")

    def cleanup(self) -> None:
        pass  # the queues are the process's, shared with other transports
