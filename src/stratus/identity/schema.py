"""Tables of the identity database (SQLAlchemy Core)."""

import sqlalchemy as sa

metadata = sa.MetaData()

ID = sa.String(64)
NAME = sa.String(255)

domain = sa.Table(
    "domain", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", NAME, nullable=False, unique=True),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
)

project = sa.Table(
    "project", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("domain_id", ID, sa.ForeignKey("domain.id"), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.UniqueConstraint("domain_id", "name", name="uniq_project_domain_name"),
)

user = sa.Table(
    "user", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("domain_id", ID, sa.ForeignKey("domain.id"), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("password_hash", sa.String(255)),
    sa.Column("default_project_id", ID),
    sa.Column("email", NAME),
    sa.Column("description", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # Tokens issued before this instant are invalid (password change, disable).
    sa.Column("tokens_valid_after", sa.DateTime),
    sa.UniqueConstraint("domain_id", "name", name="uniq_user_domain_name"),
)

role = sa.Table(
    "role", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", NAME, nullable=False, unique=True),
    sa.Column("description", sa.Text),
)

implied_role = sa.Table(
    "implied_role", metadata,
    sa.Column("prior_role_id", ID, sa.ForeignKey("role.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("implied_role_id", ID, sa.ForeignKey("role.id", ondelete="CASCADE"),
              primary_key=True),
)

role_assignment = sa.Table(
    "role_assignment", metadata,
    sa.Column("user_id", ID, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("project_id", ID, sa.ForeignKey("project.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("role_id", ID, sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)

region = sa.Table(
    "region", metadata,
    sa.Column("id", NAME, primary_key=True),
    sa.Column("description", sa.Text),
)

service = sa.Table(
    "service", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("type", NAME, nullable=False),
    sa.Column("name", NAME),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
)

endpoint = sa.Table(
    "endpoint", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("service_id", ID, sa.ForeignKey("service.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("interface", sa.String(8), nullable=False),
    sa.Column("region_id", NAME, sa.ForeignKey("region.id")),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
)

revoked_token = sa.Table(
    "revoked_token", metadata,
    sa.Column("audit_id", sa.String(32), primary_key=True),
    # Kept until the token would have expired anyway; then it can be purged.
    sa.Column("expires_at", sa.DateTime, nullable=False),
)
