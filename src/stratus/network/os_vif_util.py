"""Bound Neutron ports (as Neutron's API returns them) turned into os-vif objects.

A network_info entry is one bound port with its ``network`` (``id``, ``name``, ``mtu``)
and ``subnets`` (``id``, ``cidr``, ``gateway_ip``, ``dns_nameservers``, ...), as
:meth:`stratus.network.allocation.PortAllocator.network_info` builds it. Only the vif
types Stratus can plug are converted: ``bridge`` (our ``stratus_bridge`` plugin, since
os-vif 5 has no linux_bridge) and ``ovs`` (os-vif's own ``ovs`` plugin).
"""

from __future__ import annotations

from oslo_service import backend

# os-vif's objects import oslo.messaging, which picks its executor from the oslo.service
# backend at import time: native threads, as stratus.common.rpc chooses, never eventlet.
if backend.get_backend_type() is None:
    backend.init_backend(backend.BackendType.THREADING)

import os_vif.objects  # noqa: E402
from os_vif.objects import fixed_ip as osv_fixed_ip  # noqa: E402
from os_vif.objects import instance_info as osv_instance_info  # noqa: E402
from os_vif.objects import network as osv_network  # noqa: E402
from os_vif.objects import subnet as osv_subnet  # noqa: E402
from os_vif.objects import vif as osv_vif  # noqa: E402

BRIDGE_PLUGIN = "stratus_bridge"
OVS_PLUGIN = "ovs"
# Device names are limited to 15 bytes (IFNAMSIZ 16 with the NUL); Neutron's agents use
# the same 14-character names.
NIC_NAME_LEN = 14
DEFAULT_OVS_BRIDGE = "br-int"

os_vif.objects.register_all()


class UnsupportedVifType(ValueError):
    """The port's binding asks for a vif type Stratus cannot plug."""

    def __init__(self, port_id: str, vif_type: str | None):
        self.port_id = port_id
        self.vif_type = vif_type
        super().__init__(
            f"Port {port_id} has binding:vif_type {vif_type!r}; Stratus plugs only "
            f"'bridge' and 'ovs' ports (is the port bound to this host?).")


def vif_name(port: dict) -> str:
    """The host-side device of the port: Neutron's ``devname``, else ``tap<id[:11]>``."""
    return port.get("devname") or ("tap" + port["id"])[:NIC_NAME_LEN]


def linux_bridge_name(network_id: str) -> str:
    """The Linux bridge Neutron's linuxbridge agent makes for a network: ``brq<id[:11]>``."""
    return ("brq" + network_id)[:NIC_NAME_LEN]


def instance_info(instance: dict) -> osv_instance_info.InstanceInfo:
    """os-vif's view of the instance: its uuid, name and project."""
    fields = {"uuid": instance["uuid"],
              "name": instance.get("display_name") or instance.get("hostname")
              or instance["uuid"]}
    if instance.get("project_id"):  # a delete may know the uuid only
        fields["project_id"] = instance["project_id"]
    return osv_instance_info.InstanceInfo(**fields)


def _subnets(port: dict) -> osv_subnet.SubnetList:
    by_subnet: dict[str, list[str]] = {}
    for fixed in port.get("fixed_ips") or []:
        by_subnet.setdefault(fixed.get("subnet_id"), []).append(fixed["ip_address"])
    subnets = []
    for subnet in port.get("subnets") or []:
        fields = {"cidr": subnet["cidr"],
                  "dns": list(subnet.get("dns_nameservers") or []),
                  "ips": osv_fixed_ip.FixedIPList(objects=[
                      osv_fixed_ip.FixedIP(address=address)
                      for address in by_subnet.get(subnet["id"], [])])}
        if subnet.get("gateway_ip"):
            fields["gateway"] = subnet["gateway_ip"]
        subnets.append(osv_subnet.Subnet(**fields))
    return osv_subnet.SubnetList(objects=subnets)


def _network(port: dict, bridge: str) -> osv_network.Network:
    network = port.get("network") or {"id": port["network_id"]}
    fields = {"id": network["id"], "bridge": bridge, "label": network.get("name") or "",
              "subnets": _subnets(port)}
    if network.get("mtu"):
        fields["mtu"] = int(network["mtu"])
    return osv_network.Network(**fields)


def _common(port: dict, details: dict) -> dict:
    return {"id": port["id"], "address": port["mac_address"],
            "vif_name": vif_name(port),
            "has_traffic_filtering": bool(details.get("port_filter", False)),
            "preserve_on_delete": bool(port.get("preserve_on_delete", False)),
            "active": port.get("status", "ACTIVE") == "ACTIVE"}


def _bridge_vif(port: dict, details: dict) -> osv_vif.VIFBridge:
    bridge = details.get("bridge_name") or linux_bridge_name(port["network_id"])
    return osv_vif.VIFBridge(plugin=BRIDGE_PLUGIN, bridge_name=bridge,
                             network=_network(port, bridge), **_common(port, details))


def _ovs_vif(port: dict, details: dict) -> osv_vif.VIFOpenVSwitch:
    if details.get("ovs_hybrid_plug"):
        # A per-port qbr bridge for iptables filtering: Stratus has no iptables firewall
        # to put there, and Neutron's OVS agents bind with native (flow) filtering.
        raise UnsupportedVifType(port["id"], "ovs (ovs_hybrid_plug)")
    bridge = details.get("bridge_name") or DEFAULT_OVS_BRIDGE
    # create_port: os-vif adds the port to OVS itself (the hypervisor's end, a tap or a
    # veth, already exists); without it os-vif leaves that to libvirt.
    profile = osv_vif.VIFPortProfileOpenVSwitch(
        interface_id=port.get("ovs_interfaceid") or port["id"],
        datapath_type=details.get("datapath_type") or "system",
        create_port=True)
    return osv_vif.VIFOpenVSwitch(plugin=OVS_PLUGIN, bridge_name=bridge, port_profile=profile,
                                  network=_network(port, bridge), **_common(port, details))


_CONVERTERS = {"bridge": _bridge_vif, "ovs": _ovs_vif}


def port_to_vif(port: dict) -> osv_vif.VIFBase:
    """The os-vif VIF of one bound port; UnsupportedVifType for any other binding."""
    vif_type = port.get("binding:vif_type")
    converter = _CONVERTERS.get(vif_type)
    if converter is None:
        raise UnsupportedVifType(port.get("id", "?"), vif_type)
    return converter(port, port.get("binding:vif_details") or {})
