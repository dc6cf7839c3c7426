"""os-interface: a server's ports as Neutron has them, attached and detached on its host.

Listing and showing ask Neutron (ports whose device is the server), as Nova does. Attach
checks the request against Neutron as the caller, then calls the server's host, which
makes or takes the port, binds it and plugs it, and answers with it; detach is cast to the
host, which unplugs the port and deletes it (one Stratus made) or unbinds it (one the user
passed).
"""

from __future__ import annotations

from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import (
    APIError,
    BadRequest,
    Conflict,
    NotFound,
    ServiceUnavailable,
    for_status,
)
from stratus.compute_api import requested_networks, server_actions
from stratus.compute_api.server_lookup import Located
from stratus.compute_api.service import ComputeService
from stratus.network import neutron

# Nova's attach and detach: active, paused or stopped, with no task running.
INTERFACE_VM_STATES = ("active", "paused", "stopped")


def view(port: dict) -> dict:
    """Nova's interfaceAttachment of a port."""
    return {"net_id": port["network_id"], "port_id": port["id"],
            "mac_addr": port.get("mac_address"), "port_state": port.get("status"),
            "fixed_ips": [{"subnet_id": f.get("subnet_id"), "ip_address": f.get("ip_address")}
                          for f in port.get("fixed_ips") or []]}


def _client(compute: ComputeService, context: RequestContext) -> neutron.NeutronClient:
    clients = compute.network_api
    if clients is None or not clients.available():
        # Nova's answer when its network API cannot do this: 501.
        raise for_status(501, "Network driver does not support this function.")
    try:
        return clients.for_user(context)
    except neutron.NeutronError as exc:
        raise ServiceUnavailable(str(exc)) from None


def _neutron_error(exc: neutron.NeutronError) -> APIError:
    return ServiceUnavailable(f"The network service could not be used: {exc}")


def list_ports(compute: ComputeService, context: RequestContext, server_id: str) -> list[dict]:
    try:
        return _client(compute, context).list_ports(device_id=server_id)
    except neutron.NeutronError as exc:
        raise _neutron_error(exc) from None


def show_port(compute: ComputeService, context: RequestContext, server_id: str,
              port_id: str) -> dict:
    try:
        port = _client(compute, context).show_port(port_id)
    except neutron.NeutronNotFound:
        raise NotFound(f"Port id {port_id} could not be found.") from None
    except neutron.NeutronError as exc:
        raise _neutron_error(exc) from None
    if port.get("device_id") != server_id:
        raise NotFound(f"Instance {server_id} does not have a port with id {port_id}")
    return port


def _check_state(located: Located, context: RequestContext, action: str) -> str:
    server = located.server
    try:
        server_actions.check_not_locked(server, context)
    except server_actions.ActionRefused as refused:
        raise Conflict(str(refused)) from None
    if located.cell is None or server["vm_state"] not in INTERFACE_VM_STATES:
        attr, state = "vm_state", server["vm_state"]
    elif server.get("task_state") is not None:
        attr, state = "task_state", server["task_state"]
    else:
        return server["host"]
    raise Conflict(f"Cannot '{action}' instance {server['uuid']} while it is in "
                   f"{attr} {state}")


def attach(compute: ComputeService, context: RequestContext, located: Located, *,
           network_id: str | None, port_id: str | None, fixed_ip: str | None) -> dict:
    """The new port of the server, bound and plugged on its host."""
    if network_id and port_id:
        raise BadRequest("Must not input both network_id and port_id")
    if fixed_ip and not network_id:
        raise BadRequest("Must input network_id when request IP address")
    host = _check_state(located, context, "attach_interface")
    client = _client(compute, context)
    try:
        network_id = _check_request(client, context, network_id, port_id, fixed_ip)
    except neutron.NeutronError as exc:
        raise _neutron_error(exc) from None
    uuid = located.server["uuid"]
    try:
        entry = compute.compute_rpc.client(host).call(
            context, "attach_interface", instance_uuid=uuid, network_id=network_id,
            port_id=port_id, fixed_ip=fixed_ip)
    except Exception:
        raise APIError(f"Failed to attach network adapter device to {uuid}") from None
    return entry


def _check_request(client: neutron.NeutronClient, context: RequestContext,
                   network_id: str | None, port_id: str | None,
                   fixed_ip: str | None) -> str | None:
    """The network to attach to (the project's one when neither is given)."""
    if port_id:
        try:
            port = client.show_port(port_id)
        except neutron.NeutronNotFound:
            raise NotFound(f"Port id {port_id} could not be found.") from None
        if port.get("device_id"):
            raise Conflict(f"Port {port_id} is still in use.")
        return None
    if network_id:
        if not client.list_networks(id=network_id):
            raise NotFound(f"Network {network_id} could not be found.")
        if fixed_ip:
            try:
                requested_networks._check_fixed_ip(client, network_id, fixed_ip)
            except BadRequest as bad:
                if "already in use" in str(bad):
                    raise Conflict(str(bad)) from None
                raise
        return network_id
    nets = requested_networks.available_networks(client, context.project_id)
    if len(nets) > 1:
        raise BadRequest(requested_networks.AMBIGUOUS)
    if not nets:
        raise BadRequest(f"No specific network was requested and none are available for "
                         f"project '{context.project_id}'.")
    return nets[0]["id"]


def detach(compute: ComputeService, context: RequestContext, located: Located,
           port_id: str) -> None:
    host = _check_state(located, context, "detach_interface")
    show_port(compute, context, located.server["uuid"], port_id)
    compute.compute_rpc.client(host).cast(context, "detach_interface",
                                          instance_uuid=located.server["uuid"],
                                          port_id=port_id)
