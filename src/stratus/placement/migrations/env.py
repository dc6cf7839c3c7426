"""Alembic environment: every Stratus migration tree runs the same way."""

from stratus.common.db.migration import run_env

run_env()
