"""``stratus compute`` as an operator runs it: N fake agents in one process, rows written,
hosts mapped, clean exit on SIGINT; a clear refusal before the cell database is synced."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa
from placement_harness import start_placement, stop_placement

from stratus import conf as stratus_conf
from stratus.cells.schema_api import host_mappings
from stratus.cells.schema_cell import compute_nodes, services
from stratus.common.db import make_engine

pytestmark = pytest.mark.slow
BIN = os.path.dirname(sys.executable)
RABBIT_URL = os.environ.get("STRATUS_TEST_RABBIT_URL")


def manage(state, *argv):
    result = subprocess.run([f"{BIN}/stratus-manage", "--state-dir", str(state), *argv],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _ready_line(proc: subprocess.Popen, timeout: float = 60) -> str:
    """The first line of stdout that is not a log line (logs go to stdout too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        line = proc.stdout.readline() if ready else ""
        if not line and proc.poll() is not None:
            break
        if line and not line[:4].isdigit():
            return line
    raise AssertionError("the agent never said it was ready")


def test_compute_refuses_to_start_on_an_unsynced_cell_database(tmp_path):
    (tmp_path / "stratus.conf").write_text("[compute]\ndatabase_access = direct\n")
    result = subprocess.run([f"{BIN}/stratus", "compute", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "stratus-manage db sync" in result.stderr


def test_compute_through_the_conductor_refuses_fake_transport_and_touches_no_database(
        tmp_path):
    """The default: the cell conductor holds the database; fake:// cannot reach one."""
    result = subprocess.run([f"{BIN}/stratus", "compute", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "fake:// stays inside this process" in result.stderr
    assert "database_access = direct" in result.stderr
    assert list(tmp_path.glob("*.sqlite")) == []


def test_compute_without_a_cell_conductor_says_so_and_exits_1(tmp_path):
    if not RABBIT_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("STRATUS_TEST_RABBIT_URL is required in CI")
        pytest.skip("STRATUS_TEST_RABBIT_URL not set")
    (tmp_path / "stratus.conf").write_text(
        f"[DEFAULT]\ntransport_url = {RABBIT_URL}\nrpc_response_timeout = 2\n"
        f"control_exchange = stratus-test-{uuid.uuid4().hex}\n"
        "[oslo_messaging_rabbit]\namqp_auto_delete = true\n")
    result = subprocess.run([f"{BIN}/stratus", "compute", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "no cell conductor answered on topic 'cell_conductor' within 2s" in result.stderr
    assert list(tmp_path.glob("*.sqlite")) == []


@pytest.fixture(scope="module")
def placement(tmp_path_factory):
    running = start_placement(stratus_conf.load(
        None, {"state_dir": str(tmp_path_factory.mktemp("placement"))}))
    yield running
    stop_placement(running)


def test_compute_runs_fake_agents_that_register_and_map_themselves(tmp_path, placement):
    url = placement.url
    (tmp_path / "stratus.conf").write_text(
        "[DEFAULT]\nhost = cmp\nreport_interval = 1\n[compute]\ndatabase_access = direct\n"
        f"[placement]\nauth_type = admin_token\nendpoint = {url}\ntoken = admin\n"
        f"endpoint_override = {url}\n")
    manage(tmp_path, "db", "sync")
    manage(tmp_path, "cell_v2", "map_cell0")
    manage(tmp_path, "cell_v2", "create_cell", "--name", "cell1")
    proc = subprocess.Popen([f"{BIN}/stratus", "compute", "--state-dir", str(tmp_path),
                             "--fake-hosts", "3"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert _ready_line(proc).startswith("compute agent(s) cmp-1, cmp-2, cmp-3")
        providers = placement.get("/resource_providers").json()["resource_providers"]
        assert {"cmp-1", "cmp-2", "cmp-3"} <= {p["name"] for p in providers}
        cell = make_engine(f"sqlite:///{tmp_path}/cell1.sqlite")
        api = make_engine(f"sqlite:///{tmp_path}/api.sqlite")
        hosts = ["cmp-1", "cmp-2", "cmp-3"]
        with cell.connect() as conn:
            assert sorted(conn.execute(sa.select(compute_nodes.c.host)
                                       .where(compute_nodes.c.mapped == 1)).scalars()) == hosts
        with api.connect() as conn:
            assert sorted(conn.execute(sa.select(host_mappings.c.host)).scalars()) == hosts
        deadline = time.monotonic() + 10
        while True:  # heartbeats arrive every report_interval
            with cell.connect() as conn:
                beats = conn.execute(sa.select(sa.func.min(services.c.report_count))).scalar()
            if beats >= 2:
                break
            assert time.monotonic() < deadline, "no heartbeats"
            time.sleep(0.2)
        cell.dispose()
        api.dispose()
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        assert code == 0, proc.stderr.read()
