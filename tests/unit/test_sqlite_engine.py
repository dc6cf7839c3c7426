"""The SQLite engine from make_engine: WAL, enforced foreign keys, and writers that wait."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from stratus.common.db import make_engine, writer

metadata = sa.MetaData()
parent = sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
child = sa.Table(
    "child", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id"), nullable=False),
)

HOLD_LOCK_S = 0.3


@pytest.fixture
def file_engine(tmp_path):
    def make(busy_timeout_ms: int = 5000) -> sa.Engine:
        engine = make_engine(f"sqlite:///{tmp_path / 'test.sqlite'}",
                             busy_timeout_ms=busy_timeout_ms)
        metadata.create_all(engine)
        engines.append(engine)
        return engine

    engines: list[sa.Engine] = []
    yield make
    for engine in engines:
        engine.dispose()


def pragma(engine: sa.Engine, name: str):
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_file_database_uses_wal_foreign_keys_and_configured_busy_timeout(file_engine):
    engine = file_engine(busy_timeout_ms=1234)

    assert pragma(engine, "journal_mode") == "wal"
    assert pragma(engine, "foreign_keys") == 1
    assert pragma(engine, "busy_timeout") == 1234


def test_foreign_key_violation_raises_integrity_error(file_engine):
    engine = file_engine()

    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        with engine.begin() as conn:
            conn.execute(child.insert().values(id=1, parent_id=42))


def write_while_another_writer_holds_the_lock(engine: sa.Engine) -> list[BaseException]:
    """Writer 1 inserts and holds its transaction open; writer 2 inserts meanwhile."""
    holding = threading.Event()
    errors: list[BaseException] = []

    def first_writer():
        try:
            with engine.begin() as conn:
                conn.execute(parent.insert().values(id=1))
                holding.set()
                time.sleep(HOLD_LOCK_S)
        except BaseException as exc:
            errors.append(exc)
        finally:
            holding.set()

    def second_writer():
        holding.wait(timeout=10)
        try:
            with engine.begin() as conn:
                conn.execute(parent.insert().values(id=2))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_concurrent_writers_wait_for_the_lock_instead_of_failing(file_engine):
    engine = file_engine(busy_timeout_ms=5000)

    errors = write_while_another_writer_holds_the_lock(engine)

    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(parent.c.id).order_by(parent.c.id)).scalars().all() == [1, 2]


def test_without_busy_timeout_the_same_writers_collide(file_engine):
    """Control for the test above: its setup really does contend for the write lock."""
    engine = file_engine(busy_timeout_ms=0)

    errors = write_while_another_writer_holds_the_lock(engine)

    assert len(errors) == 1
    assert "database is locked" in str(errors[0])


counter = sa.Table("counter", metadata, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("value", sa.Integer, nullable=False))


def test_queued_writers_read_then_write_without_losing_an_update(file_engine):
    """Immediate writers take turns: 16 threads x 25 read-modify-write increments."""
    engine = file_engine(busy_timeout_ms=30000)
    with engine.begin() as conn:
        conn.execute(counter.insert().values(id=1, value=0))
    writes = writer(engine)
    errors: list[BaseException] = []

    def increment():
        try:
            for _ in range(25):
                with writes.begin() as conn:
                    value = conn.execute(sa.select(counter.c.value)).scalar_one()
                    conn.execute(counter.update().values(value=value + 1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(counter.c.value)).scalar_one() == 400


def test_a_rolled_back_or_invalidated_writer_hands_on_its_turn(file_engine):
    engine = file_engine(busy_timeout_ms=2000)
    writes = writer(engine)
    with pytest.raises(RuntimeError):
        with writes.begin() as conn:
            conn.execute(parent.insert().values(id=1))
            raise RuntimeError("abandon the transaction")
    conn = writes.connect()
    conn.begin()
    conn.execute(parent.insert().values(id=2))
    conn.invalidate()
    conn.close()
    started = time.monotonic()
    with writes.begin() as conn:
        conn.execute(parent.insert().values(id=3))
    assert time.monotonic() - started < 1.0
    with engine.connect() as conn:
        assert conn.execute(sa.select(parent.c.id)).scalars().all() == [3]


def test_a_writer_waiting_past_the_busy_timeout_gets_database_is_locked(file_engine):
    engine = file_engine(busy_timeout_ms=300)
    writes = writer(engine)
    with writes.begin() as holder:
        holder.execute(parent.insert().values(id=1))
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            with writes.begin() as conn:
                conn.execute(parent.insert().values(id=2))
    with engine.connect() as conn:
        assert conn.execute(sa.select(parent.c.id)).scalars().all() == [1]
