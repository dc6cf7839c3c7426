"""The fake driver's network backing: each instance a network namespace, each port a veth.

With ``[fake_driver] netns_vifs``, spawning an instance makes the namespace
``stx-<uuid hex[:12]>`` and, per port i, a veth pair: ``eth<i>`` inside (the port's MAC,
its fixed IPs with their subnets' prefixes, a default route through the first subnet's
gateway, up) and the host end named as os-vif names it (``tap<port id[:11]>``, up), and
then has os-vif plug that host end (a Linux bridge or an OVS port). The fake instance
answers ping as a real guest would. Destroying it unplugs, then deletes the veths and
the namespace.
"""

from __future__ import annotations

import ipaddress

from oslo_config import cfg
from oslo_privsep import capabilities as caps
from oslo_privsep import priv_context
from pyroute2 import IPRoute, netns

from stratus.network import os_vif_util, vif_plugging

# CAP_SYS_ADMIN and CAP_DAC_OVERRIDE: making a namespace mounts it under /run/netns.
privileged = priv_context.PrivContext(
    "stratus.virt.fake_netns",
    cfg_section="fake_driver_privileged",
    pypath=__name__ + ".privileged",
    capabilities=[caps.CAP_NET_ADMIN, caps.CAP_SYS_ADMIN, caps.CAP_DAC_OVERRIDE],
)

NETNS_PREFIX = "stx-"


def netns_name(instance_uuid: str) -> str:
    """The instance's namespace: short, and unique as the uuid is."""
    return NETNS_PREFIX + instance_uuid.replace("-", "")[:12]


def _index(ip: IPRoute, ifname: str) -> int | None:
    found = ip.link_lookup(ifname=ifname)
    return found[0] if found else None


@privileged.entrypoint
def add_instance_nic(namespace: str, nic: str, host_dev: str, mac: str, mtu: int,
                     addresses: list[tuple[str, int]], gateways: list[str]) -> None:
    """A veth with ``nic`` in ``namespace`` (made if missing) and ``host_dev`` here."""
    if namespace not in netns.listnetns():
        netns.create(namespace)
    with IPRoute() as ip:
        if _index(ip, host_dev) is None:
            ip.link("add", ifname=host_dev, kind="veth",
                    peer={"ifname": nic, "net_ns_fd": namespace})
        index = _index(ip, host_dev)
        ip.link("set", index=index, mtu=mtu, state="up")
    with IPRoute(netns=namespace) as ns:
        lo = _index(ns, "lo")
        ns.link("set", index=lo, state="up")
        index = _index(ns, nic)
        ns.link("set", index=index, address=mac, mtu=mtu, state="up")
        for address, prefixlen in addresses:
            ns.addr("replace", index=index, address=address, prefixlen=prefixlen)
        for gateway in gateways:
            family = 10 if ipaddress.ip_address(gateway).version == 6 else 2
            ns.route("replace", dst="::/0" if family == 10 else "0.0.0.0/0",
                     gateway=gateway, oif=index, family=family)


@privileged.entrypoint
def remove_instance_nics(namespace: str, host_devs: list[str]) -> None:
    """Delete the host ends (their peers go with them) and the namespace; missing is fine."""
    with IPRoute() as ip:
        for dev in host_devs:
            index = _index(ip, dev)
            if index is not None:
                ip.link("del", index=index)
    if namespace in netns.listnetns():
        netns.remove(namespace)


def _nic_settings(port: dict, mtu_default: int, routed: set[int]) -> dict:
    """What the instance end of ``port`` gets: MAC, MTU, addresses and default routes.

    ``routed`` holds the IP versions that already have a default route (through an
    earlier port); this port's gateways are used for the others, and added to it.
    """
    subnets = {s["id"]: s for s in port.get("subnets") or []}
    addresses, gateways = [], []
    for fixed in port.get("fixed_ips") or []:
        subnet = subnets.get(fixed.get("subnet_id"))
        if subnet is None:
            continue
        network = ipaddress.ip_network(subnet["cidr"], strict=False)
        addresses.append((fixed["ip_address"], network.prefixlen))
        gateway = subnet.get("gateway_ip")
        if gateway and network.version not in routed:
            routed.add(network.version)
            gateways.append(gateway)
    mtu = (port.get("network") or {}).get("mtu") or mtu_default
    return {"mac": port["mac_address"], "mtu": int(mtu), "addresses": addresses,
            "gateways": gateways}


class NetnsBacking:
    """Real devices behind a fake driver's instances (one per driver; needs root)."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf
        vif_plugging.configure_privsep(conf, privileged)

    def plug(self, instance: dict, network_info: list[dict] | None) -> None:
        """Make the instance's namespace and veths, then plug them with os-vif."""
        ports = list(network_info or [])
        if not ports:
            return
        vif_plugging.vifs_of(ports)  # an unsupported binding fails before any device
        namespace = netns_name(instance["uuid"])
        try:
            routed: set[int] = set()
            for i, port in enumerate(ports):
                settings = _nic_settings(port, self.conf.os_vif.network_device_mtu, routed)
                add_instance_nic(namespace, f"eth{i}", os_vif_util.vif_name(port), **settings)
            vif_plugging.plug_vifs(self.conf, instance, ports)
        except Exception:
            remove_instance_nics(namespace, [os_vif_util.vif_name(p) for p in ports])
            raise

    def unplug(self, instance: dict, network_info: list[dict] | None) -> None:
        """Unplug the instance's ports and delete its veths and namespace."""
        ports = list(network_info or [])
        try:
            vif_plugging.unplug_vifs(self.conf, instance, ports)
        finally:
            remove_instance_nics(netns_name(instance["uuid"]),
                                 [os_vif_util.vif_name(p) for p in ports])
