"""RPC in one process over oslo.messaging's fake:// driver, as the all-in-one runs it."""

import pytest

from rpc_contract import RPCContract
from stratus import conf as stratus_conf


@pytest.fixture
def rpc_conf(tmp_path):
    return stratus_conf.load(None, {"state_dir": str(tmp_path)})


class TestInProcess(RPCContract):
    pass

