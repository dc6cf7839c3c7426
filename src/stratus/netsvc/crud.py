"""List, show, create, update and delete for every Neutron resource, driven by data.

Each resource has an :class:`Ops`: how to find, render, create, update and delete its
rows. The handlers here parse the body against the resource's attribute map, check the
route's rule and the rule of every guarded attribute the request sets
(``create_network:shared``), enforce quotas, run the write in one transaction (retried
after a lost race) and render the result, honouring ``fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import falcon
import sqlalchemy as sa

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.netsvc import attributes, errors, listing
from stratus.netsvc.resources import Resource
from stratus.netsvc.service import NetworkService
from stratus.netsvc.store import Viewer, quotas


def service(req: Request) -> NetworkService:
    return req.service


def viewer(req: Request) -> Viewer:
    return NetworkService.viewer(req.auth)


@dataclass(frozen=True)
class Ops:
    resource: Resource
    visible: Callable[[Viewer], sa.ColumnElement]
    get: Callable[[sa.Connection, str, Viewer], dict]
    # (service, conn, rows) -> documents
    render: Callable[[NetworkService, sa.Connection, list[dict]], list[dict]]
    # (service, conn, values, viewer) -> the new row
    create: Callable[[NetworkService, sa.Connection, dict, Viewer], dict]
    # (service, conn, row, values, viewer)
    update: Callable[[NetworkService, sa.Connection, dict, dict, Viewer], None] | None
    # (service, conn, row, viewer)
    delete: Callable[[NetworkService, sa.Connection, dict, Viewer], None]
    # (row) -> the policy target beyond project_id (network:project_id of a port)
    target: Callable[[sa.Connection, dict], dict] | None = None
    # attribute -> (query values) -> SQL predicate, for filters on computed attributes
    # (a network's subnets), so they apply before the page is cut
    special_filters: dict[str, Callable[[list[str]], sa.ColumnElement]] = \
        field(default_factory=dict)
    # networks whose addresses a write of this row changes (IP pools follow them)
    networks_of: Callable[[dict], set[str]] | None = None
    # (conn, values, viewer): checks a create meets before its policy (404/403 for a
    # network the caller may not put subnets or ports on, as Neutron checks first)
    precheck: Callable[[sa.Connection, dict, Viewer], None] | None = None


def policy_target(conn: sa.Connection, ops: Ops, row: dict) -> dict:
    target = {"project_id": row.get("project_id"), "tenant_id": row.get("project_id")}
    if ops.target is not None:
        target.update(ops.target(conn, row))
    return target


def authorize(req: Request, target: dict, *, check: str | None = None) -> None:
    rule = req.route.rule_for(req.method, check=check)
    if not service(req).policy.allows(req.auth, rule, target):
        raise errors.policy_not_authorized(rule)


def _check_attributes(req: Request, ops: Ops, values: dict, target: dict) -> None:
    for name in values:
        attr = ops.resource.attributes.get(name)
        if attr is not None and attr.check is not None:
            authorize(req, target, check=attr.check)


def _explicit(ops: Ops, values: dict, given: dict) -> dict:
    """The values a create request set itself to something other than the default:
    only those meet their attribute's rule (``shared: false`` needs no admin)."""
    out = {}
    for name in given:
        if name not in values:  # tenant_id, folded into project_id
            continue
        attr = ops.resource.attributes[name]
        default = attr.default() if callable(attr.default) else attr.default
        if values[name] != default:
            out[name] = values[name]
    return out


def _own_project(req: Request, values: dict) -> None:
    """``project_id``/``tenant_id`` default to the caller's; another needs admin."""
    given = values.get("project_id", values.get("tenant_id"))
    if "project_id" in values and "tenant_id" in values \
            and values["project_id"] != values["tenant_id"]:
        raise errors.bad_request("'project_id' and 'tenant_id' do not match")
    values.pop("tenant_id", None)
    if given is None:
        values["project_id"] = req.auth.project_id
    elif given != req.auth.project_id and not req.auth.is_admin:
        raise errors.bad_request("Specifying 'project_id' or 'tenant_id' other than the "
                                 "authenticated project in request requires admin "
                                 "privileges")
    else:
        values["project_id"] = given


def _query_string(req: Request) -> str:
    return req.query_string or ""


def _fields(req: Request) -> list[str]:
    value = req.get_param_as_list("fields") or []
    return [f for f in value if f]


def _url(req: Request, ops: Ops) -> str:
    return f"{req.prefix}{ops.resource.path}"


def list_handler(ops: Ops):
    def handler(req: Request, resp) -> None:
        authorize(req, {"project_id": req.auth.project_id,
                        "tenant_id": req.auth.project_id})
        svc = service(req)
        max_limit = svc.options.pagination_max_limit
        query = listing.parse(_query_string(req), ops.resource, max_limit=max_limit,
                              extra_filters=tuple(ops.special_filters))
        with svc.engine.connect() as conn:
            docs = listing.collect(conn, ops.resource, query, ops.visible(viewer(req)),
                                   lambda rows: ops.render(svc, conn, rows),
                                   special=ops.special_filters)
        send(resp, listing.page(ops.resource, query, docs, _url(req, ops)))
    return handler


def show_handler(ops: Ops, id_param: str):
    def handler(req: Request, resp, **params) -> None:
        svc = service(req)
        with svc.engine.connect() as conn:
            row = ops.get(conn, params[id_param], viewer(req))
            authorize(req, policy_target(conn, ops, row))
            doc = ops.render(svc, conn, [row])[0]
        send(resp, {ops.resource.singular: listing.fields(doc, _fields(req))})
    return handler


def create_handler(ops: Ops):
    def handler(req: Request, resp) -> None:
        body = json_body(req)
        plural = ops.resource.plural
        bulk = isinstance(body, dict) and plural in body and ops.resource.singular not in body
        items = body[plural] if bulk else [body]
        if bulk and (not isinstance(items, list) or not items):
            raise errors.bad_request(f"Resources required with key '{plural}'")
        parsed = []
        for item in items:
            if bulk:
                item = {ops.resource.singular: item}
            values = attributes.parse_body(ops.resource.attributes, ops.resource.singular,
                                           item, creating=True)
            _own_project(req, values)
            parsed.append((values, _explicit(ops, values, item[ops.resource.singular])))
        svc = service(req)
        me = viewer(req)

        def work(conn: sa.Connection) -> list[dict]:
            rows = []
            for values, given in parsed:
                if ops.precheck is not None:
                    ops.precheck(conn, values, me)
                target = {"project_id": values["project_id"],
                          "tenant_id": values["project_id"]}
                if ops.target is not None:
                    target.update(ops.target(conn, values))
                authorize(req, target)
                _check_attributes(req, ops, given, target)
                quotas.check(conn, values["project_id"], ops.resource.singular,
                             svc.quota_defaults)
                rows.append(ops.create(svc, conn, values, me))
            return [ops.get(conn, r["id"], Viewer(None, True)) for r in rows]

        rows = svc.write(work)
        _changed(svc, ops, rows)
        with svc.engine.connect() as conn:
            docs = ops.render(svc, conn, rows)
        if bulk:
            send(resp, {plural: docs}, status=201)
        else:
            send(resp, {ops.resource.singular: docs[0]}, status=201)
    return handler


def _changed(svc: NetworkService, ops: Ops, rows: list[dict]) -> None:
    if ops.networks_of is None:
        return
    touched: set[str] = set()
    for row in rows:
        touched |= ops.networks_of(row)
    if touched:
        svc.changed(touched)


def update_handler(ops: Ops, id_param: str):
    def handler(req: Request, resp, **params) -> None:
        values = attributes.parse_body(ops.resource.attributes, ops.resource.singular,
                                       json_body(req), creating=False)
        svc = service(req)
        me = viewer(req)

        def work(conn: sa.Connection) -> dict:
            row = ops.get(conn, params[id_param], me)
            target = policy_target(conn, ops, row)
            authorize(req, target)
            _check_attributes(req, ops, values, target)
            if values:
                ops.update(svc, conn, row, values, me)
            return ops.get(conn, row["id"], Viewer(None, True))

        row = svc.write(work)
        _changed(svc, ops, [row])
        with svc.engine.connect() as conn:
            doc = ops.render(svc, conn, [row])[0]
        send(resp, {ops.resource.singular: doc})
    return handler


def delete_handler(ops: Ops, id_param: str):
    def handler(req: Request, resp, **params) -> None:
        svc = service(req)
        me = viewer(req)

        def work(conn: sa.Connection) -> dict:
            row = ops.get(conn, params[id_param], me)
            authorize(req, policy_target(conn, ops, row))
            ops.delete(svc, conn, row, me)
            return row

        row = svc.write(work)
        _changed(svc, ops, [row])
        resp.status = falcon.HTTP_204
    return handler
