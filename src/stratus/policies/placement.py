"""Policy defaults of the Placement API: OpenStack's rule names and defaults.

Everything is for admins and services (``role:admin or role:service``), project-scoped
tokens only; the reshaper is for services; a project reader may read its own total
usages. With ``[oslo_policy] enforce_new_defaults = false`` each default also accepts
the deprecated ``role:admin`` rule, as OpenStack Placement does.
"""

from oslo_log import versionutils
from oslo_policy import policy

_DEPRECATED_ADMIN = policy.DeprecatedRule(
    name="placement:admin_api", check_str="role:admin",
    deprecated_reason="Placement's policies gained reader/service personas and scope types.",
    deprecated_since=versionutils.deprecated.WALLABY)

# Named base rules; prefixed so they cannot collide with another API's "admin_api".
base_rules = [
    policy.RuleDefault("placement:admin_api", "role:admin",
                       description="Placement administrators.", scope_types=["project"]),
    policy.RuleDefault("placement:service_api", "role:service",
                       description="Services calling placement (nova, neutron, ...).",
                       scope_types=["project"], deprecated_rule=_DEPRECATED_ADMIN),
    policy.RuleDefault("placement:admin_or_service_api", "role:admin or role:service",
                       description="Administrators or services.", scope_types=["project"],
                       deprecated_rule=_DEPRECATED_ADMIN),
    policy.RuleDefault("placement:project_reader_api",
                       "role:reader and project_id:%(project_id)s",
                       description="A reader of the target project.",
                       deprecated_rule=_DEPRECATED_ADMIN),
    policy.RuleDefault("placement:admin_or_project_reader_or_service_api",
                       "role:admin or rule:placement:project_reader_api or role:service",
                       description="Administrators, the project's readers, or services.",
                       scope_types=["project"], deprecated_rule=_DEPRECATED_ADMIN),
]
ADMIN_OR_SERVICE = "rule:placement:admin_or_service_api"
SERVICE = "rule:placement:service_api"
ADMIN_OR_PROJECT_READER_OR_SERVICE = "rule:placement:admin_or_project_reader_or_service_api"
# Rules whose default differs from ADMIN_OR_SERVICE.
_DEFAULTS = {"placement:reshaper:reshape": SERVICE,
             "placement:usages": ADMIN_OR_PROJECT_READER_OR_SERVICE}

# (rule name, what it allows); the operations each guards are read from the route table
# by documented_rules(), so they cannot drift from it.
_RULES = [
    ("placement:resource_providers:list", "List resource providers."),
    ("placement:resource_providers:create", "Create a resource provider."),
    ("placement:resource_providers:show", "Show a resource provider."),
    ("placement:resource_providers:update", "Update a resource provider."),
    ("placement:resource_providers:delete", "Delete a resource provider."),
    ("placement:resource_classes:list", "List resource classes."),
    ("placement:resource_classes:create", "Create a custom resource class."),
    ("placement:resource_classes:show", "Show a resource class."),
    ("placement:resource_classes:update", "Create or rename a custom resource class."),
    ("placement:resource_classes:delete", "Delete a custom resource class."),
    ("placement:resource_providers:inventories:list", "List a provider's inventories."),
    ("placement:resource_providers:inventories:create", "Add one inventory to a provider."),
    ("placement:resource_providers:inventories:show", "Show one inventory."),
    ("placement:resource_providers:inventories:update",
     "Replace all inventories of a provider, or update one."),
    ("placement:resource_providers:inventories:delete",
     "Delete all inventories of a provider, or one."),
    ("placement:resource_providers:aggregates:list", "List a provider's aggregates."),
    ("placement:resource_providers:aggregates:update", "Replace a provider's aggregates."),
    ("placement:resource_providers:usages", "Show a provider's usages."),
    ("placement:usages", "Show a project's (or user's) total usages."),
    ("placement:traits:list", "List traits."),
    ("placement:traits:show", "Check that a trait exists."),
    ("placement:traits:update", "Create a custom trait."),
    ("placement:traits:delete", "Delete a custom trait."),
    ("placement:resource_providers:traits:list", "List a provider's traits."),
    ("placement:resource_providers:traits:update", "Replace a provider's traits."),
    ("placement:resource_providers:traits:delete", "Remove every trait of a provider."),
    ("placement:allocations:manage", "Write allocations of several consumers at once."),
    ("placement:allocations:list", "List a consumer's allocations."),
    ("placement:allocations:update", "Replace a consumer's allocations."),
    ("placement:allocations:delete", "Delete a consumer's allocations."),
    ("placement:resource_providers:allocations:list", "List the allocations against a provider."),
    ("placement:allocation_candidates:list", "List allocation candidates."),
    ("placement:reshaper:reshape", "Move inventories and allocations atomically."),
]

rules = base_rules + [
    policy.RuleDefault(name, _DEFAULTS.get(name, ADMIN_OR_SERVICE), description=description,
                       scope_types=["project"])
    for name, description in _RULES]
