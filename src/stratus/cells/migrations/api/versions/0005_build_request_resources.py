"""build_requests.vcpus and memory_mb: quota counts pending servers with one SUM query
instead of parsing every build request's instance. NULL on rows written before this
revision; the count falls back to their instance JSON.

Revision ID: api_0005
Revises: api_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "api_0005"
down_revision = "api_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("build_requests") as batch:
        batch.add_column(sa.Column("vcpus", sa.Integer, nullable=True))
        batch.add_column(sa.Column("memory_mb", sa.Integer, nullable=True))
