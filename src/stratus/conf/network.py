"""Options of the network service (``[network]``): port bindings, quotas and paging."""

from oslo_config import cfg

network_opts = [
    cfg.StrOpt("vif_type", default="bridge", choices=["bridge", "ovs"],
               help="The VIF type the all-in-one's mechanism answers for a port bound to a "
                    "host: 'bridge' (Linux bridge brq<network id>) or 'ovs' (br-int, "
                    "netdev datapath)."),
    cfg.IntOpt("pagination_max_limit", default=-1, min=-1,
               help="The most items one list page returns; -1 (Neutron's default) for "
                    "no limit. When set, every list is paged at most this many at a "
                    "time, with next/previous links, as Neutron pages it."),
    cfg.StrOpt("base_mac", default="fa:16:3e:00:00:00",
               help="Generated MAC addresses keep its first three octets."),
    cfg.IntOpt("mac_generation_retries", default=16, min=1,
               help="How often port creation draws a new MAC after a collision."),
    cfg.BoolOpt("create_default_topology", default=True,
                help="All-in-one, first start: create a default external network "
                     "'public' and a default IPv4 subnet pool, so auto-allocated "
                     "topologies (Get Me a Network) work out of the box."),
    cfg.StrOpt("public_cidr", default="172.24.4.0/24",
               help="All-in-one: the subnet of the default external network."),
    cfg.StrOpt("default_pool_prefix", default="10.128.0.0/16",
               help="All-in-one: the prefix of the default IPv4 subnet pool."),
    cfg.BoolOpt("publish_ip_pools", default=True,
                help="Publish each IPv4 subnet's allocation pools to Placement as a shared "
                     "provider of IPV4_ADDRESS, so booting onto a full subnet fails at "
                     "scheduling (NoValidHost) instead of at port creation."),
    cfg.StrOpt("fabric_aggregate", default="5f0c3f4e-8d6b-5a8e-9c1d-2b7a4e6f0a11",
               help="Placement aggregate (a UUID) of the hosts that can reach the networks "
                    "(on a flat network: every compute host). IP pool providers share "
                    "their addresses with it; compute hosts join it when they report. "
                    "Empty: hosts join none, and no pool is shared with any host."),
]

quota_opts = [
    cfg.IntOpt(f"quota_{name}", default=default, min=-1,
               help=f"Default number of {name} a project may have; -1 for no limit.")
    for name, default in (("network", 100), ("subnet", 100), ("subnetpool", -1),
                          ("port", 500), ("router", 10), ("floatingip", 50),
                          ("security_group", 10), ("security_group_rule", 100))
]

GROUPS = [("network", network_opts), ("quotas", quota_opts)]
