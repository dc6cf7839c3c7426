"""Database engines, one per logical database, with the dialect settings Stratus relies on."""

from __future__ import annotations

import os
import sqlite3
import threading

import sqlalchemy as sa
from oslo_config import cfg

from stratus.conf.database import DATABASES, group_name


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20,
                busy_timeout_ms: int = 30000, echo: bool = False) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and a write queue."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, pool_size, max_overflow, busy_timeout_ms, echo)
    kwargs = dict(pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True, echo=echo)
    if parsed.get_backend_name() == "mysql":
        # MySQL closes idle connections after wait_timeout; recycle before that.
        kwargs["pool_recycle"] = 3600
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return sa.create_engine(parsed, **kwargs)


class _WriteQueue:
    """The writers of one SQLite engine in this process, taking the write lock in turn.

    SQLite's own wait for its lock is a sleep-and-retry loop (up to 100 ms per sleep), so
    under many concurrent writers the lock sits free while they sleep, and the writes of
    a busy all-in-one crawl. Writers that begin IMMEDIATE first take this lock, held
    until their COMMIT or ROLLBACK has run: the next one starts the moment the last ends.
    Other processes writing the same file still meet SQLite's busy timeout, as before.
    """

    def __init__(self, timeout_s: float):
        self._lock = threading.Lock()
        self._timeout_s = timeout_s
        self._holder: object | None = None  # the DBAPI connection in a write transaction

    def enter(self, dbapi_conn: object) -> None:
        if not self._lock.acquire(timeout=self._timeout_s):
            raise sa.exc.OperationalError(
                "BEGIN IMMEDIATE", None,
                sqlite3.OperationalError("database is locked (writers queued in this "
                                         f"process for {self._timeout_s:g}s)"))
        self._holder = dbapi_conn

    def leave(self, dbapi_conn: object | None) -> None:
        """End ``dbapi_conn``'s turn, if it is the writer; anything else is a no-op."""
        if dbapi_conn is not None and dbapi_conn is self._holder:
            self._holder = None
            self._lock.release()


def _raw(connection: object) -> object:
    """The DBAPI connection behind a pool proxy (or the DBAPI connection itself)."""
    return getattr(connection, "dbapi_connection", connection)


def _sqlite_engine(url: sa.URL, pool_size: int, max_overflow: int, busy_timeout_ms: int,
                   echo: bool) -> sa.Engine:
    path = url.database
    kwargs: dict = {}
    if path and path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        kwargs = dict(pool_size=pool_size, max_overflow=max_overflow)
    engine = sa.create_engine(url, echo=echo,
                              connect_args={"timeout": busy_timeout_ms / 1000.0,
                                            "check_same_thread": False}, **kwargs)
    queue = _WriteQueue(busy_timeout_ms / 1000.0)
    dialect = engine.dialect
    dialect_commit, dialect_rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(connection) -> None:
        try:
            dialect_commit(connection)
        finally:
            queue.leave(_raw(connection))

    def do_rollback(connection) -> None:
        try:
            dialect_rollback(connection)
        finally:
            queue.leave(_raw(connection))

    # This engine's own dialect instance: the one its pool resets connections with too.
    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback

    @sa.event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_conn, _record, _exception):
        queue.leave(dbapi_conn)

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
        if not conn.get_execution_options().get(IMMEDIATE, False):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_conn = _raw(conn.connection)
        queue.enter(dbapi_conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            queue.leave(dbapi_conn)
            raise

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
