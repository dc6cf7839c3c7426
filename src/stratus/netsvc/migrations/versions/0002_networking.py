"""Network schema: networks, subnets, subnet pools, ports and their addresses, routers,
security groups, auto-allocated topologies and quotas.

Revision ID: network_0002
Revises: network_0001

The tables are created from ``stratus.netsvc.schema`` as it stood at this revision; a
later change to a table is a migration of its own (and must then freeze this one's copy).
"""

from alembic import op

from stratus.netsvc import schema

revision = "network_0002"
down_revision = "network_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.metadata.create_all(op.get_bind())
