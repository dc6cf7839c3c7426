"""Personas the defaults are built from: admin ⊇ member ⊇ reader, owners by project_id.

Roles imply one another (admin → member → reader, see identity.bootstrap.ROLE_CHAIN), so
a member's token also carries ``reader``. Check strings name roles, never users.
"""

from oslo_policy import policy

ADMIN = "role:admin"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
# The defaults OpenStack ships today (secure RBAC): a cloud admin may act on any project.
PROJECT_MEMBER_OR_ADMIN = "rule:context_is_admin or rule:project_member_api"
PROJECT_READER_OR_ADMIN = "rule:context_is_admin or rule:project_reader_api"

rules = [
    policy.RuleDefault("admin_required", ADMIN, description="The caller is a cloud admin."),
    policy.RuleDefault("admin_or_owner", f"{ADMIN} or project_id:%(project_id)s",
                       description="A cloud admin, or any role on the owning project."),
    policy.RuleDefault("context_is_admin", ADMIN,
                       description="The caller is a cloud admin (Nova's and Placement's name)."),
    policy.RuleDefault("project_member_api", PROJECT_MEMBER,
                       description="A member of the project that owns the resource."),
    policy.RuleDefault("project_reader_api", PROJECT_READER,
                       description="A reader of the project that owns the resource."),
    policy.RuleDefault("project_member_or_admin", PROJECT_MEMBER_OR_ADMIN,
                       description="A cloud admin, or a member of the owning project."),
    policy.RuleDefault("project_reader_or_admin", PROJECT_READER_OR_ADMIN,
                       description="A cloud admin, or a reader of the owning project."),
]
