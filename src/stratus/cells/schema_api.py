"""Tables of the API database (SQLAlchemy Core): mappings, build requests, flavors, quotas ...

This module is the schema at the newest revision of ``migrations/api``. Columns that a later
revision added are listed in ``ADDED_AFTER_BASELINE`` so the baseline revision can create the
older shape (see ``stratus.cells.schema_history``).
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

UUID = sa.String(36)
NAME = sa.String(255)
# Serialised objects (request specs, build requests) can exceed MySQL's 64 KiB TEXT.
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")

# The uuid Nova gives cell0, and the transport URL that says "no RPC to this cell".
CELL0_UUID = "00000000-0000-0000-0000-000000000000"
CELL0_NAME = "cell0"
CELL0_TRANSPORT_URL = "none:///"


def utcnow() -> datetime.datetime:
    """Naive UTC now: every timestamp column stores naive UTC."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime, nullable=False, default=utcnow),
            sa.Column("updated_at", sa.DateTime, onupdate=utcnow)]


cell_mappings = sa.Table(
    "cell_mappings", metadata,
    _id(),
    sa.Column("uuid", UUID, nullable=False),
    sa.Column("name", NAME),
    sa.Column("transport_url", sa.Text, nullable=False),
    sa.Column("database_connection", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    *_timestamps(),
    sa.UniqueConstraint("uuid", name="uniq_cell_mappings0uuid"),
)

host_mappings = sa.Table(
    "host_mappings", metadata,
    _id(),
    sa.Column("cell_id", sa.Integer, sa.ForeignKey("cell_mappings.id"), nullable=False),
    sa.Column("host", NAME, nullable=False),
    *_timestamps(),
    # One mapping per host: two discover_hosts racing collide here, not in a duplicate row.
    sa.UniqueConstraint("host", name="uniq_host_mappings0host"),
    sa.Index("host_mappings_cell_id_idx", "cell_id"),
)

instance_mappings = sa.Table(
    "instance_mappings", metadata,
    _id(),
    sa.Column("instance_uuid", UUID, nullable=False),
    # NULL until the instance lands in a cell (it is a build request until then).
    sa.Column("cell_id", sa.Integer, sa.ForeignKey("cell_mappings.id"), nullable=True),
    sa.Column("project_id", NAME, nullable=False),
    # Both added after the baseline and NULL on older rows until online_data_migrations
    # fills them from the instance's cell (populate_user_id, populate_queued_for_delete).
    sa.Column("user_id", NAME, nullable=True),
    sa.Column("queued_for_delete", sa.Boolean, nullable=True, default=False),
    *_timestamps(),
    sa.UniqueConstraint("instance_uuid", name="uniq_instance_mappings0instance_uuid"),
    sa.Index("instance_mappings_project_id_idx", "project_id"),
    sa.Index("instance_mappings_cell_id_idx", "cell_id"),
    sa.Index("instance_mappings_user_id_project_id_idx", "user_id", "project_id"),
    sa.Index("instance_mappings_project_id_cell_id_idx", "project_id", "cell_id"),
)

request_specs = sa.Table(
    "request_specs", metadata,
    _id(),
    sa.Column("instance_uuid", UUID, nullable=False),
    sa.Column("spec", LONG_TEXT, nullable=False),  # JSON
    *_timestamps(),
    sa.UniqueConstraint("instance_uuid", name="uniq_request_specs0instance_uuid"),
)

build_requests = sa.Table(
    "build_requests", metadata,
    _id(),
    sa.Column("instance_uuid", UUID, nullable=False),
    sa.Column("project_id", NAME, nullable=False),
    sa.Column("user_id", NAME, nullable=False),
    sa.Column("instance", LONG_TEXT, nullable=False),  # JSON: the instance-to-be
    sa.Column("block_device_mappings", LONG_TEXT),  # JSON list
    sa.Column("tags", sa.Text),  # JSON list
    # The instance's flavor sizes, for quota counting in SQL; NULL before api_0005.
    sa.Column("vcpus", sa.Integer),
    sa.Column("memory_mb", sa.Integer),
    *_timestamps(),
    sa.UniqueConstraint("instance_uuid", name="uniq_build_requests0instance_uuid"),
    sa.Index("build_requests_project_id_idx", "project_id"),
)

flavors = sa.Table(
    "flavors", metadata,
    _id(),
    sa.Column("flavorid", NAME, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("memory_mb", sa.Integer, nullable=False),
    sa.Column("vcpus", sa.Integer, nullable=False),
    sa.Column("root_gb", sa.Integer, nullable=False, default=0),
    sa.Column("ephemeral_gb", sa.Integer, nullable=False, default=0),
    sa.Column("swap", sa.Integer, nullable=False, default=0),
    sa.Column("rxtx_factor", sa.Float, nullable=False, default=1.0),
    sa.Column("vcpu_weight", sa.Integer),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("is_public", sa.Boolean, nullable=False, default=True),
    sa.Column("description", sa.Text),
    *_timestamps(),
    sa.UniqueConstraint("flavorid", name="uniq_flavors0flavorid"),
    sa.UniqueConstraint("name", name="uniq_flavors0name"),
)

flavor_extra_specs = sa.Table(
    "flavor_extra_specs", metadata,
    _id(),
    sa.Column("flavor_id", sa.Integer, sa.ForeignKey("flavors.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("key", NAME, nullable=False),
    sa.Column("value", NAME),
    *_timestamps(),
    sa.UniqueConstraint("flavor_id", "key", name="uniq_flavor_extra_specs0flavor_id0key"),
)

flavor_projects = sa.Table(
    "flavor_projects", metadata,
    _id(),
    sa.Column("flavor_id", sa.Integer, sa.ForeignKey("flavors.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("project_id", NAME, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("flavor_id", "project_id",
                        name="uniq_flavor_projects0flavor_id0project_id"),
)

key_pairs = sa.Table(
    "key_pairs", metadata,
    _id(),
    sa.Column("name", NAME, nullable=False),
    sa.Column("user_id", NAME, nullable=False),
    sa.Column("fingerprint", NAME),
    sa.Column("public_key", sa.Text),
    sa.Column("type", sa.String(16), nullable=False, default="ssh", server_default="ssh"),
    *_timestamps(),
    sa.UniqueConstraint("user_id", "name", name="uniq_key_pairs0user_id0name"),
)

quotas = sa.Table(
    "quotas", metadata,
    _id(),
    sa.Column("project_id", NAME, nullable=False),
    sa.Column("resource", NAME, nullable=False),
    sa.Column("hard_limit", sa.Integer),
    *_timestamps(),
    sa.UniqueConstraint("project_id", "resource", name="uniq_quotas0project_id0resource"),
)

project_user_quotas = sa.Table(
    "project_user_quotas", metadata,
    _id(),
    sa.Column("project_id", NAME, nullable=False),
    sa.Column("user_id", NAME, nullable=False),
    sa.Column("resource", NAME, nullable=False),
    sa.Column("hard_limit", sa.Integer),
    *_timestamps(),
    sa.UniqueConstraint("user_id", "project_id", "resource",
                        name="uniq_project_user_quotas0user_id0project_id0resource"),
    sa.Index("project_user_quotas_project_id_idx", "project_id"),
)

quota_classes = sa.Table(
    "quota_classes", metadata,
    _id(),
    sa.Column("class_name", NAME, nullable=False),
    sa.Column("resource", NAME, nullable=False),
    sa.Column("hard_limit", sa.Integer),
    *_timestamps(),
    sa.UniqueConstraint("class_name", "resource", name="uniq_quota_classes0class_name0resource"),
)

instance_groups = sa.Table(
    "instance_groups", metadata,
    _id(),
    sa.Column("uuid", UUID, nullable=False),
    sa.Column("name", NAME),
    sa.Column("project_id", NAME, nullable=False),
    sa.Column("user_id", NAME, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("uuid", name="uniq_instance_groups0uuid"),
    sa.Index("instance_groups_project_id_idx", "project_id"),
)

instance_group_policy = sa.Table(
    "instance_group_policy", metadata,
    _id(),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("instance_groups.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("policy", NAME, nullable=False),
    sa.Column("rules", sa.Text),  # JSON, e.g. {"max_server_per_host": 2}
    *_timestamps(),
    sa.Index("instance_group_policy_group_id_idx", "group_id"),
)

instance_group_member = sa.Table(
    "instance_group_member", metadata,
    _id(),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("instance_groups.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("instance_uuid", UUID, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("group_id", "instance_uuid",
                        name="uniq_instance_group_member0group_id0instance_uuid"),
    sa.Index("instance_group_member_instance_uuid_idx", "instance_uuid"),
)

aggregates = sa.Table(
    "aggregates", metadata,
    _id(),
    sa.Column("uuid", UUID, nullable=False),
    sa.Column("name", NAME, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("uuid", name="uniq_aggregates0uuid"),
    sa.UniqueConstraint("name", name="uniq_aggregates0name"),
)

aggregate_hosts = sa.Table(
    "aggregate_hosts", metadata,
    _id(),
    sa.Column("aggregate_id", sa.Integer, sa.ForeignKey("aggregates.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("host", NAME, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("host", "aggregate_id", name="uniq_aggregate_hosts0host0aggregate_id"),
)

aggregate_metadata = sa.Table(
    "aggregate_metadata", metadata,
    _id(),
    sa.Column("aggregate_id", sa.Integer, sa.ForeignKey("aggregates.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("key", NAME, nullable=False),
    sa.Column("value", NAME, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("aggregate_id", "key", name="uniq_aggregate_metadata0aggregate_id0key"),
    # Availability zones are found by key ("availability_zone") across all aggregates.
    sa.Index("aggregate_metadata_key_idx", "key"),
)

# Columns and indexes a revision after the baseline added (api_0003: Rocky/Stein's
# instance_mappings.user_id and queued_for_delete; api_0004: the (project_id, cell_id)
# index; api_0005: build_requests' vcpus and memory_mb). The baseline creates the schema
# without them, so a database synced to the baseline has the older shape, as a real one
# would.
ADDED_AFTER_BASELINE: dict[str, tuple[str, ...]] = {
    "build_requests": ("vcpus", "memory_mb"),
    "instance_mappings": ("user_id", "queued_for_delete",
                          "instance_mappings_user_id_project_id_idx",
                          "instance_mappings_project_id_cell_id_idx"),
}
