"""Baseline of the image database: the schema starts empty and grows with its service.

Revision ID: image_0001
Revises:
"""

revision = "image_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
