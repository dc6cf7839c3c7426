"""API database at its first shape: mappings, request specs, build requests, flavors, key pairs,
quotas, server groups and aggregates (instance_mappings without user_id/queued_for_delete).

Revision ID: api_0002
Revises: api_0001
"""

from alembic import op

from stratus.cells import schema_api
from stratus.cells.schema_history import create_baseline

revision = "api_0002"
down_revision = "api_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_baseline(op.get_bind(), schema_api.metadata, schema_api.ADDED_AFTER_BASELINE)
