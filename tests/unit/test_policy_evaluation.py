"""Policy decisions are oslo.policy's: every rule, every persona, the same answer as
oslo's own ``Enforcer.authorize`` over the same rules (Policy evaluates check trees
itself, without oslo's per-call overheads)."""

from __future__ import annotations

import itertools

import pytest
from oslo_policy import policy as oslo_policy

from stratus import conf as stratus_conf
from stratus.common.context import RequestContext
from stratus.common.policy import Policy

PERSONAS = [
    RequestContext(user_id="a1", project_id="admin", roles=["admin", "member", "reader"]),
    RequestContext(user_id="u1", project_id="p1", roles=["member", "reader"]),
    RequestContext(user_id="u1", project_id="p1", roles=["reader"]),
    RequestContext(user_id="u2", project_id="p2", roles=[]),
    RequestContext(user_id="nova", project_id="service", roles=["service"]),
    RequestContext(user_id="a1", project_id="p1", roles=["admin"]),
    RequestContext(user_id="s1", system_scope="all", roles=["admin", "reader"]),
    RequestContext(user_id="s2", system_scope="all", roles=["reader"]),
    RequestContext(user_id="d1", domain_id="d1", roles=["admin"]),
]
TARGETS = [{"project_id": "p1", "user_id": "u1"}, {"project_id": "p2"},
           {"project_id": "admin", "user_id": "a1"}, {}]
# Exercises and/or/not, rule: references (defined in the file, in code, and missing
# through a reference chain), literals, credential comparisons and an unknown target key.
OVERRIDES = """
"placement:resource_providers:list": "role:reader and not role:admin"
"placement:resource_providers:show": "rule:mine or (role:member and project_id:%(project_id)s)"
"placement:traits:list": "user_id:%(user_id)s or rule:placement:resource_providers:list"
"placement:usages": "'p1':%(project_id)s or @"
"placement:reshaper:reshape": "!"
"placement:allocations:list": "role:%(missing_key)s or project_id:%(missing)s"
"mine": "user_id:%(user_id)s"
"""


def _reference(policy: Policy) -> oslo_policy.Enforcer:
    """A plain oslo enforcer holding exactly the rules ``policy`` enforces."""
    enforcer = policy._enforcer
    twin = oslo_policy.Enforcer(enforcer.conf, use_conf=False)
    twin.register_defaults(enforcer.registered_rules.values())
    twin.set_rules(dict(policy._rules), overwrite=True, use_conf=False)
    return twin


def _oslo_says(twin, rule, target, ctx) -> bool:
    try:
        return bool(twin.authorize(rule, dict(target), ctx, do_raise=False))
    except oslo_policy.InvalidScope:
        return False


@pytest.mark.parametrize("lenient,overrides", [(False, ""), (True, ""), (False, OVERRIDES)],
                         ids=["defaults", "deprecated-defaults-honoured", "overrides"])
def test_every_rule_decides_as_oslo_policy_does(tmp_path, lenient, overrides):
    if overrides:
        (tmp_path / "policy.yaml").write_text(overrides)
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path),
                                    "oslo_policy.enforce_new_defaults": not lenient})
    policy = Policy(conf)
    twin = _reference(policy)
    decided = {True: 0, False: 0}
    for rule, ctx, target in itertools.product(sorted(policy.defaults), PERSONAS, TARGETS):
        ours = policy.allows(ctx, rule, target)
        assert ours == _oslo_says(twin, rule, target, ctx), (rule, ctx.to_policy_values(),
                                                             target)
        decided[ours] += 1
    assert decided[True] and decided[False]  # the grid really tells rules apart


def test_unregistered_rule_is_an_error_not_a_denial(tmp_path):
    policy = Policy(stratus_conf.load(None, {"state_dir": str(tmp_path)}))
    with pytest.raises(oslo_policy.PolicyNotRegistered):
        policy.allows(PERSONAS[0], "placement:no_such_rule")
