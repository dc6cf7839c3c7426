"""The same RPC behaviour through a real RabbitMQ (STRATUS_TEST_RABBIT_URL)."""

import os
import uuid

import pytest

from rpc_contract import RPCContract
from stratus import conf as stratus_conf
from stratus.common import rpc

RABBIT_URL = os.environ.get("STRATUS_TEST_RABBIT_URL")


@pytest.fixture
def rpc_conf(tmp_path):
    if not RABBIT_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("STRATUS_TEST_RABBIT_URL is required in CI")
        pytest.skip("STRATUS_TEST_RABBIT_URL not set")
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path), "transport_url": RABBIT_URL})
    rpc.register_opts(conf)
    # Leave nothing behind in the broker: an exchange of the test's own (the shared
    # "openstack" exchange is durable), queues that go with their consumers, and reply
    # queues that expire a second after the transport closes.
    conf.set_override("control_exchange", f"stratus-test-{uuid.uuid4().hex}")
    conf.set_override("amqp_auto_delete", True, group="oslo_messaging_rabbit")
    conf.set_override("rabbit_transient_queues_ttl", 1, group="oslo_messaging_rabbit")
    return conf


class TestRabbitMQ(RPCContract):
    pass
