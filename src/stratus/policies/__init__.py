"""Policy defaults in code for every Stratus API, one module per API resource."""

from __future__ import annotations

import itertools

from oslo_policy import policy

from stratus.policies import base, compute, identity, image, network, placement


def list_rules():
    """Entry point for oslopolicy-sample-generator --namespace stratus."""
    return list(itertools.chain(base.rules, identity.rules, compute.rules, image.rules,
                                placement.rules, network.rules))


def documented_rules() -> list[policy.RuleDefault]:
    """Every rule, those that guard routes documented with the operations they guard.

    The entry point of ``oslopolicy-sample-generator --namespace stratus`` and what the
    enforcer registers. Operations are read from the route tables, so the documented
    (method, path) pairs are exactly the routes a rule guards and cannot drift.
    """
    guarded = operations_by_rule()
    result = []
    for rule in list_rules():
        ops = guarded.get(rule.name)
        if ops:
            rule = policy.DocumentedRuleDefault(
                name=rule.name, check_str=rule.check_str, description=rule.description,
                operations=[{"method": method, "path": path} for method, path in ops],
                deprecated_rule=rule.deprecated_rule,
                deprecated_for_removal=rule.deprecated_for_removal,
                deprecated_reason=rule.deprecated_reason,
                deprecated_since=rule.deprecated_since, scope_types=rule.scope_types)
        result.append(rule)
    return result


def operations_by_rule() -> dict[str, list[tuple[str, str]]]:
    """Rule name -> the (method, path) pairs it guards, over every mounted API.

    A route's own rules, its body actions' (``POST /flavors/{flavor_id}/action
    (addTenantAccess)``) and its handlers' named further checks all count. Paths are
    relative to the API's endpoint (``/v3/projects``), as OpenStack's policy
    documentation writes them.
    """
    # Imported here: the API apps import the policy engine, which imports this package.
    from stratus.allinone import AllInOne

    guarded: dict[str, list[tuple[str, str]]] = {}
    for routes in AllInOne.ROUTE_TABLES.values():
        for route in routes:
            for method in route.methods:
                for rule, path in route.guards(method):
                    guarded.setdefault(rule, []).append((method, path))
    return guarded
