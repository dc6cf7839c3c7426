"""Every Stratus option, grouped by area; ``list_opts`` feeds oslo-config-generator."""

from __future__ import annotations

from oslo_config import cfg
from oslo_log import log as oslo_log
from oslo_policy import opts as policy_opts

from stratus.conf import (
    cells,
    compute,
    database,
    identity,
    image,
    network,
    neutron,
    os_vif,
    placement,
    scheduler,
    service,
)

# Each area module exposes GROUPS: a list of (group name or None for DEFAULT, [opts]).
_AREAS = (service, database, identity, cells, image, placement, scheduler, compute, neutron,
          os_vif, network)


def _groups():
    for area in _AREAS:
        yield from area.GROUPS


def register_all(conf: cfg.ConfigOpts) -> None:
    """Register every option Stratus reads, including oslo.log's and oslo.messaging's."""
    for group, group_opts in _groups():
        conf.register_opts(group_opts, group=group)
    oslo_log.register_options(conf)
    # [oslo_policy] policy_file: read relative to the config files, then the state dir.
    policy_opts.set_defaults(conf)
    # oslo.messaging registers its options when a transport is made (stratus.common.rpc);
    # the policy enforcer registers [oslo_policy] when it is built.


def list_opts():
    """Entry point for ``oslo-config-generator --namespace stratus``."""
    merged: dict[str | None, list] = {}
    for group, group_opts in [*_groups(), *placement.SAMPLE_GROUPS, *neutron.SAMPLE_GROUPS]:
        merged.setdefault(group, []).extend(group_opts)
    return [("DEFAULT" if group is None else group, group_opts)
            for group, group_opts in merged.items()]

