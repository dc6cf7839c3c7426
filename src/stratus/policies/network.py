"""Network API rules, named as Neutron names them so existing policy files still apply.

Which resources a project sees (its own, shared and external networks, ports on the
networks it owns) is decided by the service's queries; these rules decide what a caller
may do with one it can see. ``network:project_id`` in a target is the owner of the
network a subnet or port is on.
"""

from oslo_policy import policy

from stratus.policies.base import ADMIN

READER = f"{ADMIN} or role:reader"
OWNER_READER = f"{ADMIN} or (role:reader and project_id:%(project_id)s)"
OWNER_MEMBER = f"{ADMIN} or (role:member and project_id:%(project_id)s)"
NETWORK_OWNER = f"{ADMIN} or (role:member and project_id:%(network:project_id)s)"
OWNER_OR_NETWORK_OWNER = (f"{ADMIN} or (role:member and project_id:%(project_id)s) or "
                          f"(role:member and project_id:%(network:project_id)s)")


def _rule(name: str, check: str, description: str) -> policy.RuleDefault:
    """A rule; ``documented_rules()`` adds the operations it guards from the route table."""
    return policy.RuleDefault(name=name, check_str=check, description=description)


def _crud(singular: str, what: str, *, create: str = OWNER_MEMBER,
          change: str = OWNER_MEMBER, get: str = READER) -> list[policy.RuleDefault]:
    return [_rule(f"create_{singular}", create, f"Create {what}."),
            _rule(f"get_{singular}", get, f"List {what}s, or show one the caller can see."),
            _rule(f"update_{singular}", change, f"Update {what}."),
            _rule(f"delete_{singular}", change, f"Delete {what}.")]


def _attribute(verb: str, singular: str, attribute: str, check: str, what: str
               ) -> policy.RuleDefault:
    return _rule(f"{verb}_{singular}:{attribute}", check,
                 f"{verb.capitalize()} {singular}s with {what}.")


rules = [
    _rule("get_extension", "", "List the API's extensions and resources, or show one."),
    *_crud("network", "a network"),
    _attribute("create", "network", "shared", ADMIN, "'shared' set"),
    _attribute("update", "network", "shared", ADMIN, "'shared' changed"),
    _attribute("create", "network", "router:external", ADMIN, "'router:external' set"),
    _attribute("update", "network", "router:external", ADMIN, "'router:external' changed"),
    _attribute("create", "network", "is_default", ADMIN, "'is_default' set"),
    _attribute("update", "network", "is_default", ADMIN, "'is_default' changed"),
    *_crud("subnet", "a subnet", create=NETWORK_OWNER, change=NETWORK_OWNER),
    *_crud("subnetpool", "a subnet pool"),
    _attribute("create", "subnetpool", "shared", ADMIN, "'shared' set"),
    _attribute("create", "subnetpool", "is_default", ADMIN, "'is_default' set"),
    _attribute("update", "subnetpool", "is_default", ADMIN, "'is_default' changed"),
    *_crud("port", "a port", change=OWNER_OR_NETWORK_OWNER),
    _attribute("create", "port", "mac_address", NETWORK_OWNER, "a chosen MAC address"),
    _attribute("update", "port", "mac_address", ADMIN, "the MAC address changed"),
    _attribute("create", "port", "binding:host_id", ADMIN, "a host binding"),
    _attribute("update", "port", "binding:host_id", ADMIN, "the host binding changed"),
    _attribute("create", "port", "binding:profile", ADMIN, "a binding profile"),
    _attribute("update", "port", "binding:profile", ADMIN, "the binding profile changed"),
    *_crud("router", "a router"),
    _rule("add_router_interface", OWNER_MEMBER, "Attach a subnet or port to a router."),
    _rule("remove_router_interface", OWNER_MEMBER, "Detach a subnet or port from a router."),
    *_crud("security_group", "a security group"),
    _rule("create_security_group_rule", OWNER_MEMBER, "Create a security group rule."),
    _rule("get_security_group_rule", READER, "List security group rules, or show one."),
    _rule("delete_security_group_rule", OWNER_MEMBER, "Delete a security group rule."),
    _rule("get_auto_allocated_topology", OWNER_MEMBER, "Show (making it on first use) or "
          "check (dry-run) a project's auto-allocated topology."),
    _rule("delete_auto_allocated_topology", OWNER_MEMBER, "Delete a project's "
          "auto-allocated topology."),
    _rule("get_quota", OWNER_READER, "Show a project's quotas, defaults or usage; list "
          "the projects with quotas set."),
    _rule("update_quota", ADMIN, "Set a project's quotas."),
    _rule("delete_quota", ADMIN, "Reset a project's quotas to the defaults."),
]
