"""The placement API's route table and WSGI app.

Wrapping order, outermost first, and why:
1. CORS (oslo.middleware): answers browser preflights before anything asks for a token.
2. keystonemiddleware, only with ``auth_strategy = keystone``.
3. The Falcon app: request ids, authentication, microversion, then the route's handler.
"""

from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg
from oslo_middleware import cors

from stratus.common import auth
from stratus.common.auth import TokenValidator
from stratus.common.context import RequestContext
from stratus.common.policy import Policy
from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Route, build_app
from stratus.common.wsgi.spec import Spec, Versioned
from stratus.placement import schemas, versions
from stratus.placement.handlers import (
    aggregates,
    allocation_candidates,
    allocations,
    inventories,
    reshaper,
    resource_classes,
    resource_providers,
    root,
    since,
    traits,
    usages,
)
from stratus.placement.http import PlacementHTTP, typeless_when_empty
from stratus.placement.service import PlacementService

RP = "/resource_providers/{uuid}"


def _spans(table: list[tuple[tuple[int, int], schemas.Schema]]) -> tuple[Versioned, ...]:
    """A ``schemas.pick`` table (newest first) as the version spans the reference reads."""
    rows = sorted(table, key=lambda row: row[0])
    spans = []
    for index, ((major, minor), schema) in enumerate(rows):
        until = rows[index + 1][0] if index + 1 < len(rows) else None
        spans.append(Versioned(schema, None if (major, minor) == (1, 0) else f"{major}.{minor}",
                               f"{until[0]}.{until[1] - 1}" if until else None))
    return tuple(spans)


def _from(version: str, body=None, query=None) -> Spec:
    return Spec(body=body, query=query, min_version=version)

ROUTES = [
    # Reached as /placement and /placement/ alike; no token needed to negotiate.
    Route("/", {"GET": root.home}, public=frozenset({"GET"})),
    Route("/resource_providers",
          {"GET": resource_providers.list_providers,
           "POST": resource_providers.create_provider},
          rules={"GET": "placement:resource_providers:list",
                 "POST": "placement:resource_providers:create"},
          specs={"GET": Spec(query=_spans(schemas.RP_LIST_QUERY_BY_VERSION)),
                 "POST": Spec(body=_spans(schemas.RP_CREATE_BY_VERSION))}),
    Route(RP, {"GET": resource_providers.show_provider,
               "PUT": resource_providers.update_provider,
               "DELETE": resource_providers.delete_provider},
          rules={"GET": "placement:resource_providers:show",
                 "PUT": "placement:resource_providers:update",
                 "DELETE": "placement:resource_providers:delete"},
          specs={"PUT": Spec(body=_spans(schemas.RP_UPDATE_BY_VERSION))}),
    Route(f"{RP}/inventories",
          {"GET": inventories.list_inventories, "POST": inventories.create_inventory,
           "PUT": inventories.set_inventories,
           "DELETE": since((1, 5), inventories.delete_inventories,
                           absent=errors.MethodNotAllowed)},
          rules={"GET": "placement:resource_providers:inventories:list",
                 "POST": "placement:resource_providers:inventories:create",
                 "PUT": "placement:resource_providers:inventories:update",
                 "DELETE": "placement:resource_providers:inventories:delete"},
          specs={"POST": Spec(body=schemas.INVENTORY_CREATE),
                 "PUT": Spec(body=schemas.INVENTORIES_SET), "DELETE": _from("1.5")}),
    Route(f"{RP}/inventories/{{resource_class}}",
          {"GET": inventories.show_inventory, "PUT": inventories.update_inventory,
           "DELETE": inventories.delete_inventory},
          rules={"GET": "placement:resource_providers:inventories:show",
                 "PUT": "placement:resource_providers:inventories:update",
                 "DELETE": "placement:resource_providers:inventories:delete"},
          specs={"PUT": Spec(body=schemas.INVENTORY_UPDATE)}),
    Route(f"{RP}/usages", {"GET": usages.provider_usages},
          rules={"GET": "placement:resource_providers:usages"}),
    Route(f"{RP}/aggregates",
          {"GET": since((1, 1), aggregates.list_aggregates),
           "PUT": since((1, 1), aggregates.set_aggregates)},
          rules={"GET": "placement:resource_providers:aggregates:list",
                 "PUT": "placement:resource_providers:aggregates:update"},
          specs={"GET": _from("1.1"),
                 "PUT": _from("1.1", body=_spans(schemas.AGGREGATES_BY_VERSION))}),
    Route(f"{RP}/traits",
          {"GET": since((1, 6), traits.list_provider_traits),
           "PUT": since((1, 6), traits.set_provider_traits),
           "DELETE": since((1, 6), traits.delete_provider_traits)},
          rules={"GET": "placement:resource_providers:traits:list",
                 "PUT": "placement:resource_providers:traits:update",
                 "DELETE": "placement:resource_providers:traits:delete"},
          specs={"GET": _from("1.6"), "PUT": _from("1.6", body=schemas.PROVIDER_TRAITS),
                 "DELETE": _from("1.6")}),
    Route(f"{RP}/allocations", {"GET": allocations.list_for_provider},
          rules={"GET": "placement:resource_providers:allocations:list"}),
    Route("/resource_classes",
          {"GET": since((1, 2), resource_classes.list_classes),
           "POST": since((1, 2), resource_classes.create_class)},
          rules={"GET": "placement:resource_classes:list",
                 "POST": "placement:resource_classes:create"},
          specs={"GET": _from("1.2"), "POST": _from("1.2", body=schemas.RESOURCE_CLASS)}),
    Route("/resource_classes/{name}",
          {"GET": since((1, 2), resource_classes.show_class),
           "PUT": since((1, 2), resource_classes.update_class),
           "DELETE": since((1, 2), resource_classes.delete_class)},
          rules={"GET": "placement:resource_classes:show",
                 "PUT": "placement:resource_classes:update",
                 "DELETE": "placement:resource_classes:delete"},
          # Before 1.7 PUT renames (a body with the new name); from 1.7 it creates.
          specs={"GET": _from("1.2"), "DELETE": _from("1.2"),
                 "PUT": _from("1.2", body=(Versioned(schemas.RESOURCE_CLASS, None, "1.6"),))}),
    Route("/traits", {"GET": since((1, 6), traits.list_traits)},
          rules={"GET": "placement:traits:list"},
          specs={"GET": _from("1.6", query=schemas.TRAITS_QUERY)}),
    Route("/traits/{name}",
          {"GET": since((1, 6), traits.show_trait), "PUT": since((1, 6), traits.put_trait),
           "DELETE": since((1, 6), traits.delete_trait)},
          rules={"GET": "placement:traits:show", "PUT": "placement:traits:update",
                 "DELETE": "placement:traits:delete"},
          specs={"GET": _from("1.6"), "PUT": _from("1.6"), "DELETE": _from("1.6")}),
    Route("/allocations", {"POST": since((1, 13), allocations.set_many)},
          rules={"POST": "placement:allocations:manage"},
          specs={"POST": _from("1.13", body=_spans(schemas.ALLOCATIONS_POST_BY_VERSION))}),
    Route("/allocations/{consumer_uuid}",
          {"GET": allocations.list_for_consumer, "PUT": allocations.set_for_consumer,
           "DELETE": allocations.delete_for_consumer},
          rules={"GET": "placement:allocations:list", "PUT": "placement:allocations:update",
                 "DELETE": "placement:allocations:delete"},
          specs={"PUT": Spec(body=_spans(schemas.ALLOCATIONS_PUT_BY_VERSION))}),
    Route("/usages", {"GET": since((1, 9), usages.total_usages)},
          rules={"GET": "placement:usages"},
          specs={"GET": _from("1.9", query=_spans(schemas.USAGES_QUERY_BY_VERSION))}),
    Route("/allocation_candidates",
          {"GET": since((1, 10), allocation_candidates.list_allocation_candidates)},
          rules={"GET": "placement:allocation_candidates:list"},
          specs={"GET": _from("1.10")}),
    Route("/reshaper", {"POST": since((1, 30), reshaper.reshape)},
          rules={"POST": "placement:reshaper:reshape"},
          specs={"POST": _from("1.30", body=_spans(schemas.RESHAPER_BY_VERSION))}),
]


def make_service(conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy) -> PlacementService:
    """The service object; writes the standard classes and traits this release knows."""
    placement = PlacementService(conf, engine, policy)
    placement.ensure_standards()
    return placement


def noauth2_authenticator():
    """OpenStack Placement's noauth2, exactly: the token is ``user[:project]``; X-Roles,
    when sent, are the roles (else ``admin`` for the user admin); X-Project-Id, when sent,
    is the project; a request carrying ``OpenStack-System-Scope`` is system-scoped."""

    def authenticate(req) -> RequestContext:
        token = req.get_header("X-Auth-Token")
        if not token:
            raise errors.Unauthorized()
        user_id, _, project_id = token.partition(":")
        header = req.get_header("X-Roles")
        if header is not None:
            roles = [r.strip() for r in header.split(",") if r.strip()]
        else:
            roles = ["admin"] if user_id == "admin" else []
        system_scope = req.get_header("OpenStack-System-Scope")
        # As in Placement (through oslo.context), an X-Project-Id header names the project.
        project_id = req.get_header("X-Project-Id") or (
            None if system_scope else (project_id or user_id))
        return RequestContext(auth_token=token, user_id=user_id, project_id=project_id,
                              system_scope=system_scope, roles=roles,
                              is_admin="admin" in roles, request_id=req.request_id,
                              overwrite=True)

    return authenticate


def _authenticator(conf: cfg.ConfigOpts, validator: TokenValidator | None):
    if conf.placement.auth_strategy == "noauth2":
        return noauth2_authenticator()
    if conf.placement.auth_strategy == "keystone":
        return auth.keystonemiddleware_authenticator()
    return auth.authenticator_for(conf, validator)


def make_app(conf: cfg.ConfigOpts, placement: PlacementService,
             validator: TokenValidator | None = None):
    """The placement WSGI app; ``validator`` validates tokens in-process when given."""
    app = build_app(routes=ROUTES, error_format=errors.PLACEMENT,
                    authenticator=_authenticator(conf, validator), service=placement,
                    versions=versions.RANGE)
    app.add_middleware(PlacementHTTP())
    app = typeless_when_empty(app)
    if conf.placement.auth_strategy is None:
        app = auth.wrap_keystonemiddleware(app, conf)
    elif conf.placement.auth_strategy == "keystone":
        from keystonemiddleware import auth_token

        app = auth_token.AuthProtocol(app, {"oslo_config_config": conf,
                                            "delay_auth_decision": True})
    # Like Placement, CORS only when an origin is configured: oslo's middleware would
    # otherwise answer every OPTIONS itself.
    conf.register_opts(cors.CORS_OPTS, "cors")
    return cors.CORS(app, conf) if conf.cors.allowed_origin else app
