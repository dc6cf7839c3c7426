"""An index on instance_mappings (project_id, cell_id): listing asks which cells hold a
project's instances on every request, one index probe per cell.

Revision ID: api_0004
Revises: api_0003
"""

from alembic import op

revision = "api_0004"
down_revision = "api_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instance_mappings") as batch:
        batch.create_index("instance_mappings_project_id_cell_id_idx",
                           ["project_id", "cell_id"])
