"""The network API's resources (their :class:`~stratus.netsvc.crud.Ops`) and the handlers
that are not plain CRUD: versions, extensions, router interfaces, auto-allocated
topologies and quotas."""

from __future__ import annotations

import falcon
import sqlalchemy as sa

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.netsvc import errors, resources
from stratus.netsvc import schema as s
from stratus.netsvc.crud import Ops, authorize, policy_target, service, viewer
from stratus.netsvc.service import NetworkService
from stratus.netsvc.store import (
    Viewer,
    networks,
    ports,
    quotas,
    routers,
    security_groups,
    subnetpools,
    subnets,
    topology,
)

ADMIN = Viewer(None, True)


# --- networks, subnets, subnet pools ---------------------------------------------------

def _network_update(svc, conn, row, values, me):
    networks.update(conn, row, values)


def _network_delete(svc, conn, row, me):
    networks.delete(conn, row)


NETWORKS = Ops(
    resources.NETWORK, networks.visible, networks.get,
    render=lambda svc, conn, rows: networks.render(conn, rows),
    create=lambda svc, conn, values, me: networks.create(conn, values),
    update=_network_update, delete=_network_delete,
    special_filters={"subnets": networks.subnet_filter},
    # Deleting a network deletes its subnets: their pools leave Placement with them.
    networks_of=lambda row: {row["id"]})


def _network_owner(conn: sa.Connection, row: dict) -> dict:
    owner = conn.execute(sa.select(s.networks.c.project_id).where(
        s.networks.c.id == row["network_id"])).scalar()
    return {"network:project_id": owner, "network:tenant_id": owner}


def _on_usable_network(resource: str):
    """Neutron's order for subnets and ports: the network must be visible (else 404) and
    the creator's own or shared (else 403), unless an admin asks; then the policy."""
    def check(conn: sa.Connection, values: dict, me) -> None:
        network = networks.get(conn, values["network_id"], me)
        if me.is_admin or network["shared"] or network["project_id"] == values["project_id"]:
            return
        raise errors.not_network_owner(values["project_id"], resource)
    return check


def _subnet_create(svc, conn, values, me):
    network = networks.get(conn, values["network_id"], me)
    return subnets.create(conn, network, values, me)


SUBNETS = Ops(
    resources.SUBNET, subnets.visible, subnets.get,
    render=lambda svc, conn, rows: subnets.render(conn, rows),
    create=_subnet_create,
    update=lambda svc, conn, row, values, me: subnets.update(conn, row, values),
    delete=lambda svc, conn, row, me: subnets.delete(conn, row),
    target=_network_owner, networks_of=lambda row: {row["network_id"]},
    precheck=_on_usable_network("subnet"))

SUBNETPOOLS = Ops(
    resources.SUBNETPOOL, subnetpools.visible, subnetpools.get,
    render=lambda svc, conn, rows: subnetpools.render(conn, rows),
    create=lambda svc, conn, values, me: subnetpools.create(conn, values),
    update=lambda svc, conn, row, values, me: subnetpools.update(conn, row, values),
    delete=lambda svc, conn, row, me: subnetpools.delete(conn, row))


# --- ports ------------------------------------------------------------------------------

def _render_ports(svc: NetworkService, conn: sa.Connection, rows: list[dict]) -> list[dict]:
    return ports.render(conn, rows, svc.binding({r["network_id"] for r in rows}))


def _wants_groups(values: dict) -> bool:
    return values.get("port_security_enabled", True) and not \
        values.get("device_owner", "").startswith(ports.NETWORK_OWNER_PREFIX)


def _port_create(svc, conn, values, me):
    network = networks.get(conn, values["network_id"], me)
    groups = values.get("security_groups")
    if groups and not values.get("port_security_enabled", True):
        # An InvalidInput in Neutron (400), with its own message.
        raise errors.invalid_request("PortSecurityAndIPRequiredForSecurityGroups",
                                     "Port security must be enabled and port must have an "
                                     "IP address in order to use security groups.")
    row = ports.create(conn, network, values, **svc.port_opts)
    if _wants_groups(values):
        if groups is None:
            groups = [security_groups.ensure_default(conn, values["project_id"])]
        security_groups.set_port_groups(conn, row["id"], groups, me)
    return row


def _port_update(svc, conn, row, values, me):
    network = networks.get(conn, row["network_id"], ADMIN)
    ports.update(conn, network, row, values)
    if "security_groups" in values:
        security_groups.set_port_groups(conn, row["id"], values["security_groups"], me)


def _port_delete(svc, conn, row, me):
    routers.prevent_port_deletion(conn, row)
    ports.delete(conn, row["id"])


PORTS = Ops(
    resources.PORT, ports.visible, ports.get, render=_render_ports, create=_port_create,
    update=_port_update, delete=_port_delete,
    target=_network_owner, special_filters={"fixed_ips": ports.fixed_ip_filter,
                                          "security_groups": ports.security_group_filter},
    networks_of=lambda row: {row["network_id"]}, precheck=_on_usable_network("port"))


# --- routers ----------------------------------------------------------------------------

ROUTERS = Ops(
    resources.ROUTER, routers.visible, routers.get,
    render=lambda svc, conn, rows: routers.render(conn, rows),
    create=lambda svc, conn, values, me: routers.create(conn, values, me, svc.port_opts),
    update=lambda svc, conn, row, values, me: routers.update(conn, row, values, me,
                                                             svc.port_opts),
    delete=lambda svc, conn, row, me: routers.delete(conn, row),
    networks_of=lambda row: {row["gw_network_id"]} if row.get("gw_network_id") else set())


def _router_action(req: Request, resp, router_id: str, adding: bool) -> None:
    body = json_body(req)
    svc = service(req)
    me = viewer(req)

    def work(conn: sa.Connection) -> dict:
        router = routers.get(conn, router_id, me)
        authorize(req, policy_target(conn, ROUTERS, router))
        if adding:
            return routers.add_interface(conn, router, body, me, svc.port_opts)
        return routers.remove_interface(conn, router, body, me)

    info = svc.write(work)
    svc.changed({info["network_id"]})
    send(resp, info)


def add_router_interface(req: Request, resp, router_id: str) -> None:
    _router_action(req, resp, router_id, adding=True)


def remove_router_interface(req: Request, resp, router_id: str) -> None:
    _router_action(req, resp, router_id, adding=False)


# --- security groups --------------------------------------------------------------------

def _sg_create(svc, conn, values, me):
    security_groups.ensure_default(conn, values["project_id"])
    return security_groups.create(conn, values)


SECURITY_GROUPS = Ops(
    resources.SECURITY_GROUP, security_groups.visible, security_groups.get,
    render=lambda svc, conn, rows: security_groups.render(conn, rows),
    create=_sg_create,
    update=lambda svc, conn, row, values, me: security_groups.update(conn, row, values),
    delete=lambda svc, conn, row, me: security_groups.delete(conn, row, me))

SECURITY_GROUP_RULES = Ops(
    resources.SECURITY_GROUP_RULE, security_groups.rule_visible, security_groups.get_rule,
    render=lambda svc, conn, rows: security_groups.render_rules(conn, rows),
    create=lambda svc, conn, values, me: security_groups.create_rule(conn, values, me),
    update=None, delete=lambda svc, conn, row, me: security_groups.delete_rule(conn, row))


def ensure_default_group(req: Request) -> None:
    """A project's default security group exists once it looks (Neutron makes it then)."""
    project_id = req.auth.project_id
    if project_id:
        service(req).write(lambda conn: security_groups.ensure_default(conn, project_id))


# --- versions and extensions ------------------------------------------------------------

def root(req: Request, resp) -> None:
    send(resp, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
        {"rel": "self", "href": f"{req.prefix}/v2.0/"}]}]})


def v2_index(req: Request, resp) -> None:
    authorize(req, {"project_id": req.auth.project_id})
    send(resp, {"resources": [
        {"name": r.singular, "collection": r.plural,
         "links": [{"rel": "self", "href": f"{req.prefix}{r.path}"}]}
        for r in resources.ALL]})


# (alias, name, description): what this service implements, so clients detect it.
EXTENSIONS = [
    ("agent", "agent", "Placeholder: no agents report here; listed by nothing."),
    ("auto-allocated-topology", "Auto Allocated Topology Services",
     "Auto Allocated Topology Services."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external "
     "application"),
    ("default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a "
     "subnetpool as the default."),
    ("external-net", "Neutron external network", "Adds external network attribute to "
     "network resource."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the "
     "router abstraction for specifying whether SNAT should occur on the external "
     "gateway"),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("port-security", "Port Security", "Provides port security"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id "
     "field is enabled."),
    ("quotas", "Quota management support", "Expose functions for quotas management per "
     "project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas "
     "usage statistics per project"),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between "
     "L2 Neutron networks and access to external networks via a NAT gateway."),
    ("security-group", "security-group", "The security groups extension."),
    ("standard-attr-description", "standard-attr-description", "Extension to add "
     "descriptions to standard attributes"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display "
     "the revision number of neutron resources."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at "
     "fields to all Neutron resources that have Neutron standard attributes."),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a "
     "subnet pool"),
]
EXTENSIONS = [e for e in EXTENSIONS if e[0] != "agent"]


def _extension(alias: str, name: str, description: str) -> dict:
    return {"alias": alias, "name": name, "description": description,
            "updated": "2016-10-06T10:00:00-00:00", "links": []}


def list_extensions(req: Request, resp) -> None:
    authorize(req, {"project_id": req.auth.project_id})
    send(resp, {"extensions": [_extension(*e) for e in EXTENSIONS]})


def show_extension(req: Request, resp, alias: str) -> None:
    authorize(req, {"project_id": req.auth.project_id})
    for ext in EXTENSIONS:
        if ext[0] == alias:
            send(resp, {"extension": _extension(*ext)})
            return
    raise errors.not_found("Extension", alias)


# --- auto-allocated topology ------------------------------------------------------------

def _topology_project(req: Request, project_id: str) -> str:
    authorize(req, {"project_id": project_id, "tenant_id": project_id})
    return project_id


def get_topology(req: Request, resp, project_id: str) -> None:
    project_id = _topology_project(req, project_id)
    svc = service(req)
    fields = req.get_param_as_list("fields") or []
    if "dry-run" in fields:
        with svc.engine.connect() as conn:
            if topology.find(conn, project_id) is None:
                topology.requirements(conn)
        send(resp, topology.dry_run_view(project_id))
        return

    def work(conn: sa.Connection) -> str:
        security_groups.ensure_default(conn, project_id)
        return topology.ensure(conn, project_id, svc.port_opts)

    network_id = svc.write(work)
    svc.changed({network_id})
    send(resp, topology.view(project_id, network_id))


def delete_topology(req: Request, resp, project_id: str) -> None:
    project_id = _topology_project(req, project_id)
    service(req).write(lambda conn: topology.delete(conn, project_id))
    resp.status = falcon.HTTP_204


# --- quotas -----------------------------------------------------------------------------

def list_quotas(req: Request, resp) -> None:
    authorize(req, {"project_id": req.auth.project_id})
    if not req.auth.is_admin:  # every project's quotas: Neutron's quota index is admin's
        raise errors.admin_required("Only admin can view or configure quota")
    svc = service(req)
    with svc.engine.connect() as conn:
        projects = [r[0] for r in conn.execute(
            sa.select(s.quotas.c.project_id).distinct().order_by(s.quotas.c.project_id))]
        found = [{**quotas.get(conn, p, svc.quota_defaults), "project_id": p,
                  "tenant_id": p} for p in projects]
    send(resp, {"quotas": found})


def show_quota(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id, "tenant_id": project_id})
    svc = service(req)
    with svc.engine.connect() as conn:
        send(resp, {"quota": quotas.get(conn, project_id, svc.quota_defaults)})


def show_quota_defaults(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id, "tenant_id": project_id})
    send(resp, {"quota": dict(service(req).quota_defaults)})


def show_quota_details(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id, "tenant_id": project_id})
    svc = service(req)
    with svc.engine.connect() as conn:
        send(resp, {"quota": quotas.details(conn, project_id, svc.quota_defaults)})


def update_quota(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id, "tenant_id": project_id})
    body = json_body(req)
    if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
        raise errors.bad_request("Resource body required with key 'quota'")
    svc = service(req)
    quotas_now = svc.write(lambda conn: quotas.update(conn, project_id, body["quota"],
                                                      svc.quota_defaults))
    send(resp, {"quota": quotas_now})


def delete_quota(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id, "tenant_id": project_id})
    service(req).write(lambda conn: quotas.reset(conn, project_id))
    resp.status = falcon.HTTP_204
