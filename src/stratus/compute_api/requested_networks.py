"""The ``networks`` of POST /servers, checked against Neutron as the caller, as Nova does.

What is stored in the request spec (and read by the compute host's allocator) is one of:
``[]`` no networking, ``"auto"`` auto-allocate on the host, or a list of
``{"network_id", "port_id", "fixed_ip"[, "tag"]}``. Nothing not given (before 2.37) and
``"auto"`` both mean "the project's network": one is used, several are ambiguous (409);
none means no networking without ``networks``, and auto-allocation with ``"auto"``,
checked here by Neutron's dry run so a doomed request fails before anything is written.
A cloud with no network service boots ``"auto"`` servers without networking.
"""

from __future__ import annotations

import ipaddress
import uuid as uuidlib

from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    ServiceUnavailable,
)
from stratus.network import neutron
from stratus.network.neutron import NeutronClient, NeutronClients

AMBIGUOUS = "Multiple possible networks found, use a Network ID to be more specific."


def _unavailable(exc: neutron.NeutronError) -> APIError:
    if isinstance(exc, (neutron.NeutronNotAuthorized, neutron.NeutronForbidden)):
        return Forbidden(exc.reason)
    return ServiceUnavailable(f"The network service could not be used: {exc}")


def available_networks(client: NeutronClient, project_id: str, *,
                       auto_allocate: bool = False) -> list[dict]:
    """The networks a server of the project may boot on unasked: the project's own
    (not shared; up, when auto-allocating) and every shared one (Nova's rule)."""
    own = {"tenant_id": project_id, "shared": False}
    if auto_allocate:
        own["admin_state_up"] = True
    found = {n["id"]: n for n in client.list_networks(**own)}
    found.update((n["id"], n) for n in client.list_networks(shared=True))
    return list(found.values())


def resolve(clients: NeutronClients | None, context: RequestContext, networks,
            max_count: int):
    """The request spec form of ``networks`` (None: not given); the API error Nova gives
    for a network, port or address that cannot be used."""
    if networks == "none":
        return []
    entries = [_entry(network) for network in networks] if isinstance(networks, list) \
        else None
    if clients is None or not clients.available():
        # No network service at all: "auto" (what the CLI sends by default) and nothing
        # both mean no networking, as with "none"; a named network or port cannot be had.
        if entries:
            raise ServiceUnavailable("No network service is configured or in the catalog")
        return []
    try:
        client = clients.for_user(context)
        if entries is None:
            return _project_network(client, context, auto=networks == "auto")
        return _requested(client, context, entries, max_count)
    except neutron.NeutronError as exc:
        raise _unavailable(exc) from None


def _project_network(client: NeutronClient, context: RequestContext, *, auto: bool):
    nets = available_networks(client, context.project_id, auto_allocate=auto)
    if len(nets) > 1:
        raise Conflict(AMBIGUOUS)
    if nets:
        return [{"network_id": nets[0]["id"], "port_id": None, "fixed_ip": None}]
    if not auto:
        return []
    try:
        client.validate_auto_allocated_topology(context.project_id)
    except (neutron.NeutronConflict, neutron.NeutronBadRequest, neutron.NeutronNotFound):
        raise BadRequest(f"Unable to automatically allocate a network for project "
                         f"{context.project_id}") from None
    return "auto"


def _entry(network: dict) -> dict:
    """One ``networks`` item in request spec form; 400 in Nova's words for a bad one."""
    address = network.get("fixed_ip")
    port_id = network.get("port")
    if port_id:
        if address is not None:
            raise BadRequest(f"Specified Fixed IP '{address}' cannot be used with port "
                             f"'{port_id}': the two cannot be specified together.")
        entry = {"network_id": None, "port_id": port_id, "fixed_ip": None}
    else:
        if "uuid" not in network:
            raise BadRequest("Bad network format: missing 'uuid'")
        network_id = network["uuid"]
        if not _uuid_like(network_id) and not _uuid_like(network_id.split("-", 1)[-1]):
            raise BadRequest(f"Bad networks format: network uuid is not in proper format "
                             f"({network_id})")
        entry = {"network_id": network_id, "port_id": None, "fixed_ip": address}
    if network.get("tag") is not None:
        entry["tag"] = network["tag"]
    return entry


def _uuid_like(value: str) -> bool:
    try:
        uuidlib.UUID(str(value))
        return True
    except ValueError:
        return False


def _requested(client: NeutronClient, context: RequestContext, entries: list[dict],
               max_count: int) -> list[dict]:
    ports = [e["port_id"] for e in entries if e["port_id"]]
    if ports and max_count > 1:
        raise BadRequest("Unable to launch multiple instances with a single configured "
                         "port ID. Please launch your instance one by one with different "
                         "ports.")
    if any(e["fixed_ip"] for e in entries) and max_count > 1:
        raise BadRequest("max_count cannot be greater than 1 if an fixed_ip is specified.")
    seen: set[str] = set()
    for entry in entries:
        if entry["port_id"]:
            _check_port(client, context, entry["port_id"], seen)
    wanted = [e["network_id"] for e in entries if e["network_id"]]
    if not wanted:
        return entries
    found = {n["id"]: n for n in client.list_networks(id=sorted(set(wanted)))}
    missing = [n for n in dict.fromkeys(wanted) if n not in found]
    if missing:
        raise BadRequest(f"Network {', '.join(missing)} could not be found.")
    for network in found.values():
        if not network.get("subnets"):
            raise BadRequest(f"Network {network['id']} requires a subnet in order to boot "
                             f"instances on.")
        if network.get("router:external") and not network.get("shared") \
                and not context.is_admin:
            raise Forbidden(f"It is not allowed to create an interface on external network "
                            f"{network['id']}")
    for entry in entries:
        if entry["fixed_ip"]:
            _check_fixed_ip(client, entry["network_id"], entry["fixed_ip"])
    return entries


def _check_port(client: NeutronClient, context: RequestContext, port_id: str,
                seen: set[str]) -> None:
    try:
        port = client.show_port(port_id)
    except neutron.NeutronNotFound:
        raise BadRequest(f"Port id {port_id} could not be found.") from None
    if port.get("device_id") or port_id in seen:
        raise Conflict(f"Port {port_id} is still in use.")
    seen.add(port_id)
    owner = port.get("tenant_id") or port.get("project_id")
    if owner and owner != context.project_id and not context.is_admin:
        raise BadRequest(f"Port {port_id} not usable for instance.")
    if not port.get("fixed_ips"):
        raise BadRequest(f"Port {port_id} requires a FixedIP in order to be used.")


def _check_fixed_ip(client: NeutronClient, network_id: str, address: str) -> None:
    """The address must be free and inside one of the network's subnets."""
    # Filtered by Neutron, and checked here too: a service that ignores the filter
    # must not make every address look taken.
    in_use = [p for p in client.list_ports(network_id=network_id,
                                           fixed_ips=f"ip_address={address}")
              if any(f.get("ip_address") == address for f in p.get("fixed_ips") or [])]
    if in_use:
        raise BadRequest(f"Fixed IP address {address} is already in use on instance "
                         f"{in_use[0].get('device_id') or ''}.")
    ip = ipaddress.ip_address(address)
    for subnet in client.list_subnets(network_id=network_id):
        network = ipaddress.ip_network(subnet["cidr"], strict=False)
        if ip.version == network.version and ip in network:
            return
    raise BadRequest(f"IP address {address} is not a valid IP for any of the subnets on "
                     f"network {network_id}.")
