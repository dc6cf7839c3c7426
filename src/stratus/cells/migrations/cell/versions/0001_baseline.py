"""Baseline of the cell database: the schema starts empty and grows with its service.

Revision ID: cell_0001
Revises:
"""

revision = "cell_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
