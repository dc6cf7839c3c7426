"""Cell database at its first shape: instances, faults, actions and events, metadata, tags,
migrations, services and compute nodes.

Revision ID: cell_0002
Revises: cell_0001
"""

from alembic import op

from stratus.cells import schema_cell
from stratus.cells.schema_history import create_baseline

revision = "cell_0002"
down_revision = "cell_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_baseline(op.get_bind(), schema_cell.metadata, schema_cell.ADDED_AFTER_BASELINE,
                    schema_cell.TABLES_AFTER_BASELINE)
