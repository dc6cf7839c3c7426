"""``stratus scheduler``: a scheduler process serving topic 'scheduler' over RabbitMQ."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from scheduler_env import request_spec, start_scheduler, stop_scheduler

from stratus import conf as stratus_conf
from stratus.common import rpc
from stratus.common.rpc import RPCTimeout
from stratus.scheduler.errors import NoValidHost
from stratus.scheduler.rpcapi import SchedulerClient

BIN = os.path.dirname(sys.executable)
RABBIT_URL = os.environ.get("STRATUS_TEST_RABBIT_URL")


@pytest.mark.parametrize("command", ["scheduler", "conductor"])
def test_without_placement_credentials_the_service_says_so_and_exits_1(tmp_path, command):
    conf_path = tmp_path / "stratus.conf"
    conf_path.write_text("[placement]\nendpoint_override = http://127.0.0.1:1/\n")
    done = subprocess.run([f"{BIN}/stratus", command, "--config-file", str(conf_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot start the {command}" in done.stderr and "auth_type" in done.stderr


@pytest.mark.slow
def test_the_scheduler_process_answers_select_destinations_over_rabbitmq(tmp_path):
    if not RABBIT_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("STRATUS_TEST_RABBIT_URL is required in CI")
        pytest.skip("STRATUS_TEST_RABBIT_URL not set")
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path), "transport_url": RABBIT_URL})
    rpc.register_opts(conf)
    exchange = f"stratus-test-{uuid.uuid4().hex}"
    conf.set_override("control_exchange", exchange)
    conf.set_override("amqp_auto_delete", True, group="oslo_messaging_rabbit")
    conf.set_override("rabbit_transient_queues_ttl", 1, group="oslo_messaging_rabbit")
    env = start_scheduler(conf, in_process=False)
    conf_path = env.conf_file(tmp_path / "scheduler.conf", default_lines=(
        f"control_exchange = {exchange}", "[oslo_messaging_rabbit]", "amqp_auto_delete = true",
        "rabbit_transient_queues_ttl = 1"))
    proc = subprocess.Popen([f"{BIN}/stratus", "scheduler", "--config-file", conf_path],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Log lines come first; the banner says the topic's queues exist.
        seen = []
        while not any("serving RPC topic 'scheduler'" in line for line in seen):
            seen.append(proc.stdout.readline())
            assert seen[-1], "".join(seen)  # EOF: the process ended
        host = env.add_host("only")
        instance = str(uuid.uuid4())
        client = SchedulerClient(env.rpc, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                (picks,) = client.select_destinations(env.context, request_spec(), [instance])
                break
            except RPCTimeout:
                assert time.monotonic() < deadline
        assert picks[0]["compute_node_uuid"] == host.uuid
        assert list(env.client.get_allocations(instance)["allocations"]) == [host.uuid]
        # A NoValidHost reaches the caller as itself, with its reason.
        with pytest.raises(NoValidHost, match="MEMORY_MB"):
            client.select_destinations(env.context, request_spec(memory_mb=10 ** 6),
                                       [str(uuid.uuid4())])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            stop_scheduler(env)
