"""A small in-memory Neutron v2.0 (networks, subnets, ports, auto-allocated topology) on a
real socket, for tests of the compute side's networking that must not depend on the
network service's own state: the cloud is pointed at it with ``neutron.endpoint_override``.

It keeps what the compute side reads and writes: filters by id, tenant_id, shared,
admin_state_up, device_id, network_id and ``fixed_ips=ip_address=...``; addresses handed out
in order from the subnet; ``binding:vif_type`` ovs once ``binding:host_id`` is set. Tokens
are not checked (the compute side's choice of token is not what these tests prove).
"""

from __future__ import annotations

import ipaddress
import json
import threading
import uuid
from urllib.parse import parse_qsl

from harness import free_port

from stratus.common.wsgi.server import Server


class FakeNeutron:
    def __init__(self):
        self.networks: dict[str, dict] = {}
        self.subnets: dict[str, dict] = {}
        self.ports: dict[str, dict] = {}
        self.auto_allocation = True  # the dry run passes
        self.topologies: dict[str, str] = {}  # project -> network id
        self._lock = threading.Lock()
        self._next_mac = 1
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = Server(self.app, "127.0.0.1", self.port, threads=4, max_threads=16)

    def start(self) -> FakeNeutron:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    # --- fixtures -----------------------------------------------------------------------

    def add_network(self, name: str, tenant_id: str, cidr: str | None = "192.168.10.0/24",
                    shared: bool = False, external: bool = False) -> dict:
        with self._lock:
            return self._add_network(name, tenant_id, cidr, shared, external)

    def _add_network(self, name, tenant_id, cidr, shared, external) -> dict:
        network = {"id": str(uuid.uuid4()), "name": name, "tenant_id": tenant_id,
                   "project_id": tenant_id, "shared": shared, "admin_state_up": True,
                   "router:external": external, "mtu": 1450, "status": "ACTIVE",
                   "subnets": []}
        self.networks[network["id"]] = network
        if cidr:
            net = ipaddress.ip_network(cidr)
            subnet = {"id": str(uuid.uuid4()), "network_id": network["id"], "cidr": cidr,
                      "ip_version": net.version, "gateway_ip": str(net[1]),
                      "dns_nameservers": [], "enable_dhcp": True, "tenant_id": tenant_id,
                      "_next": 2}
            self.subnets[subnet["id"]] = subnet
            network["subnets"].append(subnet["id"])
        return network

    def ports_of(self, device_id: str) -> list[dict]:
        return [p for p in self.ports.values() if p["device_id"] == device_id]

    # --- WSGI ---------------------------------------------------------------------------

    def app(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ["PATH_INFO"].removeprefix("/v2.0")
        query = parse_qsl(environ.get("QUERY_STRING", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length)) if length else None
        with self._lock:
            status, answer = self._handle(method, path.strip("/").split("/"), query, body)
        data = json.dumps(answer).encode() if answer is not None else b""
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def _error(status: str, kind: str, message: str):
        return status, {"NeutronError": {"type": kind, "message": message, "detail": ""}}

    def _handle(self, method, parts, query, body):
        collection = {"networks": self.networks, "subnets": self.subnets,
                      "ports": self.ports}.get(parts[0])
        if parts[0] == "auto-allocated-topology":
            return self._topology(parts[1], query)
        if collection is None:
            return self._error("404 Not Found", "HTTPNotFound", "no such resource")
        singular = parts[0][:-1]
        if len(parts) == 1 and method == "GET":
            return "200 OK", {parts[0]: [_public(r) for r in _filtered(collection, query)]}
        if len(parts) == 1 and method == "POST" and parts[0] == "ports":
            return self._create_port(body["port"])
        item = collection.get(parts[1]) if len(parts) > 1 else None
        if item is None:
            kind = f"{singular.capitalize()}NotFound"
            return self._error("404 Not Found", kind,
                               f"{singular.capitalize()} {parts[1]} could not be found.")
        if method == "GET":
            return "200 OK", {singular: _public(item)}
        if method == "PUT" and parts[0] == "ports":
            item.update(body["port"])
            bound = bool(item.get("binding:host_id"))
            item.update({"binding:vif_type": "ovs" if bound else "unbound",
                         "binding:vif_details": {"port_filter": True} if bound else {},
                         "status": "ACTIVE" if bound else "DOWN"})
            return "200 OK", {"port": _public(item)}
        if method == "DELETE" and parts[0] == "ports":
            del self.ports[item["id"]]
            return "204 No Content", None
        return self._error("405 Method Not Allowed", "HTTPMethodNotAllowed", method)

    def _create_port(self, attrs):
        network = self.networks.get(attrs["network_id"])
        if network is None:
            return self._error("404 Not Found", "NetworkNotFound", "Network not found")
        fixed = []
        subnets = [self.subnets[s] for s in network["subnets"]]
        for wanted in attrs.get("fixed_ips") or [{}]:
            address = wanted.get("ip_address")
            for subnet in subnets:
                net = ipaddress.ip_network(subnet["cidr"])
                if address is None:
                    address = str(net[subnet["_next"]])
                    subnet["_next"] += 1
                if ipaddress.ip_address(address) in net:
                    fixed.append({"subnet_id": subnet["id"], "ip_address": address})
                    break
            else:
                if subnets:
                    return self._error("400 Bad Request", "InvalidIpForNetwork",
                                       f"IP address {address} is not a valid IP")
        mac = f"fa:16:3e:00:00:{self._next_mac:02x}"
        self._next_mac += 1
        port = {"id": str(uuid.uuid4()), "network_id": network["id"],
                "tenant_id": attrs.get("tenant_id") or network["tenant_id"],
                "mac_address": mac, "fixed_ips": fixed, "device_id": "", "device_owner": "",
                "status": "DOWN", "admin_state_up": True, "binding:host_id": None,
                "binding:vif_type": "unbound", "binding:vif_details": {}, "name": ""}
        port["project_id"] = port["tenant_id"]
        port.update({k: v for k, v in attrs.items() if k not in ("fixed_ips",)})
        self.ports[port["id"]] = port
        return "201 Created", {"port": _public(port)}

    def _topology(self, project_id, query):
        if ("fields", "dry-run") in query:
            if not self.auto_allocation:
                return self._error("409 Conflict", "AutoAllocationFailure",
                                   "Deployment error: No default router:external network.")
            return "200 OK", {"dry-run": "pass"}
        if not self.auto_allocation:
            return self._error("409 Conflict", "AutoAllocationFailure", "cannot")
        if project_id not in self.topologies:
            index = len(self.topologies) + 1
            network = self._add_network("auto_allocated_network", project_id,
                                        f"10.{index}.0.0/24", False, False)
            self.topologies[project_id] = network["id"]
        return "200 OK", {"auto_allocated_topology": {"id": self.topologies[project_id],
                                                      "tenant_id": project_id}}


def _public(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def _filtered(collection: dict, query: list[tuple[str, str]]) -> list[dict]:
    wanted: dict[str, set[str]] = {}
    for key, value in query:
        if key != "fields":
            wanted.setdefault(key, set()).add(value)

    def matches(item: dict) -> bool:
        for key, values in wanted.items():
            if key == "fixed_ips":
                addresses = {f"ip_address={f['ip_address']}" for f in item["fixed_ips"]}
                if not addresses & values:
                    return False
                continue
            value = item.get(key)
            text = str(value).lower() if isinstance(value, bool) else str(value or "")
            if text not in values:
                return False
        return True

    return [item for item in collection.values() if matches(item)]
