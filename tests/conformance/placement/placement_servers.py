"""Live Placement servers for the conformance run: OpenStack's own, and Stratus's.

Each target starts one server per YAML file on a fresh database, configured with the
:class:`~reproducers.ServerSettings` the file's fixtures ask for, and stops it afterwards.

- ``openstack``: OpenStack Placement 16.0.0 under gunicorn from its own virtualenv, cached
  under ``~/.cache/stratus-conformance`` (built on first use; ``STRATUS_CONFORMANCE_CACHE``
  moves it). Its database is a copy of one synced template, so each file starts empty.
- ``stratus-<backend>``: Stratus placement on SQLite, PostgreSQL or MySQL.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa
import yaml
from reproducers import ServerSettings

from stratus import conf as stratus_conf
from stratus.common.db import Databases, make_engine, migration
from stratus.common.policy import Policy
from stratus.common.wsgi.server import Server
from stratus.placement import app as placement_app

PLACEMENT_RELEASE = "16.0.0"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10


@dataclass
class RunningServer:
    """A server answering at ``url`` (no trailing slash); ``stop()`` ends it and its database."""

    url: str
    stops: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        for stop in self.stops:
            stop()


def stop_process(process: subprocess.Popen) -> None:
    """SIGINT the server's process group (quick shutdown), SIGKILL it if it will not go."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cache_dir() -> Path:
    return Path(os.environ.get("STRATUS_CONFORMANCE_CACHE",
                               Path.home() / ".cache" / "stratus-conformance"))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (pytest-xdist workers share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_policy_rules() -> dict[str, str]:
    """OpenPolicyFixture's rules: every Placement rule but ``admin_api`` allows anyone."""
    from placement import policies  # the reference package from the test extra

    return {rule.name: "@" for rule in policies.list_rules() if rule.name != "admin_api"}


def ini(sections: dict[str, dict[str, str]]) -> str:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


def common_sections(settings: ServerSettings, workdir: Path) -> dict[str, dict[str, str]]:
    """The CORS and policy configuration both implementations read (oslo.middleware/policy)."""
    sections: dict[str, dict[str, str]] = {
        "oslo_policy": {"enforce_new_defaults": str(settings.enforce_new_defaults)},
    }
    if settings.open_policy:
        policy_file = workdir / "policy.yaml"
        policy_file.write_text(yaml.safe_dump(open_policy_rules()))
        sections["oslo_policy"]["policy_file"] = str(policy_file)
    if settings.cors_allowed_origins:
        sections["cors"] = {"allowed_origin": ",".join(settings.cors_allowed_origins),
                            "allow_headers": ",".join(settings.cors_allow_headers)}
    return sections


def wait_until_serving(process: subprocess.Popen, log_path: Path, url: str) -> None:
    """Wait for ``GET url/`` to answer 200, failing early if the process dies."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/", timeout=5).status_code == 200:
                return
        time.sleep(0.05)
    stop_process(process)
    raise RuntimeError(f"server at {url} not ready within {START_TIMEOUT_S}s:\n"
                       f"{log_path.read_text(errors='replace')[-3000:]}")


def listening_port(process: subprocess.Popen, log_path: Path, pattern: str) -> int:
    """Read the port a server bound to port 0 reports in its log."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = re.search(pattern, log_path.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    stop_process(process)
    raise RuntimeError(f"server did not report its port:\n"
                       f"{log_path.read_text(errors='replace')[-3000:]}")


def spawn(argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - the child keeps writing after we return
    try:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                start_new_session=True)
    finally:
        log.close()


class OpenStackPlacement:
    """OpenStack Placement 16.0.0 under gunicorn, from a cached virtualenv of its own."""

    name = "openstack"

    def __init__(self) -> None:
        self.venv = cache_dir() / f"placement-{PLACEMENT_RELEASE}"
        self.python = self.venv / "bin" / "python"
        self.template_db: Path | None = None

    def prepare(self, workdir: Path) -> None:
        """Build the virtualenv once per machine and a synced template database once per run."""
        with locked(cache_dir() / "placement-venv.lock"):
            if not (self.venv / ".complete").exists():
                shutil.rmtree(self.venv, ignore_errors=True)
                subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
                subprocess.run([str(self.python), "-m", "pip", "install", "-q",
                                f"openstack-placement=={PLACEMENT_RELEASE}", "gunicorn"],
                               check=True)
                (self.venv / ".complete").touch()
        self.template_db = workdir / "template.db"
        conf = workdir / "template.conf"
        conf.write_text(ini({"placement_database": {
            "connection": f"sqlite:///{self.template_db}"}}))
        subprocess.run([str(self.python), "-c", "from placement.cmd.manage import main; main()",
                        "--config-file", str(conf), "db", "sync"], check=True,
                       capture_output=True)

    def start(self, settings: ServerSettings, workdir: Path) -> RunningServer:
        assert self.template_db is not None, "prepare() first"
        db = workdir / "placement.db"
        shutil.copyfile(self.template_db, db)
        sections = {"placement_database": {"connection": f"sqlite:///{db}"},
                    "api": {"auth_strategy": "noauth2"},
                    **common_sections(settings, workdir)}
        (workdir / "placement.conf").write_text(ini(sections))
        log_path = workdir / "server.log"
        process = spawn([str(self.python), "-m", "gunicorn", "-w", "1", "--threads", "4",
                         "-b", "127.0.0.1:0", "--no-control-socket",
                         "--env", f"OS_PLACEMENT_CONFIG_DIR={workdir}",
                         "placement.wsgi.api:application"], log_path)
        port = listening_port(process, log_path, r"Listening at: http://127\.0\.0\.1:(\d+)")
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(process, log_path, url)
        return RunningServer(url, [lambda: stop_process(process)])


SERVER_URL_ENV = {"postgresql": "STRATUS_TEST_POSTGRES_URL", "mysql": "STRATUS_TEST_MYSQL_URL"}


class ScratchDatabase:
    """A new, empty database on a PostgreSQL or MySQL server, dropped by ``drop()``."""

    def __init__(self, backend: str):
        env = SERVER_URL_ENV[backend]
        if not os.environ.get(env):
            raise RuntimeError(f"{env} must name a {backend} server for stratus-{backend}")
        self.backend = backend
        self.server = sa.make_url(os.environ[env])
        self.name = f"st_conf_{uuid.uuid4().hex[:12]}"
        self._execute(f"CREATE DATABASE {self.name}"
                      + (" CHARACTER SET utf8mb4" if backend == "mysql" else ""))

    @property
    def url(self) -> str:
        return self.server.set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        force = " WITH (FORCE)" if self.backend == "postgresql" else ""
        self._execute(f"DROP DATABASE IF EXISTS {self.name}{force}")

    def _execute(self, statement: str) -> None:
        engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT",
                                  poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()


class StratusPlacement:
    """Stratus placement, in this process, on a real socket under the cheroot server.

    Built exactly as ``stratus placement`` builds it (``make_service`` + ``make_app``) from
    a configuration file, so each file pays for a fresh database and app, not for a new
    interpreter. SQLite files start as copies of one migrated template.
    """

    def __init__(self, backend: str):
        self.backend = backend
        self.template_db: Path | None = None

    def prepare(self, workdir: Path) -> None:
        if self.backend == "sqlite":
            self.template_db = workdir / "template.sqlite"
            engine = make_engine(f"sqlite:///{self.template_db}")
            try:
                migration.sync("placement", engine)
            finally:
                engine.dispose()

    def start(self, settings: ServerSettings, workdir: Path) -> RunningServer:
        stops: list[Callable[[], None]] = []
        if self.backend == "sqlite":
            db_path = workdir / "placement.sqlite"
            shutil.copyfile(self.template_db, db_path)
            url = f"sqlite:///{db_path}"
        else:
            scratch = ScratchDatabase(self.backend)
            stops.append(scratch.drop)
            url = scratch.url
        sections = {"placement_database": {"connection": url},
                    "placement": {"auth_strategy": "noauth2"},
                    **common_sections(settings, workdir)}
        conf_file = workdir / "stratus.conf"
        conf_file.write_text(ini(sections))
        conf = stratus_conf.load(argparse.Namespace(
            config_file=[str(conf_file)], config_dir=None, state_dir=str(workdir), debug=None))
        databases = Databases(conf)
        stops.insert(0, databases.dispose)
        try:
            engine = databases.engine("placement")
            if migration.current(engine) != migration.head("placement"):
                migration.sync("placement", engine)
            service = placement_app.make_service(conf, engine, Policy(conf))
            # At the root, as the YAML expects (links are built from SCRIPT_NAME): what
            # stratus.placement.wsgi:application is under any WSGI server.
            app = placement_app.make_app(conf, service)
            server = Server(app, "127.0.0.1", 0, threads=4)
            server.start()
        except BaseException:
            RunningServer("", stops).stop()
            raise
        stops.insert(0, server.stop)
        return RunningServer(f"http://127.0.0.1:{server.port}", stops)
