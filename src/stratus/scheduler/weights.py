"""Host weighers: each scores hosts, scores are scaled to 0..1 across the candidates, and
the weighted sum (multipliers in ``[filter_scheduler]``) orders the hosts, best first."""

from __future__ import annotations

from collections.abc import Callable

from oslo_config import cfg

from stratus.scheduler.host_state import HostState
from stratus.scheduler.request import Scheduling

Weigher = Callable[[HostState, Scheduling], float]


def _free(resource_class: str) -> Weigher:
    return lambda host, scheduling: float(host.free(resource_class))


def _soft_affinity(host: HostState, scheduling: Scheduling) -> float:
    if scheduling.group_policy != "soft-affinity":
        return 0.0
    return float(scheduling.group_hosts.get(host.host, 0))


def _soft_anti_affinity(host: HostState, scheduling: Scheduling) -> float:
    if scheduling.group_policy != "soft-anti-affinity":
        return 0.0
    return -float(scheduling.group_hosts.get(host.host, 0))


def _build_failures(host: HostState, scheduling: Scheduling) -> float:
    return -float(host.failed_builds)


# (multiplier option, weigher): a positive multiplier prefers higher scores.
WEIGHERS: list[tuple[str, Weigher]] = [
    ("ram_weight_multiplier", _free("MEMORY_MB")),
    ("cpu_weight_multiplier", _free("VCPU")),
    ("disk_weight_multiplier", _free("DISK_GB")),
    ("soft_affinity_weight_multiplier", _soft_affinity),
    ("soft_anti_affinity_weight_multiplier", _soft_anti_affinity),
    ("build_failure_weight_multiplier", _build_failures),
]


def _normalized(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if high == low:
        return [0.0 for _ in values]
    return [(value - low) / (high - low) for value in values]


def weigh(hosts: list[HostState], scheduling: Scheduling, conf: cfg.ConfigOpts
          ) -> list[tuple[float, HostState]]:
    """(weight, host) pairs, heaviest first; ties keep Placement's order."""
    if not hosts:
        return []
    totals = [0.0] * len(hosts)
    options = conf.filter_scheduler
    for option, weigher in WEIGHERS:
        multiplier = getattr(options, option)
        if not multiplier:
            continue
        scores = _normalized([weigher(host, scheduling) for host in hosts])
        totals = [total + multiplier * score for total, score in zip(totals, scores,
                                                                      strict=True)]
    ranked = sorted(range(len(hosts)), key=lambda i: -totals[i])
    return [(totals[i], hosts[i]) for i in ranked]
