"""The same RPC behaviour through a real RabbitMQ (STRATUS_TEST_RABBIT_URL)."""

import os

import pytest

from rpc_contract import RPCContract
from stratus import conf as stratus_conf

RABBIT_URL = os.environ.get("STRATUS_TEST_RABBIT_URL")


@pytest.fixture
def rpc_conf(tmp_path):
    if not RABBIT_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("STRATUS_TEST_RABBIT_URL is required in CI")
        pytest.skip("STRATUS_TEST_RABBIT_URL not set")
    return stratus_conf.load(None, {"state_dir": str(tmp_path), "transport_url": RABBIT_URL})


class TestRabbitMQ(RPCContract):
    pass
