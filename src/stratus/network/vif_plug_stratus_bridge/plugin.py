"""StratusBridgePlugin: os-vif's plugin API for VIFBridge ports on a Linux bridge.

Who makes what: ``plug`` makes the network's bridge (MTU from the network, up) and
enslaves the VIF's host device ``vif_name`` if it already exists. The device itself
belongs to whoever owns the instance's end: libvirt makes a tap and enslaves it itself
(``<interface type='bridge'>``), the fake driver's netns backing makes a veth pair before
plugging. ``unplug`` takes the device off the bridge (it does not delete it) and deletes
the bridge once no port is left on it.
"""

from __future__ import annotations

from os_vif import objects, plugin
from os_vif.objects import host_info, vif
from oslo_config import cfg

from stratus.network.vif_plug_stratus_bridge import linux_net

PLUGIN_NAME = "stratus_bridge"


class StratusBridgePlugin(plugin.PluginBase):
    """Plugs VIFBridge ports (no port profile) into per-network Linux bridges."""

    CONFIG_OPTS = [
        cfg.IntOpt("network_device_mtu", default=1500, min=68,
                   help="MTU of a bridge whose network has none."),
    ]

    def describe(self) -> host_info.HostPluginInfo:
        return host_info.HostPluginInfo(plugin_name=PLUGIN_NAME, vif_info=[
            host_info.HostVIFInfo(vif_object_name=vif.VIFBridge.__name__,
                                  min_version="1.0", max_version=vif.VIFBridge.VERSION,
                                  supported_port_profiles=[])])

    def _mtu(self, vif_obj: vif.VIFBridge) -> int:
        network = vif_obj.network if "network" in vif_obj else None
        if network is not None and "mtu" in network and network.mtu:
            return network.mtu
        return self.config.network_device_mtu

    @staticmethod
    def _bridge(vif_obj: vif.VIFBridge) -> str:
        if "bridge_name" in vif_obj and vif_obj.bridge_name:
            return vif_obj.bridge_name
        return vif_obj.network.bridge

    @staticmethod
    def _check(vif_obj: objects.vif.VIFBase) -> None:
        if not isinstance(vif_obj, vif.VIFBridge) or isinstance(vif_obj, vif.VIFOpenVSwitch):
            raise TypeError(f"{PLUGIN_NAME} plugs VIFBridge only, not "
                            f"{type(vif_obj).__name__}")

    def plug(self, vif_obj: objects.vif.VIFBase,
             instance_info: objects.instance_info.InstanceInfo) -> None:
        self._check(vif_obj)
        linux_net.plug_bridge_port(self._bridge(vif_obj), self._mtu(vif_obj),
                                   vif_obj.vif_name if "vif_name" in vif_obj else None)

    def unplug(self, vif_obj: objects.vif.VIFBase,
               instance_info: objects.instance_info.InstanceInfo) -> None:
        self._check(vif_obj)
        linux_net.unplug_bridge_port(self._bridge(vif_obj),
                                     vif_obj.vif_name if "vif_name" in vif_obj else None)
