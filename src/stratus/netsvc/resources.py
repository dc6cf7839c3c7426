"""The Neutron resources this service serves: their names, tables and attribute maps."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from stratus.netsvc import attributes as a
from stratus.netsvc import schema as s
from stratus.netsvc.attributes import REQUIRED, Attribute


@dataclass(frozen=True)
class Resource:
    singular: str
    plural: str
    table: sa.Table
    kind: str  # the exception prefix: NetworkNotFound
    attributes: dict[str, Attribute]

    @property
    def path(self) -> str:
        return "/v2.0/" + self.plural.replace("_", "-")


def _map(*attrs: Attribute) -> dict[str, Attribute]:
    return {attr.name: attr for attr in attrs}


def _standard(*attrs: Attribute, name_default: str = "") -> tuple[Attribute, ...]:
    return (Attribute("id", "id", post=False, put=False),
            Attribute("name", "name", default=name_default, convert=a.to_str),
            Attribute("description", "description", default="", convert=a.to_str),
            Attribute("project_id", "project_id", put=False, convert=a.to_str),
            Attribute("tenant_id", "project_id", put=False, convert=a.to_str),
            *attrs,
            Attribute("revision_number", "revision_number", post=False, put=False,
                      filter=a.int_filter),
            Attribute("created_at", post=False, put=False),
            Attribute("updated_at", post=False, put=False),
            Attribute("tags", post=False, put=False))


BOOL = dict(convert=a.to_bool, filter=a.bool_filter)

NETWORK = Resource("network", "networks", s.networks, "Network", _map(*_standard(
    Attribute("admin_state_up", "admin_state_up", default=True, **BOOL),
    Attribute("status", "status", post=False, put=False),
    Attribute("shared", "shared", default=False, check="shared", **BOOL),
    Attribute("router:external", "external", default=False, check="router:external", **BOOL),
    Attribute("is_default", "is_default", default=False, check="is_default", **BOOL),
    Attribute("mtu", "mtu", default=1500, convert=a.to_int_range(68, 9000),
              filter=a.int_filter),
    Attribute("subnets", post=False, put=False),
    Attribute("availability_zone_hints", post=False, put=False),
    Attribute("availability_zones", post=False, put=False),
    Attribute("ipv4_address_scope", post=False, put=False),
    Attribute("ipv6_address_scope", post=False, put=False),
    Attribute("port_security_enabled", post=False, put=False),
)))

SUBNET = Resource("subnet", "subnets", s.subnets, "Subnet", _map(*_standard(
    Attribute("network_id", "network_id", default=REQUIRED, put=False, convert=a.to_uuid),
    Attribute("ip_version", "ip_version", default=REQUIRED, put=False,
              convert=a.to_ip_version, filter=a.int_filter),
    Attribute("cidr", "cidr", put=False, convert=a.to_cidr),
    Attribute("prefixlen", put=False, convert=a.to_int_range(0, 128)),
    Attribute("gateway_ip", "gateway_ip", convert=a.to_ip_or_none),
    Attribute("enable_dhcp", "enable_dhcp", default=True, **BOOL),
    Attribute("ipv6_ra_mode", "ipv6_ra_mode", put=False,
              convert=a.choice(None, "slaac", "dhcpv6-stateful", "dhcpv6-stateless")),
    Attribute("ipv6_address_mode", "ipv6_address_mode", put=False,
              convert=a.choice(None, "slaac", "dhcpv6-stateful", "dhcpv6-stateless")),
    Attribute("subnetpool_id", "subnetpool_id", put=False, convert=a.to_uuid_or_none),
    Attribute("use_default_subnetpool", put=False, convert=a.to_bool),
    Attribute("dns_nameservers", default=list, convert=a.to_ip_list),
    Attribute("host_routes", default=list, convert=a.to_host_routes),
    Attribute("allocation_pools", convert=a.to_pools),
    Attribute("service_types", post=False, put=False),
)))

PORT = Resource("port", "ports", s.ports, "Port", _map(*_standard(
    Attribute("network_id", "network_id", default=REQUIRED, put=False, convert=a.to_uuid),
    Attribute("admin_state_up", "admin_state_up", default=True, **BOOL),
    Attribute("mac_address", "mac_address", convert=a.to_mac, check="mac_address"),
    Attribute("fixed_ips", convert=a.to_fixed_ips),
    Attribute("device_id", "device_id", default="", convert=a.to_str),
    Attribute("device_owner", "device_owner", default="", convert=a.to_str),
    Attribute("status", "status", post=False, put=False),
    Attribute("security_groups", convert=a.to_uuid_list),
    Attribute("port_security_enabled", "port_security_enabled", default=True, **BOOL),
    Attribute("allowed_address_pairs", post=False, put=False),
    Attribute("extra_dhcp_opts", post=False, put=False),
    # None unbinds, as Nova sends it when a port leaves an instance.
    Attribute("binding:host_id", "binding_host_id", default="",
              convert=lambda n, v: "" if v is None else a.to_str(n, v),
              check="binding:host_id"),
    Attribute("binding:profile", convert=a.to_dict, check="binding:profile"),
    Attribute("binding:vnic_type", "binding_vnic_type", default="normal",
              convert=a.choice("normal", "direct", "macvtap", "baremetal",
                               "direct-physical", "virtio-forwarder")),
    Attribute("binding:vif_type", post=False, put=False),
    Attribute("binding:vif_details", post=False, put=False),
)))

SUBNETPOOL = Resource("subnetpool", "subnetpools", s.subnetpools, "SubnetPool", _map(
    *_standard(
        Attribute("prefixes", default=REQUIRED, convert=a.to_cidr_list),
        Attribute("default_prefixlen", "default_prefixlen", convert=a.to_int_range(0, 128),
                  filter=a.int_filter),
        Attribute("min_prefixlen", "min_prefixlen", convert=a.to_int_range(0, 128),
                  filter=a.int_filter),
        Attribute("max_prefixlen", "max_prefixlen", convert=a.to_int_range(0, 128),
                  filter=a.int_filter),
        Attribute("ip_version", "ip_version", post=False, put=False, filter=a.int_filter),
        Attribute("shared", "shared", default=False, put=False, check="shared", **BOOL),
        Attribute("is_default", "is_default", default=False, check="is_default", **BOOL),
        Attribute("default_quota", "default_quota", convert=a.to_int_or_none(0, 2**31)),
        Attribute("address_scope_id", post=False, put=False),
    )))

ROUTER = Resource("router", "routers", s.routers, "Router", _map(*_standard(
    Attribute("admin_state_up", "admin_state_up", default=True, **BOOL),
    Attribute("status", "status", post=False, put=False),
    Attribute("external_gateway_info", convert=a.to_dict),
    Attribute("routes", post=False, put=False),
    Attribute("availability_zone_hints", post=False, put=False),
    Attribute("availability_zones", post=False, put=False),
)))

SECURITY_GROUP = Resource(
    "security_group", "security_groups", s.security_groups, "SecurityGroup", _map(*_standard(
        Attribute("stateful", "stateful", default=True, **BOOL),
        Attribute("security_group_rules", post=False, put=False),
    )))

_PROTOCOL_RANGE = a.to_int_or_none(0, 65535)
SECURITY_GROUP_RULE = Resource(
    "security_group_rule", "security_group_rules", s.security_group_rules,
    "SecurityGroupRule", _map(
        Attribute("id", "id", post=False, put=False),
        Attribute("project_id", "project_id", put=False, convert=a.to_str),
        Attribute("tenant_id", "project_id", put=False, convert=a.to_str),
        Attribute("description", "description", default="", convert=a.to_str),
        Attribute("security_group_id", "security_group_id", default=REQUIRED, put=False,
                  convert=a.to_uuid),
        Attribute("direction", "direction", default=REQUIRED, put=False,
                  convert=a.choice("ingress", "egress")),
        Attribute("ethertype", "ethertype", default="IPv4", put=False,
                  convert=a.choice("IPv4", "IPv6")),
        Attribute("protocol", "protocol", default=None, put=False, convert=a.to_str_or_none),
        Attribute("port_range_min", "port_range_min", default=None, put=False,
                  convert=_PROTOCOL_RANGE, filter=a.int_filter),
        Attribute("port_range_max", "port_range_max", default=None, put=False,
                  convert=_PROTOCOL_RANGE, filter=a.int_filter),
        Attribute("remote_ip_prefix", "remote_ip_prefix", default=None, put=False,
                  convert=lambda n, v: None if v is None else a.to_cidr(n, v)),
        Attribute("remote_group_id", "remote_group_id", default=None, put=False,
                  convert=a.to_uuid_or_none),
        Attribute("revision_number", "revision_number", post=False, put=False),
        Attribute("created_at", post=False, put=False),
        Attribute("updated_at", post=False, put=False),
    ))

ALL = (NETWORK, SUBNET, PORT, SUBNETPOOL, ROUTER, SECURITY_GROUP, SECURITY_GROUP_RULE)
