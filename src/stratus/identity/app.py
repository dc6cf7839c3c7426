"""The identity API's route table and WSGI app."""

from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common import auth
from stratus.common.policy import Policy
from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Route, build_app
from stratus.common.wsgi.spec import Spec
from stratus.identity import schemas
from stratus.identity.handlers import auth as auth_h
from stratus.identity.handlers import catalog, projects, roles, users, versions
from stratus.identity.service import IdentityService

V3 = "/v3"
GRANT = f"{V3}/projects/{{project_id}}/users/{{user_id}}/roles/{{role_id}}"
SUBJECT = ("X-Subject-Token",)

ROUTES = [
    Route("/", {"GET": versions.root}, public=True),
    Route(V3, {"GET": versions.v3}, public=True),
    Route(f"{V3}/auth/tokens",
          {"POST": auth_h.issue_token, "GET": auth_h.validate_token,
           "HEAD": auth_h.check_token, "DELETE": auth_h.revoke_token},
          rules={"GET": "identity:validate_token", "HEAD": "identity:check_token",
                 "DELETE": "identity:revoke_token"},
          public=frozenset({"POST"}),
          specs={"POST": Spec(body=schemas.auth, query=schemas.token_query),
                 "GET": Spec(query=schemas.token_query, headers=SUBJECT),
                 "HEAD": Spec(headers=SUBJECT), "DELETE": Spec(headers=SUBJECT)}),
    Route(f"{V3}/auth/projects", {"GET": auth_h.auth_projects},
          rules={"GET": "identity:get_auth_projects"}),
    Route(f"{V3}/auth/domains", {"GET": auth_h.auth_domains},
          rules={"GET": "identity:get_auth_domains"}),
    Route(f"{V3}/auth/catalog", {"GET": auth_h.auth_catalog},
          rules={"GET": "identity:get_auth_catalog"}),
    Route(f"{V3}/domains", {"GET": projects.list_domains},
          rules={"GET": "identity:list_domains"},
          specs={"GET": Spec(query=schemas.domains_query)}),
    Route(f"{V3}/domains/{{domain_id}}", {"GET": projects.show_domain},
          rules={"GET": "identity:get_domain"}),
    Route(f"{V3}/projects", {"GET": projects.list_projects, "POST": projects.create_project},
          rules={"GET": "identity:list_projects", "POST": "identity:create_project"},
          specs={"GET": Spec(query=schemas.projects_query),
                 "POST": Spec(body=schemas.project_create)}),
    Route(f"{V3}/projects/{{project_id}}",
          {"GET": projects.show_project, "PATCH": projects.update_project,
           "DELETE": projects.delete_project},
          rules={"GET": "identity:get_project", "PATCH": "identity:update_project",
                 "DELETE": "identity:delete_project"},
          specs={"PATCH": Spec(body=schemas.project_update)}),
    Route(f"{V3}/projects/{{project_id}}/users/{{user_id}}/roles", {"GET": roles.list_grants},
          rules={"GET": "identity:list_grants"}),
    Route(GRANT, {"PUT": roles.grant, "HEAD": roles.check_grant, "GET": roles.check_grant,
                  "DELETE": roles.revoke_grant},
          rules={"PUT": "identity:create_grant", "HEAD": "identity:check_grant",
                 "GET": "identity:check_grant", "DELETE": "identity:revoke_grant"}),
    Route(f"{V3}/users", {"GET": users.list_users, "POST": users.create_user},
          rules={"GET": "identity:list_users", "POST": "identity:create_user"},
          specs={"GET": Spec(query=schemas.users_query), "POST": Spec(body=schemas.user_create)}),
    Route(f"{V3}/users/{{user_id}}",
          {"GET": users.show_user, "PATCH": users.update_user, "DELETE": users.delete_user},
          rules={"GET": "identity:get_user", "PATCH": "identity:update_user",
                 "DELETE": "identity:delete_user"},
          specs={"PATCH": Spec(body=schemas.user_update)}),
    Route(f"{V3}/users/{{user_id}}/password", {"POST": users.change_password},
          rules={"POST": "identity:change_password"},
          specs={"POST": Spec(body=schemas.password_change)}),
    Route(f"{V3}/users/{{user_id}}/projects", {"GET": users.list_user_projects},
          rules={"GET": "identity:list_user_projects"}),
    Route(f"{V3}/roles", {"GET": roles.list_roles, "POST": roles.create_role},
          rules={"GET": "identity:list_roles", "POST": "identity:create_role"},
          specs={"GET": Spec(query=schemas.roles_query), "POST": Spec(body=schemas.role_create)}),
    Route(f"{V3}/roles/{{role_id}}",
          {"GET": roles.show_role, "PATCH": roles.update_role, "DELETE": roles.delete_role},
          rules={"GET": "identity:get_role", "PATCH": "identity:update_role",
                 "DELETE": "identity:delete_role"},
          specs={"PATCH": Spec(body=schemas.role_update)}),
    Route(f"{V3}/role_assignments", {"GET": roles.list_role_assignments},
          rules={"GET": "identity:list_role_assignments"},
          specs={"GET": Spec(query=schemas.role_assignments_query)}),
    Route(f"{V3}/services", {"GET": catalog.list_services, "POST": catalog.create_service},
          rules={"GET": "identity:list_services", "POST": "identity:create_service"},
          specs={"GET": Spec(query=schemas.services_query),
                 "POST": Spec(body=schemas.service_create)}),
    Route(f"{V3}/services/{{service_id}}",
          {"GET": catalog.show_service, "DELETE": catalog.delete_service},
          rules={"GET": "identity:get_service", "DELETE": "identity:delete_service"}),
    Route(f"{V3}/endpoints", {"GET": catalog.list_endpoints, "POST": catalog.create_endpoint},
          rules={"GET": "identity:list_endpoints", "POST": "identity:create_endpoint"},
          specs={"GET": Spec(query=schemas.endpoints_query),
                 "POST": Spec(body=schemas.endpoint_create)}),
    Route(f"{V3}/endpoints/{{endpoint_id}}",
          {"GET": catalog.show_endpoint, "DELETE": catalog.delete_endpoint},
          rules={"GET": "identity:get_endpoint", "DELETE": "identity:delete_endpoint"}),
    Route(f"{V3}/regions", {"GET": catalog.list_regions},
          rules={"GET": "identity:list_regions"}),
    Route(f"{V3}/regions/{{region_id}}", {"GET": catalog.show_region},
          rules={"GET": "identity:get_region"}),
]


def make_service(conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy) -> IdentityService:
    return IdentityService(conf, engine, policy)


def make_app(conf: cfg.ConfigOpts, identity: IdentityService):
    """The identity WSGI app; it always validates tokens in-process (it is the issuer)."""
    authenticator = auth.authenticator_for(conf, identity.validate_identity)
    app = build_app(routes=ROUTES, error_format=errors.KEYSTONE,
                    authenticator=authenticator, service=identity)
    return auth.wrap_keystonemiddleware(app, conf)
