"""Placement schema: providers, classes, inventories, allocations, consumers, traits, aggregates.

Revision ID: placement_0002
Revises: placement_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "placement_0002"
down_revision = "placement_0001"
branch_labels = None
depends_on = None

UUID = sa.String(36)
NAME = sa.String(255)


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False)]


def _named(table: str) -> None:
    """A table of (integer id, unique external name)."""
    key = "uuid" if table == "placement_aggregates" else (
        "external_id" if table in ("projects", "users") else "name")
    op.create_table(
        table,
        sa.Column("id", sa.Integer, primary_key=True,
                  autoincrement=table != "resource_classes"),
        sa.Column(key, UUID if key == "uuid" else NAME, nullable=False, unique=True),
        *_stamps())


def upgrade() -> None:
    op.create_table(
        "resource_providers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", UUID, nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("root_provider_id", sa.Integer, sa.ForeignKey("resource_providers.id")),
        sa.Column("parent_provider_id", sa.Integer, sa.ForeignKey("resource_providers.id")),
        *_stamps())
    op.create_index("ix_rp_root_provider_id", "resource_providers", ["root_provider_id"])
    op.create_index("ix_rp_parent_provider_id", "resource_providers", ["parent_provider_id"])
    for table in ("resource_classes", "projects", "users", "consumer_types", "traits",
                  "placement_aggregates"):
        _named(table)
    op.create_table(
        "inventories",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_provider_id", sa.Integer,
                  sa.ForeignKey("resource_providers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("resource_class_id", sa.Integer, nullable=False),
        *[sa.Column(name, sa.Integer, nullable=False)
          for name in ("total", "reserved", "min_unit", "max_unit", "step_size")],
        sa.Column("allocation_ratio", sa.Float, nullable=False),
        *_stamps(),
        sa.UniqueConstraint("resource_provider_id", "resource_class_id",
                            name="uniq_inventories_rp_rc"))
    op.create_index("ix_inventories_rc_rp", "inventories",
                    ["resource_class_id", "resource_provider_id"])
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_provider_id", sa.Integer, nullable=False),
        sa.Column("consumer_id", UUID, nullable=False),
        sa.Column("resource_class_id", sa.Integer, nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        *_stamps())
    op.create_index("ix_allocations_rp_rc_used", "allocations",
                    ["resource_provider_id", "resource_class_id", "used"])
    op.create_index("ix_allocations_consumer_id", "allocations", ["consumer_id"])
    op.create_index("ix_allocations_rc", "allocations", ["resource_class_id"])
    op.create_table(
        "consumers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", UUID, nullable=False, unique=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("consumer_type_id", sa.Integer, sa.ForeignKey("consumer_types.id")),
        *_stamps())
    op.create_index("ix_consumers_project_user", "consumers", ["project_id", "user_id"])
    op.create_index("ix_consumers_user", "consumers", ["user_id"])
    for table, other, other_table in (("resource_provider_traits", "trait_id", "traits"),
                                      ("resource_provider_aggregates", "aggregate_id",
                                       "placement_aggregates")):
        op.create_table(
            table,
            sa.Column("resource_provider_id", sa.Integer,
                      sa.ForeignKey("resource_providers.id", ondelete="CASCADE"),
                      primary_key=True),
            sa.Column(other, sa.Integer, sa.ForeignKey(f"{other_table}.id"),
                      primary_key=True),
            *_stamps())
    op.create_index("ix_rp_traits_trait_rp", "resource_provider_traits",
                    ["trait_id", "resource_provider_id"])
    op.create_index("ix_rp_aggregates_agg_rp", "resource_provider_aggregates",
                    ["aggregate_id", "resource_provider_id"])
