"""Tables of a cell database (cell0 and every cell): instances and what hangs off them.

This module is the schema at the newest revision of ``migrations/cell``; columns a later
revision added are listed in ``ADDED_AFTER_BASELINE`` (see ``stratus.cells.schema_history``).
Soft-deleted rows keep ``deleted`` = their own ``id`` (0 while live), as Nova does, so unique
constraints can include ``deleted`` and a name can be reused after a delete.
"""

from __future__ import annotations

import sqlalchemy as sa

from stratus.cells.schema_api import LONG_TEXT, NAME, UUID, utcnow

metadata = sa.MetaData()


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _timestamps(soft_delete: bool = False) -> list[sa.Column]:
    columns = [sa.Column("created_at", sa.DateTime, nullable=False, default=utcnow),
               sa.Column("updated_at", sa.DateTime, onupdate=utcnow)]
    if soft_delete:
        columns += [sa.Column("deleted_at", sa.DateTime),
                    sa.Column("deleted", sa.Integer, nullable=False, default=0,
                              server_default="0")]
    return columns


instances = sa.Table(
    "instances", metadata,
    _id(),
    sa.Column("uuid", UUID, nullable=False),
    sa.Column("display_name", NAME),
    sa.Column("display_description", sa.Text),
    sa.Column("hostname", NAME),
    sa.Column("project_id", NAME, nullable=False),
    sa.Column("user_id", NAME, nullable=False),
    sa.Column("reservation_id", NAME),
    sa.Column("launch_index", sa.Integer),
    # Where it runs: host is the compute service, node the hypervisor_hostname.
    sa.Column("host", NAME),
    sa.Column("node", NAME),
    sa.Column("availability_zone", NAME),
    sa.Column("vm_state", NAME, nullable=False),
    sa.Column("task_state", NAME),
    sa.Column("power_state", sa.Integer, nullable=False, default=0),
    sa.Column("progress", sa.Integer),
    # The flavor as it was at boot/resize: JSON {"cur": {...}, "old": ..., "new": ...};
    # the sizes are copied out so quota usage is a SUM over plain columns.
    sa.Column("flavor", sa.Text, nullable=False),
    sa.Column("instance_type_id", sa.Integer),
    sa.Column("memory_mb", sa.Integer, nullable=False, default=0),
    sa.Column("vcpus", sa.Integer, nullable=False, default=0),
    sa.Column("root_gb", sa.Integer, nullable=False, default=0),
    sa.Column("ephemeral_gb", sa.Integer, nullable=False, default=0),
    sa.Column("image_ref", NAME),
    sa.Column("kernel_id", NAME),
    sa.Column("ramdisk_id", NAME),
    sa.Column("key_name", NAME),
    sa.Column("key_data", sa.Text),
    sa.Column("keypairs", sa.Text),  # JSON list of the key pairs given at boot
    sa.Column("user_data", LONG_TEXT),
    sa.Column("config_drive", NAME),
    sa.Column("access_ip_v4", sa.String(39)),
    sa.Column("access_ip_v6", sa.String(39)),
    sa.Column("root_device_name", NAME),
    sa.Column("os_type", NAME),
    sa.Column("architecture", NAME),
    sa.Column("auto_disk_config", sa.Boolean),
    sa.Column("locked", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("locked_by", sa.String(16)),  # "owner" or "admin"
    sa.Column("locked_reason", NAME),
    sa.Column("shutdown_terminate", sa.Boolean, default=False),
    sa.Column("disable_terminate", sa.Boolean, default=False),
    sa.Column("cleaned", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("launched_at", sa.DateTime),
    sa.Column("terminated_at", sa.DateTime),
    *_timestamps(soft_delete=True),
    sa.UniqueConstraint("uuid", name="uniq_instances0uuid"),
    # Server listing pages by keyset on (sort keys..., uuid): one index per common order,
    # for a project's own list and for an admin's all-tenants list.
    sa.Index("instances_project_id_display_name_uuid_idx",
             "project_id", "display_name", "uuid"),
    sa.Index("instances_project_id_created_at_uuid_idx", "project_id", "created_at", "uuid"),
    sa.Index("instances_display_name_uuid_idx", "display_name", "uuid"),
    sa.Index("instances_created_at_uuid_idx", "created_at", "uuid"),
    sa.Index("instances_updated_at_idx", "updated_at"),
    sa.Index("instances_host_node_idx", "host", "node"),
    sa.Index("instances_reservation_id_idx", "reservation_id"),
)

instance_faults = sa.Table(
    "instance_faults", metadata,
    _id(),
    sa.Column("instance_uuid", UUID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"),
              nullable=False),
    sa.Column("code", sa.Integer, nullable=False),
    sa.Column("message", NAME),
    sa.Column("details", LONG_TEXT),
    sa.Column("host", NAME),
    *_timestamps(),
    sa.Index("instance_faults_instance_uuid_idx", "instance_uuid"),
)

instance_actions = sa.Table(
    "instance_actions", metadata,
    _id(),
    sa.Column("action", NAME, nullable=False),
    sa.Column("instance_uuid", UUID, nullable=False),
    sa.Column("request_id", NAME, nullable=False),
    sa.Column("user_id", NAME),
    sa.Column("project_id", NAME),
    sa.Column("start_time", sa.DateTime, nullable=False, default=utcnow),
    sa.Column("finish_time", sa.DateTime),
    sa.Column("message", NAME),
    *_timestamps(),
    sa.Index("instance_actions_instance_uuid_request_id_idx", "instance_uuid", "request_id"),
)

instance_actions_events = sa.Table(
    "instance_actions_events", metadata,
    _id(),
    sa.Column("action_id", sa.Integer,
              sa.ForeignKey("instance_actions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event", NAME, nullable=False),
    sa.Column("start_time", sa.DateTime, nullable=False, default=utcnow),
    sa.Column("finish_time", sa.DateTime),
    sa.Column("result", NAME),
    sa.Column("traceback", sa.Text),
    sa.Column("host", NAME),
    sa.Column("details", sa.Text),
    *_timestamps(),
    sa.Index("instance_actions_events_action_id_idx", "action_id"),
)


def _key_value_table(name: str) -> sa.Table:
    """instance_metadata and instance_system_metadata share one shape: one row per key."""
    return sa.Table(
        name, metadata,
        _id(),
        sa.Column("instance_uuid", UUID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("key", NAME, nullable=False),
        sa.Column("value", NAME),
        *_timestamps(),
        sa.UniqueConstraint("instance_uuid", "key", name=f"uniq_{name}0instance_uuid0key"),
    )


instance_metadata = _key_value_table("instance_metadata")
instance_system_metadata = _key_value_table("instance_system_metadata")

tags = sa.Table(
    "tags", metadata,
    sa.Column("resource_id", UUID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("tag", sa.String(60), primary_key=True),
    sa.Index("tags_tag_idx", "tag"),
)

migrations = sa.Table(
    "migrations", metadata,
    _id(),
    sa.Column("uuid", UUID, nullable=False),
    sa.Column("instance_uuid", UUID, nullable=False),
    sa.Column("migration_type", sa.String(32), nullable=False),  # migration, resize, ...
    sa.Column("status", NAME, nullable=False),
    sa.Column("source_compute", NAME),
    sa.Column("source_node", NAME),
    sa.Column("dest_compute", NAME),
    sa.Column("dest_node", NAME),
    sa.Column("dest_host", NAME),
    sa.Column("old_instance_type_id", sa.Integer),
    sa.Column("new_instance_type_id", sa.Integer),
    sa.Column("hidden", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("cross_cell_move", sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    sa.Column("user_id", NAME),
    sa.Column("project_id", NAME),
    *_timestamps(soft_delete=True),
    sa.UniqueConstraint("uuid", name="uniq_migrations0uuid"),
    sa.Index("migrations_instance_uuid_status_idx", "instance_uuid", "status"),
    sa.Index("migrations_source_compute_dest_compute_idx", "source_compute", "dest_compute"),
)

# The binary name of compute agents' service rows: Nova's, which clients and
# `cell_v2 discover_hosts --by-service` look for.
COMPUTE_BINARY = "nova-compute"

services = sa.Table(
    "services", metadata,
    _id(),
    sa.Column("uuid", UUID, nullable=False),
    sa.Column("host", NAME, nullable=False),
    sa.Column("binary", NAME, nullable=False),
    sa.Column("topic", NAME),
    sa.Column("report_count", sa.Integer, nullable=False, default=0),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("disabled_reason", NAME),
    sa.Column("forced_down", sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    sa.Column("last_seen_up", sa.DateTime),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    *_timestamps(soft_delete=True),
    sa.UniqueConstraint("uuid", name="uniq_services0uuid"),
    sa.UniqueConstraint("host", "binary", "deleted", name="uniq_services0host0binary0deleted"),
)

compute_nodes = sa.Table(
    "compute_nodes", metadata,
    _id(),
    sa.Column("uuid", UUID, nullable=False),
    sa.Column("service_id", sa.Integer),
    sa.Column("host", NAME, nullable=False),
    sa.Column("hypervisor_hostname", NAME, nullable=False),
    sa.Column("hypervisor_type", NAME, nullable=False),
    sa.Column("hypervisor_version", sa.Integer, nullable=False, default=0),
    sa.Column("host_ip", sa.String(39)),
    sa.Column("cpu_info", sa.Text),
    sa.Column("vcpus", sa.Integer, nullable=False, default=0),
    sa.Column("memory_mb", sa.Integer, nullable=False, default=0),
    sa.Column("local_gb", sa.Integer, nullable=False, default=0),
    sa.Column("vcpus_used", sa.Integer, nullable=False, default=0),
    sa.Column("memory_mb_used", sa.Integer, nullable=False, default=0),
    sa.Column("local_gb_used", sa.Integer, nullable=False, default=0),
    sa.Column("free_ram_mb", sa.Integer),
    sa.Column("free_disk_gb", sa.Integer),
    sa.Column("disk_available_least", sa.Integer),
    sa.Column("current_workload", sa.Integer),
    sa.Column("running_vms", sa.Integer),
    sa.Column("cpu_allocation_ratio", sa.Float),
    sa.Column("ram_allocation_ratio", sa.Float),
    sa.Column("disk_allocation_ratio", sa.Float),
    # 1 once discover_hosts has made a host mapping for it, so later runs skip it.
    sa.Column("mapped", sa.Integer, nullable=False, default=0, server_default="0"),
    *_timestamps(soft_delete=True),
    sa.UniqueConstraint("uuid", name="uniq_compute_nodes0uuid"),
    sa.UniqueConstraint("host", "hypervisor_hostname", "deleted",
                        name="uniq_compute_nodes0host0hypervisor_hostname0deleted"),
)

# What Neutron said of an instance's ports (a JSON list of bound port dicts, each with its
# "network" and "subnets"): the server view's addresses and the ip filters read it, so
# showing a server never asks Neutron. One row per instance, written by its compute host.
instance_info_caches = sa.Table(
    "instance_info_caches", metadata,
    _id(),
    sa.Column("instance_uuid", UUID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"),
              nullable=False),
    sa.Column("network_info", LONG_TEXT),
    *_timestamps(soft_delete=True),
    sa.UniqueConstraint("instance_uuid", name="uniq_instance_info_caches0instance_uuid"),
)

# Columns and indexes a revision after the baseline added: none yet in cell databases.
ADDED_AFTER_BASELINE: dict[str, tuple[str, ...]] = {}
# Whole tables a revision after the baseline created (cell_0003: the info cache).
TABLES_AFTER_BASELINE: frozenset[str] = frozenset({"instance_info_caches"})
