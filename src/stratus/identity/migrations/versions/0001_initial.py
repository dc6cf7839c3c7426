"""Identity schema: domains, projects, users, roles, assignments, catalog, revocations.

Revision ID: identity_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
NAME = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "domain",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", NAME, nullable=False, unique=True),
        sa.Column("description", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "project",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("domain_id", ID, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.UniqueConstraint("domain_id", "name", name="uniq_project_domain_name"),
    )
    op.create_table(
        "user",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("domain_id", ID, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("default_project_id", ID),
        sa.Column("email", NAME),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("tokens_valid_after", sa.DateTime),
        sa.UniqueConstraint("domain_id", "name", name="uniq_user_domain_name"),
    )
    op.create_table(
        "role",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", NAME, nullable=False, unique=True),
        sa.Column("description", sa.Text),
    )
    op.create_table(
        "implied_role",
        sa.Column("prior_role_id", ID, sa.ForeignKey("role.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("implied_role_id", ID, sa.ForeignKey("role.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "role_assignment",
        sa.Column("user_id", ID, sa.ForeignKey("user.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("project_id", ID, sa.ForeignKey("project.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("role_id", ID, sa.ForeignKey("role.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "region",
        sa.Column("id", NAME, primary_key=True),
        sa.Column("description", sa.Text),
    )
    op.create_table(
        "service",
        sa.Column("id", ID, primary_key=True),
        sa.Column("type", NAME, nullable=False),
        sa.Column("name", NAME),
        sa.Column("description", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "endpoint",
        sa.Column("id", ID, primary_key=True),
        sa.Column("service_id", ID, sa.ForeignKey("service.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("interface", sa.String(8), nullable=False),
        sa.Column("region_id", NAME, sa.ForeignKey("region.id")),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "revoked_token",
        sa.Column("audit_id", sa.String(32), primary_key=True),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
