"""Database backends for tests: SQLite always, PostgreSQL and MySQL when a server is named.

``STRATUS_TEST_POSTGRES_URL`` / ``STRATUS_TEST_MYSQL_URL`` name a server database the tests
may use to CREATE and DROP databases, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``
and ``mysql+pymysql://root@127.0.0.1:3306/mysql``. Without one, that backend's tests skip;
with ``CI=true`` a missing variable or unreachable server fails them instead, so CI can never
go green by silently testing SQLite alone.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from stratus import conf as stratus_conf
from stratus.conf.database import DATABASES, group_name

BACKENDS = ("sqlite", "postgresql", "mysql")
SERVER_URL_ENV = {
    "postgresql": "STRATUS_TEST_POSTGRES_URL",
    "mysql": "STRATUS_TEST_MYSQL_URL",
}
CONNECT_TIMEOUT_S = 5

# Server reachability, probed once per process: backend -> None (reachable) or the reason.
_probe_results: dict[str, str | None] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def server_url(backend: str) -> sa.URL:
    """The admin URL of ``backend``'s server; only call after ``db_backend`` accepted it."""
    return sa.make_url(os.environ[SERVER_URL_ENV[backend]])


def _admin_engine(backend: str) -> sa.Engine:
    # AUTOCOMMIT: CREATE/DROP DATABASE cannot run inside a transaction on PostgreSQL.
    return sa.create_engine(server_url(backend), isolation_level="AUTOCOMMIT",
                            poolclass=sa.NullPool,
                            connect_args={"connect_timeout": CONNECT_TIMEOUT_S})


def _probe(backend: str) -> str | None:
    if backend not in _probe_results:
        engine = _admin_engine(backend)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            _probe_results[backend] = None
        except Exception as exc:  # any failure to reach the server is reported the same way
            _probe_results[backend] = str(exc).splitlines()[0]
        finally:
            engine.dispose()
    return _probe_results[backend]


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """The backend under test: "sqlite", "postgresql" or "mysql"."""
    backend = request.param
    if backend == "sqlite":
        return backend
    env = SERVER_URL_ENV[backend]
    if not os.environ.get(env):
        if in_ci():
            pytest.fail(f"CI=true but {env} is not set; every backend must run in CI",
                        pytrace=False)
        pytest.skip(f"{env} not set")
    problem = _probe(backend)
    if problem is not None:
        # A URL that was given but does not answer is a broken setup, in CI or not.
        pytest.fail(f"{env} is set but the {backend} server is unreachable: {problem}",
                    pytrace=False)
    return backend


def _quote(backend: str, name: str) -> str:
    return f'"{name}"' if backend == "postgresql" else f"`{name}`"


def _create_database(conn: sa.Connection, backend: str, name: str) -> None:
    if backend == "mysql":
        conn.exec_driver_sql(f"CREATE DATABASE {_quote(backend, name)} CHARACTER SET utf8mb4")
    else:
        conn.exec_driver_sql(f"CREATE DATABASE {_quote(backend, name)}")


def _drop_database(conn: sa.Connection, backend: str, name: str) -> None:
    if backend == "postgresql":
        # FORCE ends sessions a test left open (PostgreSQL 13+).
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote(backend, name)} WITH (FORCE)")
        return
    # MySQL has no FORCE: a session left inside a transaction would block DROP on a
    # metadata lock forever, so end every session using the database first.
    ids = conn.execute(sa.text("SELECT id FROM information_schema.processlist "
                               "WHERE db = :db AND id <> CONNECTION_ID()"),
                       {"db": name}).scalars().all()
    for session_id in ids:
        with contextlib.suppress(sa.exc.DBAPIError):  # it may have ended meanwhile
            conn.exec_driver_sql(f"KILL {int(session_id)}")
    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote(backend, name)}")


@contextlib.contextmanager
def fresh_databases(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """One new, empty database per logical database; yields {name: url}; drops them after."""
    if backend == "sqlite":
        yield {name: f"sqlite:///{tmp_path / name}.sqlite" for name in DATABASES}
        return
    prefix = f"st_{uuid.uuid4().hex[:8]}"
    base = server_url(backend)
    engine = _admin_engine(backend)
    created: list[str] = []
    try:
        with engine.connect() as conn:
            for name in DATABASES:
                db_name = f"{prefix}_{name}"
                _create_database(conn, backend, db_name)
                created.append(db_name)
        yield {name: base.set(database=f"{prefix}_{name}").render_as_string(hide_password=False)
               for name in DATABASES}
    finally:
        with engine.connect() as conn:
            for db_name in created:
                _drop_database(conn, backend, db_name)
        engine.dispose()


@pytest.fixture
def backend_conf(db_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A loaded Stratus conf whose seven databases are fresh, empty ones on ``db_backend``."""
    # Keep load() from reading a stratus.conf under the caller's ./stratus-data.
    monkeypatch.setenv("STRATUS_STATE_DIR", str(tmp_path))
    with fresh_databases(db_backend, tmp_path) as urls:
        overrides = {f"{group_name(name)}.connection": url for name, url in urls.items()}
        overrides["state_dir"] = str(tmp_path)
        yield stratus_conf.load(None, overrides=overrides)


def database_urls(conf) -> dict[str, str]:
    """{logical database name: connection URL} of ``conf``."""
    return {name: conf[group_name(name)].connection for name in DATABASES}


@pytest.fixture
def backend_urls(backend_conf) -> dict[str, str]:
    """The connection URLs of ``backend_conf``'s seven databases, by logical name."""
    return database_urls(backend_conf)
