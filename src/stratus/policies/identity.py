"""Identity API rules, named as Keystone names them so existing policy files still apply.

The operations each rule guards are read from the identity route table
(``stratus.policies.documented_rules``), so they are not repeated here.
"""

from oslo_policy import policy

from stratus.policies.base import ADMIN


def _rule(name: str, check: str, description: str) -> policy.RuleDefault:
    return policy.RuleDefault(name=f"identity:{name}", check_str=check, description=description)


SELF_OR_ADMIN = f"{ADMIN} or user_id:%(target.user.id)s"
TOKEN_SUBJECT_OR_ADMIN = f"{ADMIN} or user_id:%(target.token.user_id)s"

rules = [
    _rule("get_auth_catalog", "", "Show the service catalog of the caller's token."),
    _rule("get_auth_projects", "", "List the projects the caller can scope a token to."),
    _rule("get_auth_domains", "", "List the domains the caller can scope a token to."),
    _rule("validate_token", TOKEN_SUBJECT_OR_ADMIN, "Validate a token."),
    _rule("check_token", TOKEN_SUBJECT_OR_ADMIN, "Check a token."),
    _rule("revoke_token", TOKEN_SUBJECT_OR_ADMIN, "Revoke a token."),
    _rule("get_domain", f"{ADMIN} or project_domain_id:%(target.domain.id)s",
          "Show a domain."),
    _rule("list_domains", ADMIN, "List domains."),
    _rule("get_project", f"{ADMIN} or project_id:%(target.project.id)s", "Show a project."),
    _rule("list_projects", ADMIN, "List projects."),
    _rule("list_user_projects", SELF_OR_ADMIN, "List the projects a user has roles on."),
    _rule("create_project", ADMIN, "Create a project."),
    _rule("update_project", ADMIN, "Update a project."),
    _rule("delete_project", ADMIN, "Delete a project."),
    _rule("get_user", SELF_OR_ADMIN, "Show a user."),
    _rule("list_users", ADMIN, "List users."),
    _rule("create_user", ADMIN, "Create a user."),
    _rule("update_user", ADMIN, "Update a user."),
    _rule("delete_user", ADMIN, "Delete a user."),
    _rule("change_password", SELF_OR_ADMIN, "Change a user's own password."),
    _rule("get_role", ADMIN, "Show a role."),
    _rule("list_roles", ADMIN, "List roles."),
    _rule("create_role", ADMIN, "Create a role."),
    _rule("update_role", ADMIN, "Update a role."),
    _rule("delete_role", ADMIN, "Delete a role."),
    _rule("create_grant", ADMIN, "Grant a role to a user on a project."),
    _rule("check_grant", ADMIN, "Check a user's role on a project."),
    _rule("revoke_grant", ADMIN, "Revoke a user's role on a project."),
    _rule("list_grants", ADMIN, "List a user's roles on a project."),
    _rule("list_role_assignments", ADMIN, "List role assignments."),
    _rule("list_services", ADMIN, "List catalog services."),
    _rule("get_service", ADMIN, "Show a catalog service."),
    _rule("create_service", ADMIN, "Create a catalog service."),
    _rule("delete_service", ADMIN, "Delete a catalog service."),
    _rule("list_endpoints", ADMIN, "List catalog endpoints."),
    _rule("get_endpoint", ADMIN, "Show a catalog endpoint."),
    _rule("create_endpoint", ADMIN, "Create a catalog endpoint."),
    _rule("delete_endpoint", ADMIN, "Delete a catalog endpoint."),
    _rule("list_regions", "", "List regions (any authenticated caller)."),
    _rule("get_region", "", "Show a region (any authenticated caller)."),
]
