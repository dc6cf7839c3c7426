"""RPC in one process over oslo.messaging's fake:// driver, as the all-in-one runs it."""

import threading
import uuid

import pytest

from rpc_contract import Calculator, RPCContract
from stratus import conf as stratus_conf
from stratus.common import rpc


@pytest.fixture
def rpc_conf(tmp_path):
    return stratus_conf.load(None, {"state_dir": str(tmp_path)})


class TestInProcess(RPCContract):
    pass


def test_client_timeout_defaults_to_rpc_response_timeout(rpc_conf):
    rpc_conf.set_override("rpc_response_timeout", 7)
    process_rpc = rpc.RPC(rpc_conf)
    try:
        assert process_rpc.client("compute").timeout == 7
        assert process_rpc.client("compute", timeout=2).timeout == 2
    finally:
        process_rpc.cleanup()


def test_register_opts_is_idempotent_and_keeps_stratus_definitions(rpc_conf):
    rpc.register_opts(rpc_conf)
    rpc.register_opts(rpc_conf)
    # Stratus's transport_url (default fake://) wins over oslo.messaging's (default None).
    assert rpc_conf.transport_url == "fake://"
    assert rpc_conf.oslo_messaging_rabbit.rabbit_retry_interval > 0


def test_cleanup_stops_started_servers_and_their_threads(rpc_conf):
    threads_before = set(threading.enumerate())
    process_rpc = rpc.RPC(rpc_conf)
    topic = f"compute-{uuid.uuid4().hex}"
    process_rpc.server(topic, [Calculator()], server="host-a").start()
    assert process_rpc.client(topic, timeout=10).call({}, "add", a=1, b=1) == 2
    assert set(threading.enumerate()) - threads_before

    process_rpc.cleanup()

    assert set(threading.enumerate()) - threads_before == set()


def test_cleanup_does_not_hang_on_a_server_that_was_never_started(rpc_conf):
    """oslo.messaging's stop() on a never-started server waits forever for start().

    RPC.cleanup() used to stop every server it had made, and hung the process here.
    """
    process_rpc = rpc.RPC(rpc_conf)
    process_rpc.server(f"compute-{uuid.uuid4().hex}", [Calculator()], server="host-a")

    cleaner = threading.Thread(target=process_rpc.cleanup, daemon=True)
    cleaner.start()
    cleaner.join(10)

    assert not cleaner.is_alive()
