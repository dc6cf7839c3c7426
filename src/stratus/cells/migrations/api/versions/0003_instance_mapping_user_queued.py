"""instance_mappings.user_id and queued_for_delete, NULL on older rows until
`stratus-manage db online_data_migrations` fills them from the instance's cell.

Revision ID: api_0003
Revises: api_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "api_0003"
down_revision = "api_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instance_mappings") as batch:
        batch.add_column(sa.Column("user_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("queued_for_delete", sa.Boolean, nullable=True))
        batch.create_index("instance_mappings_user_id_project_id_idx",
                           ["user_id", "project_id"])
