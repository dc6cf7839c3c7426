"""Options of VIF plugging through os-vif on a compute host, and the fake driver's netns backing.

os-vif and oslo.privsep read their own options from oslo.config's global ``CONF``
(``[os_vif_ovs]``, ``[vif_plug_*_privileged]``); Stratus keeps one ConfigOpts per process,
so these options are copied there by :func:`stratus.network.vif_plugging.initialize`
before ``os_vif.initialize()`` runs (os-vif's ovs plugin reads ``ovsdb_connection`` only
then).
"""

from oslo_config import cfg

os_vif_opts = [
    cfg.StrOpt("privsep_mode", default="auto", choices=[
        ("auto", "in_process when the agent runs as root (euid 0), helper otherwise"),
        ("helper", "start a privsep-helper daemon per privsep context, with "
                   "privsep_helper_command"),
        ("in_process", "run privileged functions in the agent itself (it must be root "
                       "or hold CAP_NET_ADMIN and CAP_SYS_ADMIN)")],
        help="How os-vif's and Stratus' privileged networking functions run (oslo.privsep)."),
    cfg.StrOpt("privsep_helper_command", default="", sample_default="<sys.prefix>/bin/"
               "privsep-helper",
               help="Command that starts a privsep daemon in helper mode; privsep appends "
                    "--privsep_context and --privsep_sock_path. Empty: the privsep-helper "
                    "beside this Python (no sudo: that needs root already); use e.g. "
                    "'sudo privsep-helper' or a rootwrap line for an unprivileged agent."),
    cfg.StrOpt("ovsdb_connection", default="unix:/run/openvswitch/db.sock",
               help="OVSDB endpoint of the host's Open vSwitch, handed to os-vif's ovs "
                    "plugin as [os_vif_ovs] ovsdb_connection (e.g. tcp:127.0.0.1:6640)."),
    cfg.IntOpt("ovs_vsctl_timeout", default=30, min=0,
               help="Seconds os-vif's ovs plugin waits for an OVSDB answer "
                    "([os_vif_ovs] ovs_vsctl_timeout); 0 waits forever."),
    cfg.IntOpt("network_device_mtu", default=1500, min=68,
               help="MTU of bridges and devices when the network has none."),
]

fake_driver_opts = [
    cfg.BoolOpt("netns_vifs", default=False,
                help="Back each fake instance's ports with real devices: a network "
                     "namespace per instance holding a veth (eth0, eth1, ...) with the "
                     "port's MAC and fixed IPs, whose host end os-vif plugs. Needs root; "
                     "off for benchmarks with hundreds of simulated hosts."),
]

GROUPS = [("os_vif", os_vif_opts), ("fake_driver", fake_driver_opts)]
