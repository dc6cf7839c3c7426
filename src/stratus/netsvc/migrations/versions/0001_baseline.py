"""Baseline of the network database: the schema starts empty and grows with its service.

Revision ID: network_0001
Revises:
"""

revision = "network_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
