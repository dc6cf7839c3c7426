"""The placement migrations build exactly the tables placement/schema.py describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from stratus.common.db import Databases, migration
from stratus.placement import schema


def test_migrated_database_matches_the_schema_module(backend_conf):
    databases = Databases(backend_conf)
    try:
        engine = databases.engine("placement")
        migration.sync("placement", engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(context, schema.metadata)
                    if not (isinstance(d, tuple) and d[0] == "remove_table"
                            and d[1].name == "alembic_version")]
        assert diff == []
    finally:
        databases.dispose()
