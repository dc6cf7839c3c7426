"""Address arithmetic: default gateways and allocation pools, the next free address of a
subnet, and the next free prefix of a subnet pool. Pure functions; the SQL is elsewhere."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

from stratus.netsvc.errors import conflict, invalid_input, invalid_request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def default_gateway(cidr: Network) -> str | None:
    if cidr.num_addresses < 4 if cidr.version == 4 else cidr.num_addresses < 2:
        return None
    return str(cidr.network_address + 1)


def host_range(cidr: Network) -> tuple[int, int]:
    """The first and last usable address: IPv4 keeps network and broadcast out; IPv6
    keeps out the subnet-router anycast address (the first)."""
    first, last = int(cidr.network_address), int(cidr.broadcast_address)
    if cidr.version == 4:
        return (first + 1, last - 1) if cidr.prefixlen < 31 else (first, last)
    return (first + 1, last) if cidr.prefixlen < 128 else (first, last)


def default_pools(cidr: Network, gateway: str | None) -> list[dict]:
    """The whole host range less the gateway, as Neutron computes it."""
    first, last = host_range(cidr)
    ranges = [(first, last)]
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        ranges = [(lo, hi) for lo, hi in ((first, gw - 1), (gw + 1, last)) if lo <= hi] \
            if first <= gw <= last else ranges
    cls = ipaddress.IPv4Address if cidr.version == 4 else ipaddress.IPv6Address
    return [{"start": str(cls(lo)), "end": str(cls(hi))} for lo, hi in ranges if lo <= hi]


def check_pools(cidr: Network, pools: list[dict], gateway: str | None) -> list[dict]:
    """Given pools are inside the subnet, do not overlap and do not hold the gateway."""
    spans = []
    for pool in pools:
        start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        if start.version != cidr.version or end.version != cidr.version \
                or start not in cidr or end not in cidr:
            # A BadRequest in Neutron (400), unlike the two conflicts below.
            raise invalid_request("OutOfBoundsAllocationPool",
                                  f"The allocation pool {pool['start']}-{pool['end']} spans "
                                  f"beyond the subnet cidr {cidr}.")
        if start > end:
            raise invalid_input(f"Invalid allocation pool {pool['start']}-{pool['end']}")
        spans.append((int(start), int(end), pool))
    spans.sort(key=lambda span: span[0])
    for (_, end1, p1), (start2, _, p2) in zip(spans, spans[1:], strict=False):
        if start2 <= end1:
            raise conflict("OverlappingAllocationPools",
                           f"Found overlapping allocation pools: {p1} and {p2} for subnet "
                           f"{cidr}.")
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        for start, end, pool in spans:
            if start <= gw <= end:
                raise conflict("GatewayConflictWithAllocationPools",
                               f"Gateway ip {gateway} conflicts with allocation pool "
                               f"{pool['start']}-{pool['end']}.")
    return [{"start": p["start"], "end": p["end"]} for _, _, p in spans]


def in_pools(address: str, pools: list[dict]) -> bool:
    value = int(ipaddress.ip_address(address))
    return any(int(ipaddress.ip_address(p["start"])) <= value
               <= int(ipaddress.ip_address(p["end"])) for p in pools)


def first_free(pools: list[dict], used: set[str], version: int) -> str | None:
    """The lowest pool address not in ``used``; None when the pools are full."""
    taken = {int(ipaddress.ip_address(u)) for u in used}
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    for pool in pools:
        lo, hi = int(ipaddress.ip_address(pool["start"])), int(ipaddress.ip_address(pool["end"]))
        candidate = lo
        # Only the taken addresses of this pool are walked, never the whole pool.
        for value in sorted(t for t in taken if lo <= t <= hi):
            if value > candidate:
                break
            candidate = value + 1
        if candidate <= hi:
            return str(cls(candidate))
    return None


def next_prefix(pool_prefixes: Iterable[str], used: Iterable[str], prefixlen: int
                ) -> str | None:
    """The first ``/prefixlen`` inside the pool's prefixes overlapping no used CIDR."""
    taken = [ipaddress.ip_network(u) for u in used]
    for prefix in sorted(ipaddress.ip_network(p) for p in pool_prefixes):
        if prefixlen < prefix.prefixlen:
            continue
        for candidate in _candidates(prefix, prefixlen, taken):
            return str(candidate)
    return None


def _candidates(prefix: Network, prefixlen: int, taken: list[Network]) -> Iterator[Network]:
    """Free subnets of ``prefix``; jumps past each used block instead of stepping one by one."""
    size = 1 << (prefix.max_prefixlen - prefixlen)
    start, end = int(prefix.network_address), int(prefix.broadcast_address)
    blocks = sorted((int(t.network_address), int(t.broadcast_address)) for t in taken
                    if t.version == prefix.version and t.overlaps(prefix))
    cls = type(prefix)
    value = start
    while value + size - 1 <= end:
        clash = next(((lo, hi) for lo, hi in blocks if lo <= value + size - 1 and hi >= value),
                     None)
        if clash is None:
            yield cls((value, prefixlen))
            return
        value = ((clash[1] + 1 + size - 1) // size) * size


def within(cidr: str, prefixes: Iterable[str]) -> bool:
    net = ipaddress.ip_network(cidr)
    return any(net.version == p.version and net.subnet_of(p)
               for p in (ipaddress.ip_network(x) for x in prefixes))
