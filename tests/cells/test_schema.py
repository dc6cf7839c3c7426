"""The api and cell migration trees build exactly the tables of schema_api / schema_cell."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from stratus.cells import schema_api, schema_cell
from stratus.common.db import make_engine, migration
from stratus.conf.database import group_name


def _diff(url: str, name: str, metadata: sa.MetaData) -> list:
    engine = make_engine(url)
    try:
        migration.sync(name, engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_migrated_api_database_matches_schema_api(backend_conf):
    assert _diff(backend_conf[group_name("api")].connection, "api", schema_api.metadata) == []


def test_migrated_cell_database_matches_schema_cell(backend_conf):
    url = backend_conf[group_name("cell1")].connection
    assert _diff(url, "cell1", schema_cell.metadata) == []


def test_api_baseline_has_instance_mappings_without_later_columns(backend_conf):
    """api_0002 is the older shape online data migrations start from; api_0003 adds to it."""
    engine = make_engine(backend_conf[group_name("api")].connection)
    try:
        migration.sync("api", engine, "api_0002")
        before = {c["name"] for c in sa.inspect(engine).get_columns("instance_mappings")}
        migration.sync("api", engine)
        after = {c["name"] for c in sa.inspect(engine).get_columns("instance_mappings")}
    finally:
        engine.dispose()
    assert "user_id" not in before and "queued_for_delete" not in before
    assert after - before == {"user_id", "queued_for_delete"}
