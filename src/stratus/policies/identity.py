"""Identity API rules, named as Keystone names them so existing policy files still apply."""

from oslo_policy import policy

from stratus.policies.base import ADMIN

P = "/v3"


def _rule(name: str, check: str, description: str, operations: list[tuple[str, str]]):
    return policy.DocumentedRuleDefault(
        name=f"identity:{name}", check_str=check, description=description,
        operations=[{"method": method, "path": path} for method, path in operations])


SELF_OR_ADMIN = f"{ADMIN} or user_id:%(target.user.id)s"
TOKEN_SUBJECT_OR_ADMIN = f"{ADMIN} or user_id:%(target.token.user_id)s"

rules = [
    _rule("validate_token", TOKEN_SUBJECT_OR_ADMIN, "Validate a token.",
          [("GET", f"{P}/auth/tokens")]),
    _rule("check_token", TOKEN_SUBJECT_OR_ADMIN, "Check a token.",
          [("HEAD", f"{P}/auth/tokens")]),
    _rule("revoke_token", TOKEN_SUBJECT_OR_ADMIN, "Revoke a token.",
          [("DELETE", f"{P}/auth/tokens")]),
    _rule("get_domain", f"{ADMIN} or project_domain_id:%(target.domain.id)s",
          "Show a domain.", [("GET", f"{P}/domains/{{domain_id}}")]),
    _rule("list_domains", ADMIN, "List domains.", [("GET", f"{P}/domains")]),
    _rule("get_project", f"{ADMIN} or project_id:%(target.project.id)s", "Show a project.",
          [("GET", f"{P}/projects/{{project_id}}")]),
    _rule("list_projects", ADMIN, "List projects.", [("GET", f"{P}/projects")]),
    _rule("list_user_projects", SELF_OR_ADMIN, "List the projects a user has roles on.",
          [("GET", f"{P}/users/{{user_id}}/projects")]),
    _rule("create_project", ADMIN, "Create a project.", [("POST", f"{P}/projects")]),
    _rule("update_project", ADMIN, "Update a project.",
          [("PATCH", f"{P}/projects/{{project_id}}")]),
    _rule("delete_project", ADMIN, "Delete a project.",
          [("DELETE", f"{P}/projects/{{project_id}}")]),
    _rule("get_user", SELF_OR_ADMIN, "Show a user.", [("GET", f"{P}/users/{{user_id}}")]),
    _rule("list_users", ADMIN, "List users.", [("GET", f"{P}/users")]),
    _rule("create_user", ADMIN, "Create a user.", [("POST", f"{P}/users")]),
    _rule("update_user", ADMIN, "Update a user.", [("PATCH", f"{P}/users/{{user_id}}")]),
    _rule("delete_user", ADMIN, "Delete a user.", [("DELETE", f"{P}/users/{{user_id}}")]),
    _rule("change_password", SELF_OR_ADMIN, "Change a user's own password.",
          [("POST", f"{P}/users/{{user_id}}/password")]),
    _rule("get_role", ADMIN, "Show a role.", [("GET", f"{P}/roles/{{role_id}}")]),
    _rule("list_roles", ADMIN, "List roles.", [("GET", f"{P}/roles")]),
    _rule("create_role", ADMIN, "Create a role.", [("POST", f"{P}/roles")]),
    _rule("update_role", ADMIN, "Update a role.", [("PATCH", f"{P}/roles/{{role_id}}")]),
    _rule("delete_role", ADMIN, "Delete a role.", [("DELETE", f"{P}/roles/{{role_id}}")]),
    _rule("create_grant", ADMIN, "Grant a role to a user on a project.",
          [("PUT", f"{P}/projects/{{project_id}}/users/{{user_id}}/roles/{{role_id}}")]),
    _rule("check_grant", ADMIN, "Check a user's role on a project.",
          [("HEAD", f"{P}/projects/{{project_id}}/users/{{user_id}}/roles/{{role_id}}"),
           ("GET", f"{P}/projects/{{project_id}}/users/{{user_id}}/roles/{{role_id}}")]),
    _rule("revoke_grant", ADMIN, "Revoke a user's role on a project.",
          [("DELETE", f"{P}/projects/{{project_id}}/users/{{user_id}}/roles/{{role_id}}")]),
    _rule("list_grants", ADMIN, "List a user's roles on a project.",
          [("GET", f"{P}/projects/{{project_id}}/users/{{user_id}}/roles")]),
    _rule("list_role_assignments", ADMIN, "List role assignments.",
          [("GET", f"{P}/role_assignments")]),
    _rule("list_services", ADMIN, "List catalog services.", [("GET", f"{P}/services")]),
    _rule("get_service", ADMIN, "Show a catalog service.",
          [("GET", f"{P}/services/{{service_id}}")]),
    _rule("create_service", ADMIN, "Create a catalog service.", [("POST", f"{P}/services")]),
    _rule("delete_service", ADMIN, "Delete a catalog service.",
          [("DELETE", f"{P}/services/{{service_id}}")]),
    _rule("list_endpoints", ADMIN, "List catalog endpoints.", [("GET", f"{P}/endpoints")]),
    _rule("get_endpoint", ADMIN, "Show a catalog endpoint.",
          [("GET", f"{P}/endpoints/{{endpoint_id}}")]),
    _rule("create_endpoint", ADMIN, "Create a catalog endpoint.",
          [("POST", f"{P}/endpoints")]),
    _rule("delete_endpoint", ADMIN, "Delete a catalog endpoint.",
          [("DELETE", f"{P}/endpoints/{{endpoint_id}}")]),
    _rule("list_regions", "", "List regions (any authenticated caller).",
          [("GET", f"{P}/regions")]),
    _rule("get_region", "", "Show a region (any authenticated caller).",
          [("GET", f"{P}/regions/{{region_id}}")]),
]
