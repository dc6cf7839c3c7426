"""An instance's ports: made (or taken over) and bound to its host before it spawns, and
released when it goes — the compute side of Nova's ``allocate_for_instance``.

``requested`` is what the compute API validated and stored in the request spec: ``[]``
(no networking), ``"auto"`` (get me a network: the project's auto-allocated topology,
made now if it has none) or a list of ``{"network_id", "port_id", "fixed_ip"}``. Ports
Stratus creates are made in the user's project with the user's token; device and host
binding (``binding:host_id`` is admin-only) are set with the service account. A port the
user passed is kept on release (``preserve_on_delete``), only unbound; the ports Stratus
made are deleted. The result is the network info: each bound port as Neutron returned it,
with its ``network`` and ``subnets``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from stratus.network import neutron
from stratus.network.neutron import NeutronClient, NeutronClients, NeutronNotFound

LOG = logging.getLogger(__name__)

NETWORK_KEYS = ("id", "name", "mtu", "tenant_id", "project_id", "shared", "router:external",
                "provider:network_type", "provider:physical_network",
                "provider:segmentation_id", "port_security_enabled")
SUBNET_KEYS = ("id", "cidr", "gateway_ip", "ip_version", "dns_nameservers", "enable_dhcp")


class AutoAllocateFailed(Exception):
    """Neutron could not give the project a network (Nova's UnableToAutoAllocateNetwork)."""


def device_owner(availability_zone: str | None) -> str:
    """Nova's device_owner of an instance's port: ``compute:<zone>`` (``compute:nova``)."""
    return f"compute:{availability_zone or 'nova'}"


def requested_port_ids(requested) -> set[str]:
    """Ports the user passed in ``requested``: they are unbound, never deleted."""
    if not isinstance(requested, list):
        return set()
    return {r["port_id"] for r in requested if r.get("port_id")}


class NetworkAllocator:
    """Allocates and releases the ports of instances through ``clients``."""

    def __init__(self, clients: NeutronClients):
        self.clients = clients

    def allocate(self, context, instance: dict, requested, host: str) -> list[dict]:
        """Ports for ``instance`` on ``host``; nothing stays behind if this raises."""
        if not requested:
            return []
        user = self.clients.for_user(context)
        if requested == "auto":
            requested = [{"network_id": self._auto_allocated(user, instance["project_id"])}]
        admin = self.clients.admin()
        created: list[str] = []
        bound: list[dict] = []
        try:
            for request in requested:
                port_id = request.get("port_id")
                if not port_id:
                    port_id = self._create_port(user, instance, request)["id"]
                    created.append(port_id)
                bound.append(admin.update_port(port_id, **self.binding(instance, host)))
            return self.network_info(admin, bound, preserved=requested_port_ids(requested))
        except Exception:
            self._release(user, admin, created, [p["id"] for p in bound
                                                 if p["id"] not in created])
            raise

    def attach(self, context, instance: dict, host: str, *, network_id: str | None = None,
               port_id: str | None = None, fixed_ip: str | None = None) -> dict:
        """One more port for ``instance`` (os-interface attach): its network info entry."""
        request = {"network_id": network_id, "port_id": port_id, "fixed_ip": fixed_ip}
        return self.allocate(context, instance, [request], host)[0]

    def rebind(self, instance: dict, network_info: list[dict], host: str) -> list[dict]:
        """The instance's ports bound to ``host`` (it moved there): the new network info.
        A port that is gone meanwhile is dropped from it."""
        if not network_info:
            return []
        admin = self.clients.admin()
        bound = []
        for port in network_info:
            try:
                bound.append(admin.update_port(port["id"], **{"binding:host_id": host}))
            except NeutronNotFound:
                LOG.warning("Port %s of %s is gone; it is not moved to %s", port["id"],
                            instance["uuid"], host)
        return self.network_info(admin, bound, preserved=[
            p["id"] for p in network_info if p.get("preserve_on_delete")])

    @staticmethod
    def binding(instance: dict, host: str) -> dict:
        return {"device_id": instance["uuid"],
                "device_owner": device_owner(instance.get("availability_zone")),
                "binding:host_id": host}

    @staticmethod
    def _auto_allocated(user: NeutronClient, project_id: str) -> str:
        try:
            topology = user.get_auto_allocated_topology(project_id)
        except neutron.NeutronError as exc:
            raise AutoAllocateFailed(f"Unable to automatically allocate a network for "
                                     f"project {project_id}: {exc.reason}") from exc
        return topology["id"]

    @staticmethod
    def _create_port(user: NeutronClient, instance: dict, request: dict) -> dict:
        attributes = {"network_id": request["network_id"], "admin_state_up": True,
                      "tenant_id": instance["project_id"]}
        if request.get("fixed_ip"):
            attributes["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
        return user.create_port(**attributes)

    @staticmethod
    def network_info(client: NeutronClient, ports: list[dict],
                     preserved: Iterable[str] = ()) -> list[dict]:
        """Each port with its network and subnets (two list calls for all of them)."""
        if not ports:
            return []
        preserved = set(preserved)
        networks = {n["id"]: n for n in client.list_networks(
            id=sorted({p["network_id"] for p in ports}))}
        subnet_ids = sorted({f["subnet_id"] for p in ports for f in p.get("fixed_ips") or []
                             if f.get("subnet_id")})
        subnets = {s["id"]: s for s in client.list_subnets(id=subnet_ids)} if subnet_ids \
            else {}
        info = []
        for port in ports:
            network = networks.get(port["network_id"], {"id": port["network_id"]})
            own = [subnets[f["subnet_id"]] for f in port.get("fixed_ips") or []
                   if f.get("subnet_id") in subnets]
            info.append({**port,
                         "network": {k: network[k] for k in NETWORK_KEYS if k in network},
                         "subnets": [{k: s.get(k) for k in SUBNET_KEYS} for s in own],
                         "preserve_on_delete": port["id"] in preserved})
        return info

    def deallocate(self, context, instance_uuid: str, network_info: list[dict],
                   preserved: Iterable[str] = ()) -> None:
        """Release every port bound to the instance: delete those Stratus made, unbind
        those the user passed (``preserve_on_delete`` in the cache, or ``preserved``)."""
        if not self.clients.available():
            return
        admin = self.clients.admin()
        keep = set(preserved) | {p["id"] for p in network_info
                                 if p.get("preserve_on_delete")}
        ports = admin.list_ports(device_id=instance_uuid)
        user = self._user_or_none(context)
        self._release(user, admin, [p["id"] for p in ports if p["id"] not in keep],
                      [p["id"] for p in ports if p["id"] in keep])

    def detach(self, context, port: dict, preserve: bool) -> None:
        """Release one port (os-interface detach)."""
        user = self._user_or_none(context)
        admin = self.clients.admin()
        if preserve:
            self._release(user, admin, [], [port["id"]])
        else:
            self._release(user, admin, [port["id"]], [])

    def _user_or_none(self, context) -> NeutronClient | None:
        if context is None or not getattr(context, "auth_token", None):
            return None
        return self.clients.for_user(context)

    @staticmethod
    def _release(user: NeutronClient | None, admin: NeutronClient, delete: list[str],
                 unbind: list[str]) -> None:
        """Delete ``delete`` (as the user, else the service account) and unbind ``unbind``;
        a port already gone is fine, any other failure is logged and the rest go on."""
        for port_id in unbind:
            try:
                admin.update_port(port_id, **neutron.unbind_attributes())
            except NeutronNotFound:
                pass
            except neutron.NeutronError:
                LOG.exception("Could not unbind port %s", port_id)
        for port_id in delete:
            for client in [c for c in (user, admin) if c is not None]:
                try:
                    client.delete_port(port_id)
                    break
                except NeutronNotFound:
                    break
                except (neutron.NeutronNotAuthorized, neutron.NeutronForbidden):
                    continue  # the user's token may have expired: the service account
                except neutron.NeutronError:
                    LOG.exception("Could not delete port %s", port_id)
                    break
