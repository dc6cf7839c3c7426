"""The privsep context the Linux-bridge plugin's device changes run in."""

from oslo_privsep import capabilities as caps
from oslo_privsep import priv_context

vif_plug = priv_context.PrivContext(
    "stratus.network.vif_plug_stratus_bridge",
    cfg_section="vif_plug_stratus_bridge_privileged",
    pypath=__name__ + ".vif_plug",
    capabilities=[caps.CAP_NET_ADMIN],
)
