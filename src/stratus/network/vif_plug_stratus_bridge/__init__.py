"""Stratus' os-vif plugin for Linux bridges (os-vif 5 dropped its own linux_bridge plugin).

Registered as ``stratus_bridge`` in the ``os_vif`` entry-point namespace; its options are
``[os_vif_stratus_bridge]`` and its privsep section ``[vif_plug_stratus_bridge_privileged]``.
"""
