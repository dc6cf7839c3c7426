"""Database engines, one per logical database, with the dialect settings Stratus relies on."""

from __future__ import annotations

import os
import threading

import sqlalchemy as sa
from oslo_config import cfg

from stratus.conf.database import DATABASES, group_name


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20,
                busy_timeout_ms: int = 30000, echo: bool = False) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout_ms, echo)
    kwargs = dict(pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True, echo=echo)
    if parsed.get_backend_name() == "mysql":
        # MySQL closes idle connections after wait_timeout; recycle before that.
        kwargs["pool_recycle"] = 3600
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return sa.create_engine(parsed, **kwargs)


def _sqlite_engine(url: sa.URL, busy_timeout_ms: int, echo: bool) -> sa.Engine:
    path = url.database
    if path and path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    engine = sa.create_engine(url, echo=echo,
                              connect_args={"timeout": busy_timeout_ms / 1000.0,
                                            "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite's own transaction handling is replaced by SQLAlchemy's BEGIN below,
        # so a transaction really starts where the code says it does.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if path and path != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer that reads first must take the write lock at BEGIN (IMMEDIATE): a
        # deferred transaction upgrading to write after another commit fails at once
        # with "database is locked" instead of waiting. See :func:`writer`.
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


IMMEDIATE = "stratus_sqlite_immediate"


def writer(engine: sa.Engine) -> sa.Engine:
    """``engine`` for transactions that read, then write: on SQLite they begin IMMEDIATE,
    queueing behind other writers; other databases are unaffected (they lock rows)."""
    return engine.execution_options(**{IMMEDIATE: True})


class Databases:
    """The engines of one process, made on first use from ``[<name>_database]`` options."""

    def __init__(self, conf: cfg.ConfigOpts):
        self._conf = conf
        self._engines: dict[str, sa.Engine] = {}
        self._lock = threading.Lock()

    def url(self, name: str) -> str:
        return self._group(name).connection

    def engine(self, name: str) -> sa.Engine:
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                group = self._group(name)
                engine = make_engine(group.connection, pool_size=group.pool_size,
                                     max_overflow=group.max_overflow,
                                     busy_timeout_ms=group.busy_timeout_ms,
                                     echo=group.connection_debug)
                self._engines[name] = engine
            return engine

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def _group(self, name: str):
        if name not in DATABASES:
            raise KeyError(f"unknown database {name!r}; known: {', '.join(DATABASES)}")
        return self._conf[group_name(name)]
