"""A server's addresses from its info cache, keyed by network name (Nova's ``addresses``).

The info cache is a list of ports as Neutron returned them, each with its ``network``;
every fixed IP of a port is one address. The server view adds the address type and MAC
(``OS-EXT-IPS``); ``/servers/{id}/ips`` shows version and address only, as Nova does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator


def _label(port: dict) -> str:
    return (port.get("network") or {}).get("name") or port.get("network_id") or ""


def fixed_ips(network_info: list[dict]) -> Iterator[tuple[str, int, str, dict]]:
    """(network name, IP version, address, port) for every fixed IP of every port."""
    for port in network_info or []:
        for fixed in port.get("fixed_ips") or []:
            address = fixed.get("ip_address")
            if address:
                yield _label(port), ipaddress.ip_address(address).version, address, port


def addresses(network_info: list[dict], *, extended: bool = True) -> dict[str, list[dict]]:
    """``{network name: [{"version", "addr", ...}]}`` in port order; a port with no
    address yet still names its network (with an empty list), as in Nova."""
    out: dict[str, list[dict]] = {}
    for port in network_info or []:
        entries = out.setdefault(_label(port), [])
        for _name, version, address, _port in fixed_ips([port]):
            entry = {"version": version, "addr": address}
            if extended:
                entry["OS-EXT-IPS:type"] = "fixed"
                entry["OS-EXT-IPS-MAC:mac_addr"] = port.get("mac_address")
            entries.append(entry)
    return out
