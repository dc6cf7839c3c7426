"""Tables of the network database (SQLAlchemy Core); migration network_0002 creates them.

List-valued attributes a client never filters on in SQL (``dns_nameservers``,
``host_routes``, ``allocation_pools``, ``binding:profile``, subnet pool ``prefixes``)
are JSON text. What must never be duplicated is a unique constraint: an address in a
subnet, a MAC on a network, one default security group and one auto-allocated topology
per project.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

ID = sa.String(36)
PROJECT = sa.String(255)
NAME = sa.String(255)
# Microseconds everywhere (MySQL keeps none by default): list order is creation order.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def _standard(*columns: sa.Column) -> list:
    """Columns every Neutron resource has (standard-attr-* extensions)."""
    return [sa.Column("id", ID, primary_key=True),
            sa.Column("project_id", PROJECT, index=True),
            sa.Column("name", NAME, nullable=False, default=""),
            sa.Column("description", sa.String(255), nullable=False, default=""),
            *columns,
            sa.Column("revision_number", sa.Integer, nullable=False, default=0),
            sa.Column("created_at", TIMESTAMP, nullable=False),
            sa.Column("updated_at", TIMESTAMP, nullable=False)]


networks = sa.Table(
    "networks", metadata, *_standard(
        sa.Column("admin_state_up", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("external", sa.Boolean, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("mtu", sa.Integer, nullable=False)))

subnetpools = sa.Table(
    "subnetpools", metadata, *_standard(
        sa.Column("ip_version", sa.Integer, nullable=False),
        sa.Column("default_prefixlen", sa.Integer, nullable=False),
        sa.Column("min_prefixlen", sa.Integer, nullable=False),
        sa.Column("max_prefixlen", sa.Integer, nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("default_quota", sa.Integer),
        sa.Column("prefixes", sa.Text, nullable=False)))

subnets = sa.Table(
    "subnets", metadata, *_standard(
        sa.Column("network_id", ID, sa.ForeignKey("networks.id"), nullable=False, index=True),
        sa.Column("ip_version", sa.Integer, nullable=False),
        sa.Column("cidr", sa.String(64), nullable=False),
        sa.Column("gateway_ip", sa.String(64)),
        sa.Column("enable_dhcp", sa.Boolean, nullable=False),
        sa.Column("ipv6_ra_mode", sa.String(16)),
        sa.Column("ipv6_address_mode", sa.String(16)),
        sa.Column("subnetpool_id", ID, sa.ForeignKey("subnetpools.id"), index=True),
        sa.Column("dns_nameservers", sa.Text, nullable=False),
        sa.Column("host_routes", sa.Text, nullable=False),
        sa.Column("allocation_pools", sa.Text, nullable=False)))

routers = sa.Table(
    "routers", metadata, *_standard(
        sa.Column("admin_state_up", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("gw_network_id", ID, sa.ForeignKey("networks.id")),
        sa.Column("enable_snat", sa.Boolean, nullable=False)))

ports = sa.Table(
    "ports", metadata, *_standard(
        sa.Column("network_id", ID, sa.ForeignKey("networks.id"), nullable=False, index=True),
        sa.Column("mac_address", sa.String(32), nullable=False),
        sa.Column("admin_state_up", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("device_id", sa.String(255), nullable=False, index=True),
        sa.Column("device_owner", sa.String(255), nullable=False),
        sa.Column("binding_host_id", sa.String(255), nullable=False),
        sa.Column("binding_profile", sa.Text, nullable=False),
        sa.Column("binding_vnic_type", sa.String(64), nullable=False),
        sa.Column("port_security_enabled", sa.Boolean, nullable=False)),
    sa.UniqueConstraint("network_id", "mac_address", name="uniq_ports_network_mac"))

ip_allocations = sa.Table(
    "ip_allocations", metadata,
    sa.Column("port_id", ID, sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("subnet_id", ID, sa.ForeignKey("subnets.id"), nullable=False),
    sa.Column("network_id", ID, nullable=False),
    sa.Column("ip_address", sa.String(64), nullable=False),
    # Two ports never hold one address: the database says so, whatever the isolation.
    sa.PrimaryKeyConstraint("subnet_id", "ip_address", name="pk_ip_allocations"))

security_groups = sa.Table(
    "security_groups", metadata, *_standard(
        sa.Column("stateful", sa.Boolean, nullable=False)))

default_security_groups = sa.Table(
    "default_security_groups", metadata,
    sa.Column("project_id", PROJECT, primary_key=True),
    sa.Column("security_group_id", ID,
              sa.ForeignKey("security_groups.id", ondelete="CASCADE"), nullable=False))

security_group_rules = sa.Table(
    "security_group_rules", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("project_id", PROJECT, index=True),
    sa.Column("security_group_id", ID,
              sa.ForeignKey("security_groups.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("ethertype", sa.String(8), nullable=False),
    sa.Column("protocol", sa.String(40)),
    sa.Column("port_range_min", sa.Integer),
    sa.Column("port_range_max", sa.Integer),
    sa.Column("remote_ip_prefix", sa.String(64)),
    sa.Column("remote_group_id", ID, sa.ForeignKey("security_groups.id", ondelete="CASCADE")),
    sa.Column("description", sa.String(255), nullable=False, default=""),
    sa.Column("revision_number", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False))

port_security_groups = sa.Table(
    "port_security_groups", metadata,
    sa.Column("port_id", ID, sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("security_group_id", ID, sa.ForeignKey("security_groups.id"), primary_key=True))

auto_allocated_topologies = sa.Table(
    "auto_allocated_topologies", metadata,
    # One topology per project: the first transaction to commit wins.
    sa.Column("project_id", PROJECT, primary_key=True),
    sa.Column("network_id", ID, sa.ForeignKey("networks.id"), nullable=False),
    sa.Column("router_id", ID, sa.ForeignKey("routers.id")))

quotas = sa.Table(
    "quotas", metadata,
    sa.Column("project_id", PROJECT, primary_key=True),
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("limit", sa.Integer, nullable=False))
