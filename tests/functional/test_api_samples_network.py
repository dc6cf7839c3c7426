"""Network API samples for doc/api-ref: one conversation, every body checked against its file.

The demo project's member builds a private network, subnet, port, router and security
group; the cloud admin makes a shared subnet pool, binds the port to a host as Nova
does, and manages the demo project's quotas. The ids that recur across samples are
pinned, so one network reads as the same network on every page.
"""

from __future__ import annotations

import uuid

import requests
from compute_helpers import admin_project_id, demo_project_id
from samples import Samples


def test_network_api_samples(cloud):
    samples = Samples("network", cloud.url)
    base = f"{cloud.url}/network"
    member, admin = cloud.demo_token(), cloud.admin_token()
    demo_project, admin_project = demo_project_id(cloud), admin_project_id(cloud)
    taken: list[tuple[str, object]] = []

    def call(method: str, path: str, name: str | None = None, body=None, status: int = 200,
             token: str | None = member) -> requests.Response:
        if name and body is not None:
            taken.append((f"{name}-req", body))
        headers = {"X-Auth-Token": token} if token else {}
        resp = requests.request(method, f"{base}{path}", json=body, headers=headers)
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
        if name and resp.content:
            taken.append((f"{name}-resp" if status < 400 else f"{name}-error", resp.json()))
        return resp

    call("GET", "/", "list-versions", token=None)
    call("GET", "/v2.0", "list-resources")
    call("GET", "/v2.0/extensions", "list-extensions")
    call("GET", "/v2.0/extensions/router", "show-extension")

    [public] = call("GET", "/v2.0/networks?router:external=true").json()["networks"]
    net = call("POST", "/v2.0/networks", "create-network", {"network": {
        "name": "private", "description": "The demo project's network",
        "admin_state_up": True}}, status=201).json()["network"]
    call("GET", "/v2.0/networks", "list-networks")
    call("GET", "/v2.0/networks?fields=id&fields=name&sort_key=name&sort_dir=asc&limit=1",
         "list-networks-paged")
    call("GET", f"/v2.0/networks/{net['id']}", "show-network")
    call("GET", f"/v2.0/networks/{uuid.uuid4()}", "show-network-not-found", status=404)
    call("PUT", f"/v2.0/networks/{net['id']}", "update-network", {"network": {
        "name": "private-net", "mtu": 1450}})

    pool = call("POST", "/v2.0/subnetpools", "create-subnetpool", {"subnetpool": {
        "name": "shared-pool", "prefixes": ["10.100.0.0/16"], "default_prefixlen": 26,
        "min_prefixlen": 24, "shared": True}}, status=201, token=admin).json()["subnetpool"]
    call("GET", "/v2.0/subnetpools?shared=true", "list-subnetpools")
    call("GET", f"/v2.0/subnetpools/{pool['id']}", "show-subnetpool")
    call("PUT", f"/v2.0/subnetpools/{pool['id']}", "update-subnetpool", {"subnetpool": {
        "description": "Tenant subnets up to /28", "max_prefixlen": 28}}, token=admin)

    subnet = call("POST", "/v2.0/subnets", "create-subnet", {"subnet": {
        "network_id": net["id"], "name": "private-subnet", "ip_version": 4,
        "cidr": "10.0.0.0/24", "dns_nameservers": ["10.0.0.53"]}},
        status=201).json()["subnet"]
    carved = call("POST", "/v2.0/subnets", body={"subnet": {
        "network_id": net["id"], "name": "from-pool", "ip_version": 4,
        "subnetpool_id": pool["id"]}}, status=201).json()["subnet"]
    call("GET", f"/v2.0/subnets?network_id={net['id']}", "list-subnets")
    call("GET", f"/v2.0/subnets/{subnet['id']}", "show-subnet")
    call("PUT", f"/v2.0/subnets/{subnet['id']}", "update-subnet", {"subnet": {
        "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.200"}],
        "host_routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.0.254"}]}})

    group = call("POST", "/v2.0/security-groups", "create-security-group", {
        "security_group": {"name": "web", "description": "HTTPS from anywhere"}},
        status=201).json()["security_group"]
    call("GET", "/v2.0/security-groups", "list-security-groups")
    call("GET", f"/v2.0/security-groups/{group['id']}", "show-security-group")
    call("PUT", f"/v2.0/security-groups/{group['id']}", "update-security-group", {
        "security_group": {"description": "HTTPS and SSH from anywhere"}})
    rule = call("POST", "/v2.0/security-group-rules", "create-security-group-rule", {
        "security_group_rule": {"security_group_id": group["id"], "direction": "ingress",
                                "ethertype": "IPv4", "protocol": "tcp",
                                "port_range_min": 443, "port_range_max": 443,
                                "remote_ip_prefix": "0.0.0.0/0"}},
        status=201).json()["security_group_rule"]
    call("GET", f"/v2.0/security-group-rules?security_group_id={group['id']}",
         "list-security-group-rules")
    call("GET", f"/v2.0/security-group-rules/{rule['id']}", "show-security-group-rule")

    port = call("POST", "/v2.0/ports", "create-port", {"port": {
        "network_id": net["id"], "name": "web-1", "mac_address": "fa:16:3e:4c:2a:01",
        "fixed_ips": [{"subnet_id": subnet["id"]}], "security_groups": [group["id"]]}},
        status=201).json()["port"]
    call("GET", f"/v2.0/ports?network_id={net['id']}", "list-ports")
    call("GET", f"/v2.0/ports/{port['id']}", "show-port")
    server = str(uuid.uuid4())
    call("PUT", f"/v2.0/ports/{port['id']}", "update-port", {"port": {
        "binding:host_id": "compute-1", "device_owner": "compute:nova",
        "device_id": server}}, token=admin)

    router = call("POST", "/v2.0/routers", "create-router", {"router": {
        "name": "router1", "external_gateway_info": {"network_id": public["id"]}}},
        status=201).json()["router"]
    call("GET", "/v2.0/routers", "list-routers")
    call("GET", f"/v2.0/routers/{router['id']}", "show-router")
    call("PUT", f"/v2.0/routers/{router['id']}", "update-router", {"router": {
        "description": "Gateway of private-net"}})
    interface = call("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                     "add-router-interface", {"subnet_id": subnet["id"]}).json()
    call("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface",
         "remove-router-interface", {"subnet_id": subnet["id"]})

    call("GET", f"/v2.0/auto-allocated-topology/{demo_project}?fields=dry-run",
         "show-auto-allocated-topology-dry-run")
    call("PUT", f"/v2.0/networks/{public['id']}", body={"network": {"is_default": False}},
         token=admin)
    call("GET", f"/v2.0/auto-allocated-topology/{demo_project}?fields=dry-run",
         "show-auto-allocated-topology-dry-run-failed", status=409)
    call("PUT", f"/v2.0/networks/{public['id']}", body={"network": {"is_default": True}},
         token=admin)
    topology = call("GET", f"/v2.0/auto-allocated-topology/{demo_project}",
                    "show-auto-allocated-topology").json()["auto_allocated_topology"]
    call("DELETE", f"/v2.0/auto-allocated-topology/{demo_project}", status=204)

    call("GET", f"/v2.0/quotas/{demo_project}", "show-quota")
    call("PUT", f"/v2.0/quotas/{demo_project}", "update-quota", {"quota": {
        "network": 20, "port": 200}}, token=admin)
    call("GET", "/v2.0/quotas", "list-quotas", token=admin)
    call("GET", f"/v2.0/quotas/{demo_project}/default", "show-quota-default")
    call("GET", f"/v2.0/quotas/{demo_project}/details", "show-quota-details")
    call("DELETE", f"/v2.0/quotas/{demo_project}", status=204, token=admin)

    call("DELETE", f"/v2.0/routers/{router['id']}", status=204)
    call("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    call("DELETE", f"/v2.0/security-group-rules/{rule['id']}", status=204)
    call("DELETE", f"/v2.0/security-groups/{group['id']}", status=204)
    call("DELETE", f"/v2.0/subnets/{carved['id']}", status=204)
    call("DELETE", f"/v2.0/subnetpools/{pool['id']}", status=204, token=admin)
    call("DELETE", f"/v2.0/subnets/{subnet['id']}", status=204)
    call("DELETE", f"/v2.0/networks/{net['id']}", status=204)

    samples.pin(demo_project=demo_project, admin_project=admin_project,
                public_network=public["id"], network=net["id"], subnet=subnet["id"],
                subnet_from_pool=carved["id"], subnetpool=pool["id"], port=port["id"],
                server=server, router=router["id"], security_group=group["id"],
                security_group_rule=rule["id"], topology_network=topology["id"],
                public_subnet=public["subnets"][0], interface_port=interface["port_id"])
    # A Linux bridge is named after its network's id: name it after the pinned one.
    bridge = ("brq" + net["id"])[:14]
    for name, document in taken:
        if name == "update-port-resp":
            details = document["port"]["binding:vif_details"]
            assert details["bridge_name"] == bridge, details
            details["bridge_name"] = ("brq" + samples.pinned[net["id"]])[:14]
        samples.check(name, document)
    samples.assert_all_checked()
