"""Baseline of the placement database: the schema starts empty and grows with its service.

Revision ID: placement_0001
Revises:
"""

revision = "placement_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
