"""Alembic migrations per logical database: where each lives, sync, and current revision."""

from __future__ import annotations

import importlib.resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

# Which migration tree each logical database uses; cell databases share one.
MIGRATION_TREES = {
    "identity": ("stratus.identity", "migrations"),
    "api": ("stratus.cells", "migrations/api"),
    "cell0": ("stratus.cells", "migrations/cell"),
    "cell1": ("stratus.cells", "migrations/cell"),
    "placement": ("stratus.placement", "migrations"),
    "image": ("stratus.imagesvc", "migrations"),
    "network": ("stratus.netsvc", "migrations"),
}


def _alembic_config(name: str, connection: sa.Connection | None = None) -> Config:
    package, subdir = MIGRATION_TREES[name]
    location = importlib.resources.files(package).joinpath(subdir)
    config = Config()
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    return config


def head(name: str) -> str | None:
    """The newest revision of ``name``'s migration tree."""
    return ScriptDirectory.from_config(_alembic_config(name)).get_current_head()


def current(engine: sa.Engine) -> str | None:
    """The revision ``engine``'s database is at, or None if never synced."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def at_head(name: str, engine: sa.Engine) -> bool:
    """Whether ``engine``'s database is at the newest revision of ``name``'s tree."""
    return current(engine) == head(name)


def sync(name: str, engine: sa.Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade ``name``'s database to ``revision``; returns (before, after)."""
    before = current(engine)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(name, conn), revision)
    return before, current(engine)


def run_env() -> None:
    """Body of every migration tree's env.py: run on the connection the caller passed."""
    from alembic import context

    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=None,
                      render_as_batch=connection.dialect.name == "sqlite")
    context.run_migrations()
