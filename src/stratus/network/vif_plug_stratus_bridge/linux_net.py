"""Privileged Linux-bridge changes, through netlink (pyroute2): no shell, no ``ip`` command."""

from __future__ import annotations

import threading

from pyroute2 import IPRoute

from stratus.network.vif_plug_stratus_bridge import privsep

# One plug or unplug at a time: an unplug that finds a bridge empty must not delete it
# while a plug is between creating it and enslaving its device. The functions run in one
# process either way (the privsep daemon, or the agent in-process).
_bridge_lock = threading.Lock()


def _index(ip: IPRoute, ifname: str) -> int | None:
    found = ip.link_lookup(ifname=ifname)
    return found[0] if found else None


def _ports(ip: IPRoute, bridge_index: int) -> list[str]:
    return [link.get("ifname") for link in ip.get_links()
            if link.get("master") == bridge_index]


@privsep.vif_plug.entrypoint
def plug_bridge_port(bridge: str, mtu: int, device: str | None) -> bool:
    """Make ``bridge`` (with ``mtu``, up) if missing; enslave ``device`` if it exists.

    Returns whether the device was enslaved (False: no such device yet, its owner, e.g.
    libvirt, adds it when it makes it).
    """
    with _bridge_lock, IPRoute() as ip:
        index = _index(ip, bridge)
        if index is None:
            ip.link("add", ifname=bridge, kind="bridge")
            index = _index(ip, bridge)
            ip.link("set", index=index, mtu=mtu)
        ip.link("set", index=index, state="up")
        dev_index = _index(ip, device) if device else None
        if dev_index is None:
            return False
        ip.link("set", index=dev_index, mtu=mtu)
        ip.link("set", index=dev_index, master=index, state="up")
        return True


@privsep.vif_plug.entrypoint
def unplug_bridge_port(bridge: str, device: str | None) -> bool:
    """Take ``device`` off ``bridge``; delete the bridge when no port is left on it.

    Returns whether the bridge was deleted. Missing devices and bridges are no error.
    """
    with _bridge_lock, IPRoute() as ip:
        index = _index(ip, bridge)
        if index is None:
            return False
        dev_index = _index(ip, device) if device else None
        if dev_index is not None and ip.get_links(dev_index)[0].get("master") == index:
            ip.link("set", index=dev_index, master=0)
        if _ports(ip, index):
            return False
        ip.link("del", index=index)
        return True
