"""The state one placement process shares between requests: config, engine, policy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common import db
from stratus.common.policy import Policy
from stratus.placement import resource_classes, traits


class PlacementService:
    """What every placement handler reaches through ``req.service``."""

    def __init__(self, conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy):
        self.conf = conf
        self.engine = engine
        self.policy = policy
        self._writer = db.writer(engine)

    def ensure_standards(self) -> None:
        """Write the standard resource classes and traits this release knows (idempotent)."""
        with self.engine.begin() as conn:
            resource_classes.ensure_standard(conn)
            traits.ensure_standard(conn)

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction; on SQLite it holds the write lock from BEGIN (IMMEDIATE).

        SQLite's deferred BEGIN would let two writers read, then fail the later one with
        SQLITE_BUSY when it tries to write; taking the lock at BEGIN makes the second
        writer wait (busy timeout) instead, so writers queue like row locks elsewhere.
        """
        with self._writer.begin() as conn:
            yield conn
