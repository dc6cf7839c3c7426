"""The network API's route table and WSGI app (Neutron v2.0 subset, at ``/network``)."""

from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common import auth
from stratus.common.policy import Policy
from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Route, build_app
from stratus.netsvc import crud, handlers
from stratus.netsvc.crud import Ops
from stratus.netsvc.service import NetworkService

V2 = "/v2.0"


def _checks(singular: str, ops: Ops, method: str) -> dict[str, str]:
    """The attribute rules of a create or update: ``create_network:shared``, ..."""
    verb = "create" if method == "POST" else "update"
    return {attr.check: f"{verb}_{singular}:{attr.check}"
            for attr in ops.resource.attributes.values()
            if attr.check is not None and (attr.post if method == "POST" else attr.put)}


def _crud(ops: Ops, *, list_hook=None) -> list[Route]:
    """The collection and member routes of a resource, with Neutron's rule names."""
    singular, plural = ops.resource.singular, ops.resource.plural
    id_param = f"{singular}_id"
    listing = crud.list_handler(ops)
    if list_hook is not None:
        plain = listing

        def listing(req, resp):
            list_hook(req)
            plain(req, resp)
    member = {"GET": crud.show_handler(ops, id_param),
              "DELETE": crud.delete_handler(ops, id_param)}
    rules = {"GET": f"get_{singular}", "DELETE": f"delete_{singular}"}
    checks = {}
    if ops.update is not None:
        member["PUT"] = crud.update_handler(ops, id_param)
        rules["PUT"] = f"update_{singular}"
        checks["PUT"] = _checks(singular, ops, "PUT")
    return [
        Route(f"{V2}/{plural.replace('_', '-')}",
              {"GET": listing, "POST": crud.create_handler(ops)},
              rules={"GET": f"get_{singular}", "POST": f"create_{singular}"},
              checks={"POST": _checks(singular, ops, "POST")}),
        Route(f"{V2}/{plural.replace('_', '-')}/{{{id_param}}}", member, rules=rules,
              checks={m: c for m, c in checks.items() if c}),
    ]


ROUTER = f"{V2}/routers/{{router_id}}"
TOPOLOGY = f"{V2}/auto-allocated-topology/{{project_id}}"
QUOTA = f"{V2}/quotas/{{project_id}}"

ROUTES = [
    Route("/", {"GET": handlers.root}, public=True),
    Route(V2, {"GET": handlers.v2_index}, rules={"GET": "get_extension"}),
    Route(f"{V2}/extensions", {"GET": handlers.list_extensions},
          rules={"GET": "get_extension"}),
    Route(f"{V2}/extensions/{{alias}}", {"GET": handlers.show_extension},
          rules={"GET": "get_extension"}),
    *_crud(handlers.NETWORKS),
    *_crud(handlers.SUBNETS),
    *_crud(handlers.SUBNETPOOLS),
    *_crud(handlers.PORTS),
    *_crud(handlers.ROUTERS),
    Route(f"{ROUTER}/add_router_interface", {"PUT": handlers.add_router_interface},
          rules={"PUT": "add_router_interface"}),
    Route(f"{ROUTER}/remove_router_interface", {"PUT": handlers.remove_router_interface},
          rules={"PUT": "remove_router_interface"}),
    *_crud(handlers.SECURITY_GROUPS, list_hook=handlers.ensure_default_group),
    *_crud(handlers.SECURITY_GROUP_RULES),
    Route(TOPOLOGY, {"GET": handlers.get_topology, "DELETE": handlers.delete_topology},
          rules={"GET": "get_auto_allocated_topology",
                 "DELETE": "delete_auto_allocated_topology"}),
    Route(f"{V2}/quotas", {"GET": handlers.list_quotas}, rules={"GET": "get_quota"}),
    Route(QUOTA, {"GET": handlers.show_quota, "PUT": handlers.update_quota,
                  "DELETE": handlers.delete_quota},
          rules={"GET": "get_quota", "PUT": "update_quota", "DELETE": "delete_quota"}),
    Route(f"{QUOTA}/default", {"GET": handlers.show_quota_defaults},
          rules={"GET": "get_quota"}),
    Route(f"{QUOTA}/details", {"GET": handlers.show_quota_details},
          rules={"GET": "get_quota"}),
]


def make_service(conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy) -> NetworkService:
    return NetworkService(conf, engine, policy)


def make_app(conf: cfg.ConfigOpts, network: NetworkService, token_validator=None):
    """The network WSGI app; ``token_validator`` validates tokens in-process when given."""
    authenticator = auth.authenticator_for(conf, token_validator)
    app = build_app(routes=ROUTES, error_format=errors.NEUTRON, authenticator=authenticator,
                    service=network)
    return auth.wrap_keystonemiddleware(app, conf)
