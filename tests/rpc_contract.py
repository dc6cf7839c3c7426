"""RPC behaviour every transport must show; run in-process (fake://) and over RabbitMQ."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from stratus.common.context import RequestContext
from stratus.common.rpc import RPC, RemoteError, RPCTimeout


class Calculator:
    """An endpoint: public methods take (context, **kwargs)."""

    def __init__(self):
        self.casts: list[int] = []
        self.cast_arrived = threading.Event()
        self.expected_casts = 1
        self.lock = threading.Lock()

    def add(self, context, a, b):
        return a + b

    def whoami(self, context):
        return {"user": context.user_id, "project": context.project_id,
                "request_id": context.request_id, "roles": context.roles}

    def record(self, context, value):
        with self.lock:
            self.casts.append(value)
            if len(self.casts) >= self.expected_casts:
                self.cast_arrived.set()

    def fail(self, context):
        raise ValueError("the endpoint refused")

    def fail_custom(self, context):
        raise CalculatorError("custom refusal")

    def _private(self, context):
        return "must not be reachable"


class CalculatorError(Exception):
    """Not importable by oslo.messaging's allow-list, so it travels as RemoteError."""


def make_pair(conf, **rpc_kwargs):
    rpc = RPC(conf, **rpc_kwargs)
    topic = f"test-{uuid.uuid4().hex[:8]}"
    endpoint = Calculator()
    server = rpc.server(topic, [endpoint], server="host-a")
    server.start()
    return rpc, topic, endpoint


class RPCContract:
    """Mixed into a test class whose ``rpc_conf`` fixture picks the transport."""

    @pytest.fixture
    def pair(self, rpc_conf):
        rpc, topic, endpoint = make_pair(rpc_conf)
        yield rpc, topic, endpoint
        rpc.cleanup()

    @pytest.fixture
    def pair_allowing_calculator_errors(self, rpc_conf):
        rpc, topic, endpoint = make_pair(rpc_conf, allowed_remote_exmods=[__name__])
        yield rpc, topic, endpoint
        rpc.cleanup()

    def test_call_returns_the_endpoints_answer(self, pair):
        rpc, topic, _ = pair
        assert rpc.client(topic, timeout=10).call({}, "add", a=2, b=40) == 42

    def test_endpoint_receives_the_callers_context(self, pair):
        rpc, topic, _ = pair
        ctx = RequestContext(user_id="u1", project_id="p1", roles=["member"],
                             request_id="req-abc", overwrite=False)
        assert rpc.client(topic, timeout=10).call(ctx, "whoami") == {
            "user": "u1", "project": "p1", "request_id": "req-abc", "roles": ["member"]}

    def test_cast_is_delivered(self, pair):
        rpc, topic, endpoint = pair
        rpc.client(topic).cast({}, "record", value=7)
        assert endpoint.cast_arrived.wait(10) and endpoint.casts == [7]

    def test_builtin_endpoint_exception_reaches_the_caller_as_itself(self, pair):
        rpc, topic, _ = pair
        with pytest.raises(ValueError, match="the endpoint refused"):
            rpc.client(topic, timeout=10).call({}, "fail")

    def test_other_endpoint_exceptions_arrive_as_remote_error(self, pair):
        rpc, topic, _ = pair
        with pytest.raises(RemoteError) as caught:
            rpc.client(topic, timeout=10).call({}, "fail_custom")
        assert caught.value.exc_type == "CalculatorError"
        assert "custom refusal" in str(caught.value)

    def test_exceptions_from_an_allowed_module_arrive_as_their_own_class(
            self, pair_allowing_calculator_errors):
        """RabbitMQ rebuilds them as a ``CalculatorError_Remote`` subclass; still catchable."""
        rpc, topic, _ = pair_allowing_calculator_errors
        with pytest.raises(CalculatorError, match="custom refusal"):
            rpc.client(topic, timeout=10).call({}, "fail_custom")

    def test_private_endpoint_methods_cannot_be_called(self, pair):
        rpc, topic, _ = pair
        with pytest.raises(RemoteError) as caught:
            rpc.client(topic, timeout=10).call({}, "_private")
        assert caught.value.exc_type == "NoSuchMethod"

    def test_a_version_the_endpoints_lack_arrives_as_remote_error(self, pair):
        rpc, topic, _ = pair
        with pytest.raises(RemoteError) as caught:
            rpc.client(topic, version="2.0", timeout=10).call({}, "add", a=1, b=1)
        assert caught.value.exc_type == "UnsupportedVersion"

    def test_errors_raised_by_the_client_itself_are_not_disguised_as_remote(self, pair):
        rpc, _, _ = pair
        with pytest.raises(Exception, match="A topic is required") as caught:
            rpc.client("", timeout=10).call({}, "add", a=1, b=1)
        assert not isinstance(caught.value, RemoteError)

    def test_call_to_a_topic_nobody_serves_times_out_clearly(self, pair):
        rpc, _, _ = pair
        began = time.monotonic()
        with pytest.raises(RPCTimeout) as caught:
            rpc.client("nobody-" + uuid.uuid4().hex[:8], timeout=1).call({}, "add", a=1, b=1)
        assert 0.9 <= time.monotonic() - began < 10
        assert "nobody-" in str(caught.value) and "'add'" in str(caught.value)

    def test_concurrent_calls_each_get_their_own_answer_and_casts_all_arrive(self, pair):
        rpc, topic, endpoint = pair
        client = rpc.client(topic, timeout=30)
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda i: client.call({}, "add", a=i, b=1000), range(200)))
        assert answers == [i + 1000 for i in range(200)]
        endpoint.expected_casts = 100
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: client.cast({}, "record", value=i), range(100)))
        assert endpoint.cast_arrived.wait(30)
        assert sorted(endpoint.casts) == list(range(100))

    def test_servers_of_one_topic_get_their_own_messages_topic_ones_once_fanout_all(
            self, rpc_conf):
        import oslo_messaging

        rpc = RPC(rpc_conf)
        topic = f"test-{uuid.uuid4().hex[:8]}"
        endpoints = {name: Calculator() for name in ("host-a", "host-b", "host-c")}
        try:
            for name, endpoint in endpoints.items():
                rpc.server(topic, [endpoint], server=name).start()
            for name, endpoint in endpoints.items():
                endpoint.expected_casts = 1 if name == "host-b" else 0
            rpc.client(topic, server="host-b", timeout=30).cast({}, "record", value=-1)
            assert endpoints["host-b"].cast_arrived.wait(30)
            assert [e.casts for e in endpoints.values()] == [[], [-1], []]
            for endpoint in endpoints.values():
                endpoint.casts.clear()
            # Topic-wide: each of 30 messages is handled by exactly one server.
            client = rpc.client(topic, timeout=30)
            assert [client.call({}, "add", a=i, b=0) for i in range(30)] == list(range(30))
            for i in range(30):
                client.cast({}, "record", value=i)
            deadline = time.monotonic() + 30
            while sum(len(e.casts) for e in endpoints.values()) < 30 \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sorted(v for e in endpoints.values() for v in e.casts) == list(range(30))
            for endpoint in endpoints.values():
                endpoint.casts.clear()
                endpoint.cast_arrived.clear()
                endpoint.expected_casts = 1
            fanout = oslo_messaging.get_rpc_client(
                rpc.transport, oslo_messaging.Target(topic=topic, fanout=True))
            fanout.cast({}, "record", value=7)
            assert all(e.cast_arrived.wait(30) for e in endpoints.values())
            assert [e.casts for e in endpoints.values()] == [[7], [7], [7]]
        finally:
            rpc.cleanup()
