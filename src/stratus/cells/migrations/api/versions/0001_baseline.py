"""Baseline of the api database: the schema starts empty and grows with its service.

Revision ID: api_0001
Revises:
"""

revision = "api_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
