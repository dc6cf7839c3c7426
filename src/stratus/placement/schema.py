"""Tables of the placement database (SQLAlchemy Core).

Providers, classes, traits, aggregates, projects, users and consumer types carry an
integer surrogate key so the hot joins (inventories x allocations x traits x aggregates)
compare integers; the external identifiers (UUIDs, names) live in one unique column each.

Standard resource classes keep the id ``index in os_resource_classes.STANDARDS + 1``
for ever (that list only grows at its end); custom classes get ids from
``CUSTOM_CLASS_ID_BASE`` up, so the two never collide.
"""

import sqlalchemy as sa

metadata = sa.MetaData()

UUID = sa.String(36)
NAME = sa.String(255)
CUSTOM_CLASS_ID_BASE = 10000


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False)]


resource_providers = sa.Table(
    "resource_providers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uuid", UUID, nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("generation", sa.Integer, nullable=False, default=0),
    # Root of the provider's tree (itself for a root); never NULL once written.
    sa.Column("root_provider_id", sa.Integer, sa.ForeignKey("resource_providers.id")),
    sa.Column("parent_provider_id", sa.Integer, sa.ForeignKey("resource_providers.id")),
    *_timestamps(),
    sa.Index("ix_rp_root_provider_id", "root_provider_id"),
    sa.Index("ix_rp_parent_provider_id", "parent_provider_id"),
)

resource_classes = sa.Table(
    "resource_classes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", NAME, nullable=False, unique=True),
    *_timestamps(),
)

inventories = sa.Table(
    "inventories", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("resource_provider_id", sa.Integer,
              sa.ForeignKey("resource_providers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("resource_class_id", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False),
    sa.Column("min_unit", sa.Integer, nullable=False),
    sa.Column("max_unit", sa.Integer, nullable=False),
    sa.Column("step_size", sa.Integer, nullable=False),
    sa.Column("allocation_ratio", sa.Float, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("resource_provider_id", "resource_class_id",
                        name="uniq_inventories_rp_rc"),
    # Candidates start from "who has class X": class first, then provider.
    sa.Index("ix_inventories_rc_rp", "resource_class_id", "resource_provider_id"),
)

allocations = sa.Table(
    "allocations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("resource_provider_id", sa.Integer, nullable=False),
    sa.Column("consumer_id", UUID, nullable=False),
    sa.Column("resource_class_id", sa.Integer, nullable=False),
    sa.Column("used", sa.Integer, nullable=False),
    *_timestamps(),
    # Usage per (provider, class) is summed from this index alone.
    sa.Index("ix_allocations_rp_rc_used", "resource_provider_id", "resource_class_id", "used"),
    sa.Index("ix_allocations_consumer_id", "consumer_id"),
    sa.Index("ix_allocations_rc", "resource_class_id"),
)

def _named_table(table: str, key: str, key_type=NAME) -> sa.Table:
    """A table mapping an integer id to one unique external identifier."""
    return sa.Table(
        table, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(key, key_type, nullable=False, unique=True),
        *_timestamps(),
    )


projects = _named_table("projects", "external_id")
users = _named_table("users", "external_id")
consumer_types = _named_table("consumer_types", "name")

consumers = sa.Table(
    "consumers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uuid", UUID, nullable=False, unique=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False, default=0),
    sa.Column("consumer_type_id", sa.Integer, sa.ForeignKey("consumer_types.id")),
    *_timestamps(),
    sa.Index("ix_consumers_project_user", "project_id", "user_id"),
    sa.Index("ix_consumers_user", "user_id"),
)

traits = _named_table("traits", "name")

resource_provider_traits = sa.Table(
    "resource_provider_traits", metadata,
    sa.Column("resource_provider_id", sa.Integer,
              sa.ForeignKey("resource_providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("trait_id", sa.Integer, sa.ForeignKey("traits.id"), primary_key=True),
    *_timestamps(),
    sa.Index("ix_rp_traits_trait_rp", "trait_id", "resource_provider_id"),
)

placement_aggregates = _named_table("placement_aggregates", "uuid", UUID)

resource_provider_aggregates = sa.Table(
    "resource_provider_aggregates", metadata,
    sa.Column("resource_provider_id", sa.Integer,
              sa.ForeignKey("resource_providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("aggregate_id", sa.Integer, sa.ForeignKey("placement_aggregates.id"),
              primary_key=True),
    *_timestamps(),
    sa.Index("ix_rp_aggregates_agg_rp", "aggregate_id", "resource_provider_id"),
)
