"""Plugging an instance's ports on this host through os-vif: what a virt driver calls.

``plug_vifs(conf, instance, network_info)`` before the instance's devices are used,
``unplug_vifs(conf, instance, network_info)`` when it goes. ``network_info`` is a list of
bound Neutron ports, each with its ``network`` and ``subnets``
(:mod:`stratus.network.os_vif_util` says which fields are read).

os-vif and oslo.privsep are configured through oslo.config's global ``CONF``, once per
process: :func:`initialize` copies the ``[os_vif]`` options there and runs
``os_vif.initialize()``; a process that changes those options (tests pointing at a new
OVS) initializes again, so one process serves one os-vif configuration at a time.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

import os_vif
from os_vif.objects import vif as osv_vif
from oslo_config import cfg
from oslo_privsep import priv_context
from vif_plug_ovs import ovs as ovs_plugin
from vif_plug_ovs import privsep as ovs_privsep

from stratus.network import os_vif_util
from stratus.network.vif_plug_stratus_bridge import plugin as bridge_plugin
from stratus.network.vif_plug_stratus_bridge import privsep as bridge_privsep

LOG = logging.getLogger(__name__)

_init_lock = threading.Lock()
# The [os_vif] settings os-vif was last initialized with (None: not yet).
_initialized_with: tuple | None = None


class VifPlugError(Exception):
    """A port could not be plugged; the ports plugged before it were unplugged again."""


def privsep_helper_command(conf: cfg.ConfigOpts) -> str:
    """The command that starts a privsep daemon: the option, else this venv's helper."""
    return conf.os_vif.privsep_helper_command or os.path.join(sys.prefix, "bin",
                                                              "privsep-helper")


def privsep_in_process(conf: cfg.ConfigOpts) -> bool:
    """Whether privileged functions run in this process rather than a privsep daemon."""
    mode = conf.os_vif.privsep_mode
    return mode == "in_process" or (mode == "auto" and os.geteuid() == 0)


def configure_privsep(conf: cfg.ConfigOpts, context: priv_context.PrivContext) -> None:
    """Set ``context`` up as ``[os_vif] privsep_mode`` says, before its first call."""
    if privsep_in_process(conf):
        context.set_client_mode(False)
        return
    context.set_client_mode(True)
    cfg.CONF.set_override("helper_command", privsep_helper_command(conf),
                          group=context.cfg_section)


def _settings(conf: cfg.ConfigOpts) -> tuple:
    opts = conf.os_vif
    return (opts.privsep_mode, opts.privsep_helper_command, opts.ovsdb_connection,
            opts.ovs_vsctl_timeout, opts.network_device_mtu)


def _stop_ovsdb_connection() -> None:
    """Close the previous ovs plugin's OVSDB connection (its thread would reconnect on)."""
    manager = os_vif._EXT_MANAGER
    if manager is None or "ovs" not in manager.names():
        return
    ovsdb = getattr(manager["ovs"].obj, "ovsdb", None)
    api = getattr(ovsdb, "_ovsdb", None)
    connection = getattr(api, "ovsdb_connection", None)
    if connection is not None:
        try:
            connection.stop(timeout=5)
        except Exception:  # a connection already broken is as good as stopped
            LOG.debug("stopping the old OVSDB connection failed", exc_info=True)


def initialize(conf: cfg.ConfigOpts) -> None:
    """Configure os-vif's plugins and privsep contexts from ``conf`` and load them."""
    global _initialized_with
    settings = _settings(conf)
    with _init_lock:
        if _initialized_with == settings:
            return
        opts = conf.os_vif
        # os-vif registers a plugin's options when it loads it, and the ovs plugin reads
        # them right then: register them first so the overrides are in place.
        cfg.CONF.register_opts(ovs_plugin.OvsPlugin.CONFIG_OPTS, group="os_vif_ovs")
        cfg.CONF.set_override("ovsdb_connection", opts.ovsdb_connection, group="os_vif_ovs")
        cfg.CONF.set_override("ovs_vsctl_timeout", opts.ovs_vsctl_timeout, group="os_vif_ovs")
        cfg.CONF.set_override("network_device_mtu", opts.network_device_mtu,
                              group="os_vif_ovs")
        cfg.CONF.register_opts(bridge_plugin.StratusBridgePlugin.CONFIG_OPTS,
                               group="os_vif_" + bridge_plugin.PLUGIN_NAME)
        cfg.CONF.set_override("network_device_mtu", opts.network_device_mtu,
                              group="os_vif_" + bridge_plugin.PLUGIN_NAME)
        for context in (ovs_privsep.vif_plug, bridge_privsep.vif_plug):
            configure_privsep(conf, context)
        if _initialized_with is not None:
            _stop_ovsdb_connection()
        os_vif.initialize(reset=_initialized_with is not None)
        _initialized_with = settings


def vifs_of(network_info: list[dict] | None) -> list[osv_vif.VIFBase]:
    """The os-vif VIF of each port (UnsupportedVifType for a port we cannot plug)."""
    return [os_vif_util.port_to_vif(port) for port in network_info or []]


def plug_vifs(conf: cfg.ConfigOpts, instance: dict,
              network_info: list[dict] | None) -> list[osv_vif.VIFBase]:
    """Plug each port of ``instance``; all or nothing. Returns the plugged VIFs.

    Raises UnsupportedVifType before plugging anything if a port's binding is not one we
    plug, and VifPlugError (after unplugging what was plugged) if os-vif fails.
    """
    vifs = vifs_of(network_info)
    if not vifs:
        return []
    initialize(conf)
    info = os_vif_util.instance_info(instance)
    done: list[osv_vif.VIFBase] = []
    for vif in vifs:
        try:
            os_vif.plug(vif, info)
        except Exception as exc:
            for plugged in reversed(done):
                _unplug_one(plugged, info)
            raise VifPlugError(f"Plugging port {vif.id} of instance {instance['uuid']} "
                               f"failed: {exc}") from exc
        done.append(vif)
    return done


def _unplug_one(vif: osv_vif.VIFBase, info) -> bool:
    try:
        os_vif.unplug(vif, info)
        return True
    except Exception:
        LOG.exception("Unplugging port %s of instance %s failed", vif.id, info.uuid)
        return False


def unplug_vifs(conf: cfg.ConfigOpts, instance: dict,
                network_info: list[dict] | None) -> bool:
    """Unplug each port of ``instance``, carrying on past failures (they are logged).

    Returns whether every port was unplugged; a port already gone is no failure.
    """
    vifs = vifs_of(network_info)
    if not vifs:
        return True
    initialize(conf)
    info = os_vif_util.instance_info(instance)
    return all([_unplug_one(vif, info) for vif in vifs])
