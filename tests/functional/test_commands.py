"""Console scripts as an operator runs them: exit statuses and what they print."""

import os
import subprocess
import sys

import pytest

from stratus.common.wsgi.app import HTTP_METHODS
from stratus.identity.app import ROUTES as IDENTITY_ROUTES
from stratus.policies import documented_rules

BIN = os.path.dirname(sys.executable)


def run(*argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([f"{BIN}/{argv[0]}", *argv[1:]], capture_output=True, text=True,
                          timeout=120, **kw)


def test_status_check_fails_before_sync_and_before_cells_are_mapped(tmp_path):
    before = run("stratus-status", "--state-dir", str(tmp_path), "upgrade", "check")
    assert before.returncode == 2 and "stratus-manage db sync" in before.stdout
    assert run("stratus-manage", "--state-dir", str(tmp_path), "db", "sync").returncode == 0
    unmapped = run("stratus-status", "--state-dir", str(tmp_path), "upgrade", "check")
    assert unmapped.returncode == 2 and "cell_v2 map_cell0" in unmapped.stdout
    for action in ("map_cell0", "create_cell"):
        assert run("stratus-manage", "--state-dir", str(tmp_path), "cell_v2",
                   action).returncode == 0
    after = run("stratus-status", "--state-dir", str(tmp_path), "upgrade", "check")
    # No [placement] credentials and no all-in-one account in this state directory.
    assert after.returncode == 2, after.stdout
    assert "Check: Database schemas\nResult: Success" in after.stdout
    assert "Check: Cells v2\nResult: Success" in after.stdout
    assert "Check: Placement API\nResult: Failure\nDetails: Placement cannot be used: " \
        "[placement] auth_type is not set" in after.stdout
    assert "Check: Policy File\nResult: Success" in after.stdout


def test_status_policy_file_check_warns_on_unknown_rules_and_json_and_fails_on_errors(
        tmp_path):
    policy = tmp_path / "policy.yaml"

    def check() -> subprocess.CompletedProcess:
        return run("stratus-status", "--state-dir", str(tmp_path), "upgrade", "check")

    policy.write_text('"os_compute_api:servers:index": "role:admin"\n'
                      '"os_compute_api:servres:show": "role:admin"\n')
    out = check().stdout
    assert "Check: Policy File\nResult: Warning" in out
    assert "os_compute_api:servres:show" in out and "os_compute_api:servers:index" \
        not in out.split("Check: Policy File")[1]
    policy.write_text('{"os_compute_api:servers:index": "role:admin"}')
    out = check().stdout
    assert "Check: Policy File\nResult: Warning" in out and "is JSON" in out
    policy.write_text('"os_compute_api:servers:index": "rule:no_such_rule"\n')
    out = check().stdout
    assert "Check: Policy File\nResult: Failure" in out and "no_such_rule" in out


def test_bootstrap_is_idempotent_and_admin_can_log_in(tmp_path):
    state = ["--state-dir", str(tmp_path)]
    assert run("stratus-manage", *state, "db", "sync", "identity").returncode == 0
    first = run("stratus-manage", *state, "bootstrap", "--bootstrap-password", "pw1")
    second = run("stratus-manage", *state, "bootstrap", "--bootstrap-password", "pw1")
    assert first.returncode == second.returncode == 0
    assert first.stdout.split()[2] == second.stdout.split()[2]  # the same admin user id


@pytest.mark.parametrize("namespace,expected", [
    ("stratus", "[identity_database]"), ("stratus", "transport_url = fake://")])
def test_sample_config_is_generated(namespace, expected):
    out = run("oslo-config-generator", "--namespace", namespace)
    assert out.returncode == 0 and expected in out.stdout


def test_sample_policy_is_generated():
    out = run("oslopolicy-sample-generator", "--namespace", "stratus")
    assert out.returncode == 0 and '"identity:create_project": "role:admin"' in out.stdout


def test_every_guarded_route_has_a_registered_rule_naming_it():
    """The route table and the policy rules in code agree, both ways."""
    rules = {rule.name: rule for rule in documented_rules()}
    guarded = set()
    for route in IDENTITY_ROUTES:
        for method in route.methods:
            assert method in HTTP_METHODS
            if route.is_public(method):
                continue
            name = route.rules.get(method)
            if name is None:  # any valid token may call it: /v3/auth/{projects,catalog,...}
                assert route.path.startswith("/v3/auth/"), (method, route.path)
                continue
            assert name in rules, f"{method} {route.path}: rule {name} is not registered"
            ops = {(op["method"], op["path"]) for op in rules[name].operations}
            assert (method, route.path) in ops, f"{name} does not document {method} {route.path}"
            guarded.add(name)
    identity_rules = {n for n in rules if n.startswith("identity:")}
    assert identity_rules - guarded == set(), "rules that guard no route"
