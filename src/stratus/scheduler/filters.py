"""Host filters: each says whether one candidate host may take the request.

Filters are registered by class name; ``[filter_scheduler] enabled_filters`` names the
ones to run, in order. A name not registered here may be a dotted path to a class
(``package.module.ClassName``) with a ``host_passes(host, scheduling)`` method, so a
deployment can add its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from stratus.compute_api.store.availability_zones import DEFAULT_ZONE
from stratus.scheduler.host_state import HostState
from stratus.scheduler.request import Scheduling

FILTERS: dict[str, type[HostFilter]] = {}


class HostFilter:
    """A filter; subclasses implement :meth:`host_passes`."""

    def host_passes(self, host: HostState, scheduling: Scheduling) -> bool:
        raise NotImplementedError


def register(cls: type[HostFilter]) -> type[HostFilter]:
    FILTERS[cls.__name__] = cls
    return cls


def load_filters(names: Iterable[str]) -> list[HostFilter]:
    """Instances of the named filters; ValueError for a name that is no filter."""
    loaded = []
    for name in names:
        cls = FILTERS.get(name)
        if cls is None and "." in name:
            module, _, attr = name.rpartition(".")
            try:
                cls = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError):
                cls = None
        if cls is None or not callable(getattr(cls, "host_passes", None)):
            raise ValueError(f"[filter_scheduler] enabled_filters: no filter named {name!r}; "
                             f"known: {', '.join(sorted(FILTERS))}")
        loaded.append(cls())
    return loaded


@register
class ComputeFilter(HostFilter):
    """The host's compute service is up and enabled."""

    def host_passes(self, host: HostState, scheduling: Scheduling) -> bool:
        return host.service_up and not host.service_disabled


@register
class AvailabilityZoneFilter(HostFilter):
    """The host is in the requested zone (hosts in no zone's aggregate are in "nova")."""

    def host_passes(self, host: HostState, scheduling: Scheduling) -> bool:
        wanted = scheduling.availability_zone
        if not wanted:
            return True
        return wanted in (host.availability_zones or {DEFAULT_ZONE})


# Image property names, old and new spellings, by what they constrain.
_IMAGE_ARCH = ("hw_architecture", "architecture")
_IMAGE_HV_TYPE = ("img_hv_type", "hypervisor_type")
_IMAGE_VM_MODE = ("hw_vm_mode", "vm_mode")


def _image_value(properties: dict, names: tuple[str, ...]) -> str | None:
    for name in names:
        if properties.get(name):
            return str(properties[name]).lower()
    return None


@register
class ImagePropertiesFilter(HostFilter):
    """The host can run the image's architecture, hypervisor type and VM mode."""

    def host_passes(self, host: HostState, scheduling: Scheduling) -> bool:
        properties = scheduling.image_properties
        wanted = (_image_value(properties, _IMAGE_ARCH),
                  _image_value(properties, _IMAGE_HV_TYPE),
                  _image_value(properties, _IMAGE_VM_MODE))
        if wanted == (None, None, None):
            return True
        for supported in host.supported_instances:
            have = tuple((value or "").lower() for value in supported)
            if all(w is None or w == h for w, h in zip(wanted, have, strict=True)):
                return True
        return False


@register
class ServerGroupAffinityFilter(HostFilter):
    """An affinity group's next member goes where its members already are."""

    def host_passes(self, host: HostState, scheduling: Scheduling) -> bool:
        if scheduling.group_policy != "affinity" or not scheduling.group_hosts:
            return True
        return host.host in scheduling.group_hosts


@register
class ServerGroupAntiAffinityFilter(HostFilter):
    """An anti-affinity group keeps at most max_server_per_host (1) members per host."""

    def host_passes(self, host: HostState, scheduling: Scheduling) -> bool:
        if scheduling.group_policy != "anti-affinity":
            return True
        limit = int(scheduling.group_rules.get("max_server_per_host", 1))
        return scheduling.group_hosts.get(host.host, 0) < limit


_SCOPE = "aggregate_instance_extra_specs"
# Unscoped extra specs that mean something else (they shape the Placement query).
_NOT_FOR_AGGREGATES = ("group_policy", "member_of")


@register
class AggregateInstanceExtraSpecsFilter(HostFilter):
    """Each ``aggregate_instance_extra_specs:key`` (or unscoped key) of the flavor equals
    the value of that key in one of the host's aggregates' metadata."""

    def host_passes(self, host: HostState, scheduling: Scheduling) -> bool:
        for key, wanted in scheduling.extra_specs.items():
            scope, _, name = key.rpartition(":")
            if scope and scope != _SCOPE:
                continue
            if not scope and name.startswith(_NOT_FOR_AGGREGATES):
                continue
            values = set()
            for aggregate in host.aggregates:
                if name in aggregate.metadata:
                    values.update(v.strip() for v in aggregate.metadata[name].split(","))
            if str(wanted).strip() not in values:
                return False
        return True
