"""``stratus conductor`` and ``stratus all-in-one --api-only``: the cloud split into
processes (APIs, conductor, scheduler, compute agents) that meet over RabbitMQ."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from boot_helpers import boot, default_image, make_flavor, wait_for
from compute_helpers import admin
from harness import start_cloud, stop_cloud

from stratus.cells import mappings

BIN = os.path.dirname(sys.executable)
RABBIT_URL = os.environ.get("STRATUS_TEST_RABBIT_URL")


@pytest.mark.parametrize("transport, argv, reason", [
    ("fake://", [], "fake:// stays inside this process"),
    ("rabbit://u:p@127.0.0.1:1/", ["--fake-hosts", "2"], "stratus compute --fake-hosts N"),
])
def test_api_only_refuses_what_would_leave_servers_unbuilt(tmp_path, transport, argv, reason):
    (tmp_path / "stratus.conf").write_text(f"[DEFAULT]\ntransport_url = {transport}\n")
    done = subprocess.run([f"{BIN}/stratus", "all-in-one", "--api-only", "--state-dir",
                           str(tmp_path), *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert reason in done.stderr
    assert not (tmp_path / "api.sqlite").exists()  # refused before touching any database


def _wait_for_banner(proc: subprocess.Popen, log_path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log_path.read_text():
        assert proc.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)


@pytest.mark.slow
def test_servers_go_active_through_api_conductor_scheduler_and_agent_processes(
        tmp_path, monkeypatch):
    """The API process (in-process here) only casts; the conductor process asks the
    scheduler process for a host and hands the server to the agent process's host."""
    if not RABBIT_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("STRATUS_TEST_RABBIT_URL is required in CI")
        pytest.skip("STRATUS_TEST_RABBIT_URL not set")
    state = tmp_path / "state"
    state.mkdir()
    shared = state / "stratus.conf"  # the API finds it in its state dir, the rest are told
    shared.write_text(
        f"[DEFAULT]\ntransport_url = {RABBIT_URL}\nall_in_one_rpc_services = false\n"
        f"control_exchange = stratus-test-{uuid.uuid4().hex}\nhost = split\n"
        "[oslo_messaging_rabbit]\namqp_auto_delete = true\n")
    monkeypatch.setenv("STRATUS_STATE_DIR", str(state))  # where load() looks for files
    cloud = start_cloud(state)
    assert cloud.aio.rpc_services is None  # only the clients: nothing consumes here
    account = cloud.aio.service_account
    services = tmp_path / "services.conf"
    services.write_text(
        f"[DEFAULT]\nstate_dir = {state}\n[placement]\nauth_type = password\n"
        f"auth_url = {cloud.identity}\nusername = {account.username}\n"
        f"password = {account.password}\nproject_name = {account.project_name}\n"
        "user_domain_name = Default\nproject_domain_name = Default\n"
        f"endpoint_override = {cloud.url}/placement\n")
    # The compute host holds no database credentials: a state dir of its own, empty, and
    # connections that cannot work; the cell conductor does its reads and writes.
    host_state = tmp_path / "compute-state"
    host_state.mkdir()
    no_db = tmp_path / "compute.conf"
    no_db.write_text(f"[DEFAULT]\nstate_dir = {host_state}\n"
                     "[cell1_database]\nconnection = postgresql+psycopg://nobody@127.0.0.1:1/x\n"
                     "[api_database]\nconnection = postgresql+psycopg://nobody@127.0.0.1:1/x\n")
    procs = []
    try:
        for name, extra, banner in (
                ("conductor", [], "serving RPC topic 'conductor'"),
                ("scheduler", [], "serving RPC topic 'scheduler'"),
                ("compute", ["--config-file", str(no_db), "--fake-hosts", "1"],
                 "compute agent(s) split-1 serving")):
            log_path = tmp_path / f"{name}.log"
            with open(log_path, "w") as out:
                procs.append(subprocess.Popen(
                    [f"{BIN}/stratus", name, "--config-file", str(shared), "--config-file",
                     str(services), *extra], stdout=out, stderr=subprocess.STDOUT))
            _wait_for_banner(procs[-1], log_path, banner)
        with cloud.aio.databases.engine("api").connect() as conn:  # mapped by the conductor
            assert mappings.get_host_mapping(conn, "split-1").cell.name == "cell1"
        compute = admin(cloud)
        flavor = make_flavor(compute, "split.small", ram=256, vcpus=1, disk=1)
        reservation = boot(compute, "split", flavor["id"], default_image(cloud, compute.token),
                           server={"min_count": 2, "max_count": 2,
                                   "return_reservation_id": True})["reservation_id"]
        listed = compute.get("/servers", params={"reservation_id": reservation}).json()
        assert len(listed["servers"]) == 2
        for server in listed["servers"]:
            built = wait_for(compute, server["id"], "ACTIVE", timeout=60)
            assert built["OS-EXT-SRV-ATTR:host"] == "split-1"
            with cloud.aio.compute.api_engine.connect() as conn:
                assert mappings.get_instance_mapping(conn, server["id"]).cell.name == "cell1"
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in reversed(procs)]
        stop_cloud(cloud)
    assert codes == [0, 0, 0]
    assert list(host_state.iterdir()) == []
