"""A fresh in-memory network database per test, with the netsvc tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stratus.netsvc import schema


@pytest.fixture
def engine() -> sa.Engine:
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    schema.metadata.create_all(engine)
    yield engine
    engine.dispose()
