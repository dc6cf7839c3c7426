"""instance_info_caches: each instance's network info as its compute host last wrote it.

Revision ID: cell_0003
Revises: cell_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "cell_0003"
down_revision = "cell_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_info_caches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("instance_uuid", sa.String(36),
                  sa.ForeignKey("instances.uuid", ondelete="CASCADE"), nullable=False),
        sa.Column("network_info", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("deleted_at", sa.DateTime),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("instance_uuid", name="uniq_instance_info_caches0instance_uuid"),
    )
