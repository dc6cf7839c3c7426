"""Personas the defaults are built from: admin ⊇ member ⊇ reader, owners by project_id."""

from oslo_policy import policy

ADMIN = "role:admin"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"

rules = [
    policy.RuleDefault("admin_required", ADMIN, description="The caller is a cloud admin."),
    policy.RuleDefault("admin_or_owner", f"{ADMIN} or project_id:%(project_id)s",
                       description="A cloud admin, or any role on the owning project."),
]
