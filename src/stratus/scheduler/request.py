"""From a request spec to the query of ``GET /allocation_candidates`` (pure functions).

The flavor gives VCPU, MEMORY_MB and DISK_GB (root + ephemeral + swap rounded up to GiB);
its extra specs add or override resources (``resources:CLASS=N``, ``resourcesN:CLASS=N``),
traits (``trait:NAME=required|forbidden``, ``traitN:...``), ``group_policy`` and
``member_of`` / ``member_ofN`` (comma-separated aggregate uuids, any-of); image properties
``trait:NAME=required`` add required traits; an availability zone becomes ``member_of``
the aggregates that name it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

IPV4_ADDRESS = "IPV4_ADDRESS"
_RESOURCES = re.compile(r"^resources(\d*):([A-Z0-9_]+)$")
_TRAIT = re.compile(r"^trait(\d*):([A-Z0-9_]+)$")
_MEMBER_OF = re.compile(r"^member_of(\d*)$")


class InvalidRequest(ValueError):
    """The flavor's extra specs or the image's properties cannot be turned into a query."""


@dataclass
class RequestGroup:
    """One request group: the unnumbered one (suffix "") or a numbered one."""

    suffix: str = ""
    resources: dict[str, int] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    forbidden: set[str] = field(default_factory=set)
    member_of: list[list[str]] = field(default_factory=list)

    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        resources = {rc: n for rc, n in self.resources.items() if n > 0}
        if resources:
            out.append((f"resources{self.suffix}",
                        ",".join(f"{rc}:{n}" for rc, n in sorted(resources.items()))))
        traits = sorted(self.required) + [f"!{t}" for t in sorted(self.forbidden)]
        if traits:
            out.append((f"required{self.suffix}", ",".join(traits)))
        for aggregates in self.member_of:
            out.append((f"member_of{self.suffix}", "in:" + ",".join(sorted(aggregates))))
        return out


def disk_gb(flavor: dict) -> int:
    """Root + ephemeral disk, plus swap (MiB) rounded up to whole GiB."""
    swap_mb = int(flavor.get("swap") or 0)
    return (int(flavor.get("root_gb") or 0) + int(flavor.get("ephemeral_gb") or 0)
            + math.ceil(swap_mb / 1024))


def flavor_resources(flavor: dict) -> dict[str, int]:
    return {"VCPU": int(flavor.get("vcpus") or 0),
            "MEMORY_MB": int(flavor.get("memory_mb") or 0),
            "DISK_GB": disk_gb(flavor)}


def _amount(key: str, value: str) -> int:
    try:
        amount = int(value)
    except (TypeError, ValueError):
        amount = -1
    if amount < 0:
        raise InvalidRequest(f"Invalid extra spec {key}={value}: the amount must be a "
                             "whole number >= 0.")
    return amount


def _trait_rule(group: RequestGroup, key: str, name: str, value: str) -> None:
    rule = (value or "").strip().lower()
    if rule == "required":
        group.required.add(name)
    elif rule == "forbidden":
        group.forbidden.add(name)
    else:
        raise InvalidRequest(f"Invalid extra spec {key}={value}: use 'required' or "
                             "'forbidden'.")


def request_groups(flavor: dict, image_properties: dict | None = None
                   ) -> tuple[dict[str, RequestGroup], str | None]:
    """The request groups of a flavor (and image), keyed by suffix, and the group policy."""
    groups: dict[str, RequestGroup] = {"": RequestGroup("", flavor_resources(flavor))}
    policy = None

    def group(suffix: str) -> RequestGroup:
        return groups.setdefault(suffix, RequestGroup(suffix))

    for key, value in sorted((flavor.get("extra_specs") or {}).items()):
        if match := _RESOURCES.match(key):
            group(match.group(1)).resources[match.group(2)] = _amount(key, value)
        elif match := _TRAIT.match(key):
            _trait_rule(group(match.group(1)), key, match.group(2), value)
        elif match := _MEMBER_OF.match(key):
            aggregates = [a.strip() for a in str(value).split(",") if a.strip()]
            if not aggregates:
                raise InvalidRequest(f"Invalid extra spec {key}: no aggregate given.")
            group(match.group(1)).member_of.append(aggregates)
        elif key == "group_policy":
            if value not in ("isolate", "none"):
                raise InvalidRequest(f"Invalid extra spec group_policy={value}: use "
                                     "'isolate' or 'none'.")
            policy = value
    for key, value in sorted((image_properties or {}).items()):
        if (match := _TRAIT.match(key)) and not match.group(1):
            # Images may only require traits (as Nova): anything else is ignored.
            if str(value).strip().lower() == "required":
                groups[""].required.add(match.group(2))
    both = groups[""].required & groups[""].forbidden
    if both:
        raise InvalidRequest(f"Trait(s) {', '.join(sorted(both))} both required and "
                             "forbidden.")
    return groups, policy


def addresses_by_network(request_spec: dict) -> dict[str, int]:
    """{network id: addresses the instance takes from it}: one per requested network or
    fixed IP; a requested port has its address already, and "auto" names no network."""
    wanted: dict[str, int] = {}
    networks = request_spec.get("requested_networks")
    for entry in networks if isinstance(networks, list) else ():
        if entry.get("network_id") and not entry.get("port_id"):
            wanted[entry["network_id"]] = wanted.get(entry["network_id"], 0) + 1
    return wanted


def allocation_candidates_query(request_spec: dict, *, limit: int,
                                zone_aggregates: list[str] | None = None,
                                ip_pools: dict[str, int] | None = None
                                ) -> list[tuple[str, str]]:
    """The query parameters of ``GET /allocation_candidates`` (microversion 1.36).

    ``zone_aggregates``: the aggregates of the requested availability zone, when the zone
    is to be enforced by Placement. None or empty (e.g. the default zone, which no
    aggregate names) adds nothing: the AvailabilityZoneFilter still checks the zone.
    ``ip_pools``: {network id: addresses} of the requested networks whose subnets are
    IP pool providers; each becomes a group ``resources_NET<i>=IPV4_ADDRESS:<n>`` with
    ``member_of_NET<i>=<network id>``, met by a pool sharing with the host.
    """
    image = request_spec.get("image") or {}
    groups, policy = request_groups(request_spec["flavor"], image.get("properties"))
    if zone_aggregates:
        groups[""].member_of.append(list(zone_aggregates))
    params: list[tuple[str, str]] = []
    for suffix in sorted(groups, key=lambda s: (s != "", int(s) if s else 0)):
        params.extend(groups[suffix].params())
    numbered = [s for s in groups if s and groups[s].params()]
    for index, (network_id, count) in enumerate(sorted((ip_pools or {}).items())):
        suffix = f"_NET{index}"
        params.extend(RequestGroup(suffix, {IPV4_ADDRESS: count},
                                   member_of=[[network_id]]).params())
        numbered.append(suffix)
    if len(numbered) > 1:
        params.append(("group_policy", policy or "none"))
    params.append(("limit", str(limit)))
    return params


@dataclass
class Scheduling:
    """What filters and weighers know of the request being placed."""

    request_spec: dict
    group_policy: str | None = None  # affinity, anti-affinity, soft-affinity, ...
    group_rules: dict = field(default_factory=dict)
    # {host: members of the server group on it}, including hosts chosen earlier in
    # this same request.
    group_hosts: dict[str, int] = field(default_factory=dict)

    @property
    def flavor(self) -> dict:
        return self.request_spec["flavor"]

    @property
    def extra_specs(self) -> dict:
        return self.flavor.get("extra_specs") or {}

    @property
    def image_properties(self) -> dict:
        return (self.request_spec.get("image") or {}).get("properties") or {}

    @property
    def availability_zone(self) -> str | None:
        return self.request_spec.get("availability_zone")
