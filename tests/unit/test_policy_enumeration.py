"""Every route of every mounted API is guarded by a registered rule, and every rule guards one.

Walks ``AllInOne.ROUTE_TABLES``, so an API mounted there is covered without touching this file.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from oslo_policy import policy

from stratus import policies
from stratus.allinone import AllInOne
from stratus.common.policy import check_problem
from stratus.common.wsgi.spec import versioned
from stratus.policies import base

SRC = Path(__file__).resolve().parents[2] / "src" / "stratus"
REGISTERED = {rule.name: rule for rule in policies.documented_rules()}


def route_methods():
    for prefix, routes in AllInOne.ROUTE_TABLES.items():
        for route in routes:
            for method in route.methods:
                yield prefix, route, method


def _id(value):
    prefix, route, method = value
    return f"{method} {prefix}{route.path}"


@pytest.mark.parametrize("entry", list(route_methods()), ids=_id)
def test_every_protected_route_names_a_registered_rule(entry):
    """A method needs a token and a rule, or a rule per body action; public ones have none."""
    prefix, route, method = entry
    where = f"{method} {prefix}{route.path}"
    guards = route.guards(method)
    if route.is_public(method):
        assert not guards, f"{where} is public but names rules {guards}"
        return
    assert method in route.rules or route.actions.get(method), \
        f"{where} needs a token but names no policy rule and no action rules"
    assert not (method in route.rules and route.actions.get(method)), \
        f"{where}: an action route's rule comes from the body's action, not the route"
    for rule, _path in guards:
        assert rule in REGISTERED, f"{where} names unregistered rule {rule}"


def test_every_route_rule_names_a_method_the_route_has():
    for prefix, routes in AllInOne.ROUTE_TABLES.items():
        for route in routes:
            for table in ("rules", "actions", "checks"):
                extra = set(getattr(route, table)) - set(route.methods)
                assert not extra, f"{prefix}{route.path} has {table} for missing methods {extra}"


@pytest.mark.parametrize("entry", [entry for entry in route_methods()
                                   if entry[1].actions.get(entry[2])], ids=_id)
def test_action_rules_are_exactly_the_actions_the_body_accepts(entry):
    """Each body key an action route accepts picks a rule, and each rule names a key it accepts.

    The accepted keys are read from the route's body spec, the schema its handler validates.
    """
    prefix, route, method = entry
    spec = route.specs.get(method)
    assert spec is not None and spec.body is not None, \
        f"{method} {prefix}{route.path}: an action route needs a body spec naming its actions"
    accepted = {key for version in versioned(spec.body)
                for key in version.schema.schema.get("properties", {})}
    assert accepted == set(route.actions[method]), \
        f"{method} {prefix}{route.path}: the body accepts {sorted(accepted)}, " \
        f"rules exist for {sorted(route.actions[method])}"


def test_every_documented_rule_guards_a_route():
    guarded = policies.operations_by_rule()
    for name, rule in REGISTERED.items():
        if isinstance(rule, policy.DocumentedRuleDefault):
            assert name in guarded, f"{name} is documented but guards no route"


def _building_blocks() -> set[str]:
    """Rules other rules are built from: policies/base.py's, and each API module's
    ``base_rules`` (``placement:admin_api``, referenced as ``rule:placement:admin_api``)."""
    names = {rule.name for rule in base.rules}
    for info in pkgutil.iter_modules(policies.__path__):
        module = importlib.import_module(f"{policies.__name__}.{info.name}")
        names |= {rule.name for rule in getattr(module, "base_rules", [])}
    return names


def test_every_api_rule_guards_a_route():
    """Every rule but the building blocks other rules use guards something.

    A route's rule, a body action's or a handler's declared further check all count.
    """
    guarded = policies.operations_by_rule()
    shared = _building_blocks()
    dead = [name for name in REGISTERED if name not in shared and name not in guarded]
    assert not dead, f"rules that guard no route, action or check: {dead}"


def test_documented_operations_are_exactly_the_routes_guarded():
    guarded = policies.operations_by_rule()
    for name, ops in guarded.items():
        rule = REGISTERED[name]
        assert isinstance(rule, policy.DocumentedRuleDefault)
        assert rule.description, f"{name} has no description"
        assert [(op["method"], op["path"]) for op in rule.operations] == ops


def test_action_operations_read_like_openstacks():
    ops = policies.operations_by_rule()
    assert ops["os_compute_api:os-flavor-access:add_tenant_access"] == [
        ("POST", "/v2.1/flavors/{flavor_id}/action (addTenantAccess)")]
    assert ops["os_compute_api:os-aggregates:set_metadata"] == [
        ("POST", "/v2.1/os-aggregates/{aggregate_id}/action (set_metadata)")]
    assert ops["os_compute_api:servers:detail:get_all_tenants"] == [
        ("GET", "/v2.1/servers/detail")]


def test_operations_written_by_hand_match_the_route_table():
    """An API module may spell out operations itself; they must then agree with its routes."""
    guarded = policies.operations_by_rule()
    for rule in policies.list_rules():
        if isinstance(rule, policy.DocumentedRuleDefault):
            written = sorted((op["method"], op["path"]) for op in rule.operations)
            assert written == sorted(guarded.get(rule.name, [])), rule.name


def test_rule_names_are_unique():
    names = [rule.name for rule in policies.list_rules()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_default_check_string_parses_and_references_known_rules():
    for name, rule in REGISTERED.items():
        assert check_problem(rule.check_str, set(REGISTERED)) is None, name


def _policy_calls():
    """(file, line, call) for every call of a policy check in the services' code."""
    for path in sorted(SRC.rglob("*.py")):
        if path.parent.name == "policies" or path == SRC / "common" / "policy.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("authorize", "allows", "allowed", "enforce"):
                    yield path.relative_to(SRC), node.lineno, node


def test_handlers_name_no_rule_of_their_own():
    """Every rule a handler checks comes from its route table (rules, actions or checks).

    A rule name written in a handler would guard something the enumeration above cannot
    see; handlers pass ``action=`` / ``check=`` names that ``Route.rule_for`` looks up.
    """
    literal = []
    for where, line, call in _policy_calls():
        args = list(call.args) + [kw.value for kw in call.keywords
                                  if kw.arg not in ("action", "check")]
        if any(isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant)
                                                  and isinstance(arg.value, str))
               for arg in args):
            literal.append(f"{where}:{line}")
    assert not literal, f"policy checks with a rule name written in the code: {literal}"
    assert any(True for _ in _policy_calls()), "found no policy checks at all"
