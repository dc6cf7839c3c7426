"""/servers/{id}/ips (the info cache) and /servers/{id}/os-interface (Neutron's ports)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import NotFound
from stratus.compute_api import server_interfaces
from stratus.compute_api.handlers import service
from stratus.compute_api.handlers.servers import get_server
from stratus.compute_api.schemas import interfaces as schemas
from stratus.compute_api.views.addresses import addresses

# --- ips ------------------------------------------------------------------------------------


def list_ips(req: Request, resp, server_id: str) -> None:
    server = get_server(req, server_id).server
    send(resp, {"addresses": addresses(server.get("network_info") or [], extended=False)})


def show_ips(req: Request, resp, server_id: str, network_label: str) -> None:
    server = get_server(req, server_id).server
    networks = addresses(server.get("network_info") or [], extended=False)
    if network_label not in networks:
        raise NotFound("Instance is not a member of specified network")
    send(resp, {network_label: networks[network_label]})


# --- os-interface ---------------------------------------------------------------------------

def list_interfaces(req: Request, resp, server_id: str) -> None:
    get_server(req, server_id)
    ports = server_interfaces.list_ports(service(req), req.auth, server_id)
    send(resp, {"interfaceAttachments": [server_interfaces.view(p) for p in ports]})


def show_interface(req: Request, resp, server_id: str, port_id: str) -> None:
    get_server(req, server_id)
    port = server_interfaces.show_port(service(req), req.auth, server_id, port_id)
    send(resp, {"interfaceAttachment": server_interfaces.view(port)})


def attach_interface(req: Request, resp, server_id: str) -> None:
    body = json_body(req, schemas.create)
    attachment = body.get("interfaceAttachment") or {}
    fixed_ips = attachment.get("fixed_ips") or []
    located = get_server(req, server_id)
    port = server_interfaces.attach(
        service(req), req.auth, located, network_id=attachment.get("net_id"),
        port_id=attachment.get("port_id"),
        fixed_ip=fixed_ips[0]["ip_address"] if fixed_ips else None)
    send(resp, {"interfaceAttachment": server_interfaces.view(port)})


def detach_interface(req: Request, resp, server_id: str, port_id: str) -> None:
    located = get_server(req, server_id)
    server_interfaces.detach(service(req), req.auth, located, port_id)
    send(resp, status=202)
