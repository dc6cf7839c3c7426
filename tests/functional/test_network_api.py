"""The network service at /network (Neutron v2.0 subset) through real HTTP requests to an
all-in-one: networks, subnets, subnet pools, ports and their addresses, routers, security
groups, quotas, extensions, auto-allocated topologies, Neutron's error shape."""

from __future__ import annotations

import ipaddress
import threading
import uuid

import pytest
import requests
from compute_helpers import admin_project_id, demo_project_id
from harness import start_cloud, stop_cloud


class Network:
    """Requests to /network/v2.0 with one token."""

    def __init__(self, cloud, token: str):
        self.base = f"{cloud.url}/network/v2.0"
        self.token = token

    def request(self, method: str, path: str, json=None, **kw) -> requests.Response:
        return requests.request(method, self.base + path, json=json,
                                headers={"X-Auth-Token": self.token}, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None):
        return self.request("POST", path, json)

    def put(self, path, json=None):
        return self.request("PUT", path, json)

    def delete(self, path):
        return self.request("DELETE", path)

    def create(self, kind: str, **values) -> dict:
        resp = self.post(f"/{kind}s".replace("_", "-"), {kind: values})
        assert resp.status_code == 201, resp.text
        return resp.json()[kind]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("netapi"))
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def admin(cloud):
    return Network(cloud, cloud.admin_token())


@pytest.fixture(scope="module")
def demo(cloud):
    return Network(cloud, cloud.demo_token())


def error(resp, status: int, kind: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()["NeutronError"]
    assert body["type"] == kind, body
    return body["message"]


def test_version_discovery_and_extensions(cloud, demo):
    root = requests.get(f"{cloud.url}/network/").json()
    assert root["versions"][0]["id"] == "v2.0"
    aliases = {e["alias"] for e in demo.get("/extensions").json()["extensions"]}
    assert {"auto-allocated-topology", "binding", "router", "external-net", "quotas",
            "security-group", "subnet_allocation", "default-subnetpools"} <= aliases
    assert demo.get("/extensions/router").json()["extension"]["alias"] == "router"
    error(demo.get("/extensions/no-such"), 404, "ExtensionNotFound")
    assert requests.get(f"{cloud.url}/network/v2.0/networks").status_code == 401


def test_all_in_one_bootstraps_public_network_and_default_pool(admin):
    [public] = admin.get("/networks?router:external=True&is_default=True").json()["networks"]
    assert public["name"] == "public"
    assert len(public["subnets"]) == 1
    pools = admin.get("/subnetpools?is_default=True").json()["subnetpools"]
    assert [p["ip_version"] for p in pools] == [4] and pools[0]["shared"] is True


def test_network_subnet_port_lifecycle(demo):
    net = demo.create("network", name="lifecycle")
    assert net["status"] == "ACTIVE" and net["shared"] is False and net["mtu"] == 1500
    sub = demo.create("subnet", network_id=net["id"], ip_version=4, cidr="10.9.0.0/24")
    assert sub["gateway_ip"] == "10.9.0.1"
    assert sub["allocation_pools"] == [{"start": "10.9.0.2", "end": "10.9.0.254"}]
    port = demo.create("port", network_id=net["id"], name="p1")
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.9.0.2"}]
    assert port["mac_address"].startswith("fa:16:3e:")
    assert port["status"] == "DOWN" and port["binding:vif_type"] == "unbound"
    assert len(port["security_groups"]) == 1  # the project's default group
    exact = demo.create("port", network_id=net["id"],
                        fixed_ips=[{"ip_address": "10.9.0.50"}])
    assert exact["fixed_ips"][0]["ip_address"] == "10.9.0.50"
    msg = error(demo.post("/ports", {"port": {"network_id": net["id"],
                                              "fixed_ips": [{"ip_address": "10.9.0.50"}]}}),
                409, "IpAddressInUse")
    assert "10.9.0.50" in msg
    # filters Nova relies on: by device, by fixed IP; fields
    found = demo.get("/ports?fixed_ips=ip_address=10.9.0.50").json()["ports"]
    assert [p["id"] for p in found] == [exact["id"]]
    only = demo.get(f"/ports/{port['id']}?fields=id&fields=name").json()["port"]
    assert only == {"id": port["id"], "name": "p1"}
    updated = demo.put(f"/ports/{port['id']}", {"port": {"name": "renamed"}}).json()["port"]
    assert updated["name"] == "renamed" and updated["revision_number"] == 1
    error(demo.delete(f"/networks/{net['id']}"), 409, "NetworkInUse")
    error(demo.delete(f"/subnets/{sub['id']}"), 409, "SubnetInUse")
    for p in (port, exact):
        assert demo.delete(f"/ports/{p['id']}").status_code == 204
    assert demo.delete(f"/networks/{net['id']}").status_code == 204
    error(demo.get(f"/networks/{net['id']}"), 404, "NetworkNotFound")
    error(demo.get(f"/subnets/{sub['id']}"), 404, "SubnetNotFound")


def test_bad_input_is_a_400_and_changes_nothing(demo):
    before = len(demo.get("/networks").json()["networks"])
    error(demo.post("/networks", {"network": {"bogus": 1}}), 400, "HTTPBadRequest")
    error(demo.post("/networks", {"network": {"mtu": 10}}), 400, "InvalidInput")
    error(demo.post("/networks", {"nope": {}}), 400, "HTTPBadRequest")
    error(demo.get("/networks?no_such_attr=1"), 400, "HTTPBadRequest")
    assert len(demo.get("/networks").json()["networks"]) == before


def test_only_admins_set_guarded_attributes(demo, admin):
    msg = error(demo.post("/networks", {"network": {"shared": True}}), 403,
                "PolicyNotAuthorized")
    assert "create_network:shared" in msg
    net = demo.create("network", name="binding")
    demo.create("subnet", network_id=net["id"], ip_version=4, cidr="10.10.0.0/28")
    port = demo.create("port", network_id=net["id"])
    error(demo.put(f"/ports/{port['id']}", {"port": {"binding:host_id": "h1"}}), 403,
          "PolicyNotAuthorized")
    bound = admin.put(f"/ports/{port['id']}", {"port": {"binding:host_id": "h1",
                                                        "device_owner": "compute:nova",
                                                        "device_id": str(uuid.uuid4())}}
                      ).json()["port"]
    assert bound["binding:vif_type"] == "bridge" and bound["status"] == "ACTIVE"
    assert bound["binding:vif_details"]["bridge_name"] == ("brq" + net["id"])[:14]


def test_another_project_sees_nothing_of_mine(cloud, demo, admin):
    net = admin.create("network", name="admin-private")
    error(demo.get(f"/networks/{net['id']}"), 404, "NetworkNotFound")
    error(demo.post("/ports", {"port": {"network_id": net["id"]}}), 404, "NetworkNotFound")
    assert net["id"] not in {n["id"] for n in demo.get("/networks").json()["networks"]}


def test_paging_and_sorting(demo):
    made = [demo.create("network", name=f"page-{i}") for i in range(5)]
    names = [n["name"] for n in made]
    first = demo.get("/networks?name=page-0&name=page-1&name=page-2&name=page-3&name=page-4"
                     "&limit=2&sort_key=name&sort_dir=desc").json()
    assert [n["name"] for n in first["networks"]] == sorted(names, reverse=True)[:2]
    nxt = next(link for link in first["networks_links"] if link["rel"] == "next")
    second = requests.get(nxt["href"], headers={"X-Auth-Token": demo.token}).json()
    assert [n["name"] for n in second["networks"]] == sorted(names, reverse=True)[2:4]


def test_concurrent_ports_on_a_slash_27_never_share_an_address(demo):
    net = demo.create("network", name="race")
    demo.create("subnet", network_id=net["id"], ip_version=4, cidr="10.27.0.0/27")
    results: list[requests.Response] = []
    lock = threading.Lock()

    def make():
        resp = demo.post("/ports", {"port": {"network_id": net["id"]}})
        with lock:
            results.append(resp)

    threads = [threading.Thread(target=make) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [r.json()["port"] for r in results if r.status_code == 201]
    refused = [r for r in results if r.status_code != 201]
    # A /27 has 30 hosts; the gateway takes one.
    assert len(made) == 29
    addresses = [p["fixed_ips"][0]["ip_address"] for p in made]
    assert len(set(addresses)) == 29
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.27.0.0/27")
               for a in addresses)
    for resp in refused:
        error(resp, 409, "IpAddressGenerationFailure")
    listed = demo.get(f"/ports?network_id={net['id']}").json()["ports"]
    assert len(listed) == 29  # no partial port of a refused request


def test_subnet_from_pool_and_router_interfaces(demo, admin):
    pool = admin.create("subnetpool", name="carve", prefixes=["10.200.0.0/16"],
                        default_prefixlen=24, shared=True)
    net = demo.create("network", name="routed")
    one = demo.create("subnet", network_id=net["id"], ip_version=4,
                      subnetpool_id=pool["id"])
    two = demo.create("subnet", network_id=net["id"], ip_version=4,
                      subnetpool_id=pool["id"], prefixlen=25)
    assert one["cidr"] == "10.200.0.0/24" and two["cidr"] == "10.200.1.0/25"
    [public] = demo.get("/networks?router:external=True").json()["networks"]
    router = demo.create("router", name="r1",
                         external_gateway_info={"network_id": public["id"]})
    gateway = router["external_gateway_info"]
    assert gateway["network_id"] == public["id"] and len(gateway["external_fixed_ips"]) == 1
    info = demo.put(f"/routers/{router['id']}/add_router_interface",
                    {"subnet_id": one["id"]}).json()
    port = demo.get(f"/ports/{info['port_id']}").json()["port"]
    assert port["fixed_ips"][0]["ip_address"] == one["gateway_ip"]
    assert port["device_owner"] == "network:router_interface"
    error(demo.delete(f"/routers/{router['id']}"), 409, "RouterInUse")
    demo.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": one["id"]})
    assert demo.delete(f"/routers/{router['id']}").status_code == 204
    error(admin.delete(f"/subnetpools/{pool['id']}"), 409, "SubnetPoolInUse")


def test_auto_allocated_topology_is_made_once_and_reused(cloud, demo):
    project = demo_project_id(cloud)
    dry = demo.get(f"/auto-allocated-topology/{project}?fields=dry-run").json()
    assert dry["auto_allocated_topology"]["id"] == "dry-run=pass"
    results = []

    def fetch():
        results.append(demo.get(f"/auto-allocated-topology/{project}"))

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    ids = {r.json()["auto_allocated_topology"]["id"] for r in results}
    assert len(ids) == 1
    network_id = ids.pop()
    net = demo.get(f"/networks/{network_id}").json()["network"]
    assert net["name"] == "auto_allocated_network" and len(net["subnets"]) == 1
    routers = demo.get("/routers?name=auto_allocated_router").json()["routers"]
    assert len(routers) == 1 and routers[0]["external_gateway_info"] is not None
    assert demo.delete(f"/auto-allocated-topology/{project}").status_code == 204
    error(demo.get(f"/networks/{network_id}"), 404, "NetworkNotFound")
    assert demo.get("/routers?name=auto_allocated_router").json()["routers"] == []


def test_dry_run_without_defaults_is_a_409(cloud, admin, demo):
    [public] = admin.get("/networks?is_default=True").json()["networks"]
    admin.put(f"/networks/{public['id']}", {"network": {"is_default": False}})
    try:
        msg = error(demo.get(f"/auto-allocated-topology/{demo_project_id(cloud)}"
                             "?fields=dry-run"), 409, "AutoAllocationFailure")
        assert msg == "Deployment error: No default router:external network."
    finally:
        admin.put(f"/networks/{public['id']}", {"network": {"is_default": True}})


def test_quotas_limit_ports(cloud, admin):
    project = admin_project_id(cloud)
    assert admin.get(f"/quotas/{project}").json()["quota"]["port"] == 500
    net = admin.create("network", name="quota")
    admin.create("subnet", network_id=net["id"], ip_version=4, cidr="10.77.0.0/24")
    used = len(admin.get(f"/ports?project_id={project}").json()["ports"])
    admin.put(f"/quotas/{project}", {"quota": {"port": used + 1}})
    try:
        admin.create("port", network_id=net["id"])
        error(admin.post("/ports", {"port": {"network_id": net["id"]}}), 409, "OverQuota")
    finally:
        assert admin.delete(f"/quotas/{project}").status_code == 204
    assert admin.get(f"/quotas/{project}").json()["quota"]["port"] == 500


def test_security_groups_and_rules(demo):
    groups = demo.get("/security-groups").json()["security_groups"]
    default = [g for g in groups if g["name"] == "default"]
    assert len(default) == 1 and len(default[0]["security_group_rules"]) == 4
    group = demo.create("security_group", name="web")
    rule = demo.create("security_group_rule", security_group_id=group["id"],
                       direction="ingress", protocol="tcp", port_range_min=80,
                       port_range_max=80, remote_ip_prefix="0.0.0.0/0")
    error(demo.post("/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"}}),
        409, "SecurityGroupRuleExists")
    assert demo.delete(f"/security-group-rules/{rule['id']}").status_code == 204
    assert demo.delete(f"/security-groups/{group['id']}").status_code == 204


def test_subnets_and_ports_need_a_network_of_ones_own_or_shared(cloud, admin, demo):
    """Neutron's order: an invisible network is 404, another project's unshared one (the
    external 'public' network here) 403, before any policy rule."""
    public = admin.get("/networks", params={"name": "public"}).json()["networks"][0]
    assert public["router:external"] and not public["shared"]
    message = error(demo.post("/ports", {"port": {"network_id": public["id"]}}), 403,
                    "HTTPForbidden")
    assert message.endswith("not allowed to create port on this network")
    error(demo.post("/subnets", {"subnet": {"network_id": public["id"], "ip_version": 4,
                                            "cidr": "10.61.0.0/24"}}), 403, "HTTPForbidden")
    hidden = admin.create("network", name="admins-private")
    error(demo.post("/subnets", {"subnet": {"network_id": hidden["id"], "ip_version": 4,
                                            "cidr": "10.62.0.0/24"}}), 404, "NetworkNotFound")
    # Even with an admin-only attribute: not found comes first, as in Neutron.
    error(demo.post("/ports", {"port": {"network_id": hidden["id"],
                                        "mac_address": "fa:16:3e:00:00:99"}}),
          404, "NetworkNotFound")
    assert admin.get("/ports", params={"network_id": public["id"],
                                       "project_id": demo_project_id(cloud)}).json()[
        "ports"] == []
    assert admin.delete(f"/networks/{hidden['id']}").status_code == 204


def test_only_an_admin_lists_every_projects_quotas(admin, demo):
    assert admin.get("/quotas").status_code == 200
    message = error(demo.get("/quotas"), 403, "AdminRequired")
    assert "Only admin can view or configure quota" in message


# --- paging with filters on computed attributes (limit, marker, page_reverse) -------------

def _pages(net: Network, path: str, plural: str, *, reverse: bool) -> list[list[str]]:
    """Follow ``next`` (or, in reverse, ``previous``) links from ``path`` to the end; the
    pages' ids in list order. Each page carries the link Neutron always gives."""
    url, pages = net.base + path + ("&page_reverse=True" if reverse else ""), []
    always, follow = ("next", "previous") if reverse else ("previous", "next")
    while True:
        body = requests.get(url, headers={"X-Auth-Token": net.token}).json()
        links = {link["rel"]: link["href"] for link in body[f"{plural}_links"]}
        assert always in links, body[f"{plural}_links"]
        ids = [item["id"] for item in body[plural]]
        pages.insert(0, ids) if reverse else pages.append(ids)
        if follow not in links:
            return pages
        url = links[follow]


def _assert_exact(pages: list[list[str]], expected: list[str], limit: int, *,
                  reverse: bool) -> None:
    """Every page full but the far end's, and each match exactly once, in order."""
    inner = pages[1:] if reverse else pages[:-1]
    assert all(len(page) == limit for page in inner), [len(p) for p in pages]
    assert sum(pages, []) == expected


@pytest.fixture(scope="module")
def thirty(demo):
    """Thirty networks with a subnet each, every third subnet with DNS server
    10.123.0.53; thirty ports on one more network, every third in group ``third``."""
    nets = demo.post("/networks", {"networks": [{"name": f"thirty-{i}"} for i in range(30)]}
                     ).json()["networks"]
    subs = demo.post("/subnets", {"subnets": [
        {"network_id": n["id"], "ip_version": 4, "cidr": f"10.123.{i}.0/24",
         "dns_nameservers": ["10.123.0.53"] if i % 3 == 0 else []}
        for i, n in enumerate(nets)]}).json()["subnets"]
    group = demo.create("security_group", name="third")
    holder = demo.create("network", name="thirty-ports")
    made = demo.post("/ports", {"ports": [
        {"network_id": holder["id"], "name": f"thirty-{i}",
         **({"security_groups": [group["id"]]} if i % 3 == 0 else {})}
        for i in range(30)]}).json()["ports"]
    return {"networks": [n["id"] for n in nets[::3]], "subnets": [s["id"] for s in subs[::3]],
            "group": group["id"], "ports": [p["id"] for p in made[::3]]}


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "page_reverse"])
def test_paging_networks_by_subnets_returns_every_match_once(demo, thirty, reverse):
    """``subnets`` is computed: it was matched after the SQL limit, so a page of five held
    the few matches among six networks read, and paging stopped early."""
    path = "/networks?" + "&".join(f"subnets={s}" for s in thirty["subnets"]) + "&limit=5"
    _assert_exact(_pages(demo, path, "networks", reverse=reverse), thirty["networks"], 5,
                  reverse=reverse)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "page_reverse"])
def test_paging_ports_by_security_group_returns_every_match_once(demo, thirty, reverse):
    path = f"/ports?security_groups={thirty['group']}&limit=5"
    _assert_exact(_pages(demo, path, "ports", reverse=reverse), thirty["ports"], 5,
                  reverse=reverse)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "page_reverse"])
def test_paging_subnets_by_dns_nameservers_returns_every_match_once(demo, thirty, reverse):
    """dns_nameservers is matched on rendered documents, read until the page is full."""
    path = "/subnets?dns_nameservers=10.123.0.53&limit=5"
    _assert_exact(_pages(demo, path, "subnets", reverse=reverse), thirty["subnets"], 5,
                  reverse=reverse)


def test_page_reverse_gives_the_items_before_the_marker(demo, thirty):
    """``previous`` carries ``page_reverse=True``: following it goes back, not on."""
    wanted = thirty["subnets"]
    path = f"/subnets?dns_nameservers=10.123.0.53&limit=3&marker={wanted[5]}"
    body = demo.get(path).json()
    assert [s["id"] for s in body["subnets"]] == wanted[6:9]
    links = {link["rel"]: link["href"] for link in body["subnets_links"]}
    assert links["previous"].endswith(f"&limit=3&marker={wanted[6]}&page_reverse=True")
    back = requests.get(links["previous"], headers={"X-Auth-Token": demo.token}).json()
    assert [s["id"] for s in back["subnets"]] == wanted[3:6]


def test_an_unknown_marker_is_404_of_the_markers_kind(demo, admin):
    missing = str(uuid.uuid4())
    message = error(demo.get(f"/networks?limit=2&marker={missing}"), 404, "NetworkNotFound")
    assert message == f"Network {missing} could not be found."
    body = demo.get(f"/ports?limit=2&marker={missing}").json()
    assert body == {"NeutronError": {"type": "PortNotFound", "detail": "",
                                     "message": f"Port {missing} could not be found."}}
    hidden = admin.create("network", name="marker-hidden")
    error(demo.get(f"/networks?limit=2&marker={hidden['id']}"), 404, "NetworkNotFound")
    # Without a limit Neutron does not page, and reads no marker.
    assert demo.get(f"/networks?marker={missing}").status_code == 200


def test_tags_and_timestamps_filter_before_the_limit(demo, thirty):
    net = demo.get(f"/networks/{thirty['networks'][0]}").json()["network"]
    same = demo.get(f"/networks?created_at={net['created_at']}").json()["networks"]
    assert net["id"] in {n["id"] for n in same}
    assert {n["created_at"] for n in same} == {net["created_at"]}
    page = demo.get(f"/networks?created_at={net['created_at']}&limit=1").json()
    assert len(page["networks"]) == 1
    assert demo.get("/networks?tags=blue&limit=5").json()["networks"] == []


# --- status codes as Neutron's exception classes give them ------------------------------

def test_bad_allocation_pools_and_prefix_lengths_are_400(demo, admin):
    """OutOfBoundsAllocationPool and Min/MaxPrefixSubnetAllocationError are BadRequests in
    Neutron; overlapping pools and a pool holding the gateway stay conflicts (409)."""
    net = demo.create("network", name="pools")
    body = {"network_id": net["id"], "ip_version": 4, "cidr": "10.124.0.0/24"}
    error(demo.post("/subnets", {"subnet": {**body, "allocation_pools": [
        {"start": "10.124.0.10", "end": "10.124.1.5"}]}}), 400, "OutOfBoundsAllocationPool")
    error(demo.post("/subnets", {"subnet": {**body, "allocation_pools": [
        {"start": "10.124.0.10", "end": "10.124.0.20"},
        {"start": "10.124.0.15", "end": "10.124.0.30"}]}}), 409, "OverlappingAllocationPools")
    error(demo.post("/subnets", {"subnet": {**body, "allocation_pools": [
        {"start": "10.124.0.1", "end": "10.124.0.20"}]}}), 409,
        "GatewayConflictWithAllocationPools")
    pool = admin.create("subnetpool", name="bounded", prefixes=["10.125.0.0/16"],
                        default_prefixlen=24, min_prefixlen=20, max_prefixlen=26, shared=True)
    carve = {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]}
    error(demo.post("/subnets", {"subnet": {**carve, "prefixlen": 28}}), 400,
          "MaxPrefixSubnetAllocationError")
    error(demo.post("/subnets", {"subnet": {**carve, "prefixlen": 18}}), 400,
          "MinPrefixSubnetAllocationError")
    error(demo.post("/subnets", {"subnet": {**carve, "cidr": "10.126.0.0/24"}}), 400,
          "IllegalSubnetPoolPrefixBounds")


def test_security_groups_on_a_port_without_port_security_is_400(demo):
    """PortSecurityAndIPRequiredForSecurityGroups is an InvalidInput in Neutron."""
    net = demo.create("network", name="no-port-security")
    group = demo.create("security_group", name="unwanted")
    message = error(demo.post("/ports", {"port": {
        "network_id": net["id"], "port_security_enabled": False,
        "security_groups": [group["id"]]}}), 400,
        "PortSecurityAndIPRequiredForSecurityGroups")
    assert message == ("Port security must be enabled and port must have an IP address in "
                       "order to use security groups.")


def test_a_routers_ports_leave_only_through_the_router(demo, admin):
    """DELETE /ports of a router's interface or gateway port is 409 ServicePortInUse, as
    Neutron's prevent_l3_port_deletion answers; remove_router_interface removes it."""
    net = demo.create("network", name="routed-ports")
    sub = demo.create("subnet", network_id=net["id"], ip_version=4, cidr="10.127.0.0/24")
    [public] = demo.get("/networks?router:external=True").json()["networks"]
    router = demo.create("router", name="keeps-ports",
                         external_gateway_info={"network_id": public["id"]})
    info = demo.put(f"/routers/{router['id']}/add_router_interface",
                    {"subnet_id": sub["id"]}).json()
    message = error(demo.delete(f"/ports/{info['port_id']}"), 409, "ServicePortInUse")
    assert message == (f"Port {info['port_id']} cannot be deleted directly via the port "
                       f"API: has device owner network:router_interface.")
    assert demo.get(f"/ports/{info['port_id']}").status_code == 200
    demo.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    error(demo.get(f"/ports/{info['port_id']}"), 404, "PortNotFound")
    # The gateway port is on the admin's external network: only the admin sees it.
    [gateway] = admin.get(f"/ports?device_id={router['id']}"
                          "&device_owner=network:router_gateway").json()["ports"]
    error(admin.delete(f"/ports/{gateway['id']}"), 409, "ServicePortInUse")
    demo.put(f"/routers/{router['id']}", {"router": {"external_gateway_info": {}}})
    error(admin.get(f"/ports/{gateway['id']}"), 404, "PortNotFound")
