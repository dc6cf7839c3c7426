"""oslo.policy's own tools work on the stratus namespace: every rule, its operations, overrides."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from pathlib import Path

from stratus.allinone import AllInOne
from stratus.policies import documented_rules, list_rules

BIN = Path(sys.executable).parent


def run(tool: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_sample_generator_prints_every_rule_with_its_operations():
    out = run("oslopolicy-sample-generator", "--namespace", "stratus")
    assert out.returncode == 0, out.stderr
    for rule in documented_rules():
        assert f'#"{rule.name}": "{rule.check_str}"' in out.stdout, rule.name
        for op in getattr(rule, "operations", []):
            assert f"# {op['method']}  {op['path']}\n" in out.stdout, (rule.name, op)


def _sample_entries(text: str) -> dict[str, tuple[str, set[tuple[str, str]]]]:
    """Rule name -> (check string, {(method, path)}) as the sample file lists them."""
    entries: dict[str, tuple[str, set[tuple[str, str]]]] = {}
    for block in text.split("\n\n"):
        rule = re.search(r'^#"([^"]+)": "(.*)"$', block, re.M)
        if rule is None:
            continue
        assert rule.group(1) not in entries, f"{rule.group(1)} is listed twice"
        ops = set(re.findall(r"^# (GET|HEAD|POST|PUT|PATCH|DELETE)  (.+)$", block, re.M))
        entries[rule.group(1)] = (rule.group(2), ops)
    return entries


def test_sample_generator_lists_every_api_rule_with_the_operations_its_routes_have():
    """Read against the route tables themselves, not against what the policies module says.

    Every rule registered in code is listed once with its default, and every (method,
    path) of every API (a body action's path with its key, a handler's further check too)
    is listed under the rule that guards it, and nowhere else.
    """
    out = run("oslopolicy-sample-generator", "--namespace", "stratus")
    assert out.returncode == 0, out.stderr
    listed = _sample_entries(out.stdout)
    assert {name: check for name, (check, _) in listed.items()} == {
        rule.name: rule.check_str for rule in list_rules()}
    assert {name: ops for name, (_, ops) in listed.items() if ops} == _route_operations()


def _route_operations() -> dict[str, set[tuple[str, str]]]:
    """Rule -> the (method, path) pairs it guards, read from every API's route table."""
    guarded: dict[str, set[tuple[str, str]]] = {}
    for prefix, routes in AllInOne.ROUTE_TABLES.items():
        found = 0
        for route in routes:
            for method in route.methods:
                for rule, path in route.guards(method):
                    guarded.setdefault(rule, set()).add((method, path))
                    found += 1
        assert found, f"no route of {prefix} names a rule"
    return guarded


def test_stratus_policy_list_shows_every_rule_with_the_operations_its_routes_have(tmp_path):
    out = run("stratus-policy", "--state-dir", str(tmp_path), "list")
    assert out.returncode == 0, out.stderr
    listed = {}
    for block in out.stdout.split("\n\n")[1:]:
        name, *lines = block.strip().splitlines()
        assert name not in listed, f"{name} is listed twice"
        listed[name] = {tuple(line.split(": ", 1)[1].split(" ", 1)) for line in lines
                        if line.startswith("  operation: ")}
    assert set(listed) == {rule.name for rule in list_rules()}
    assert {name: ops for name, ops in listed.items() if ops} == _route_operations()


def test_policy_generator_merges_the_policy_file_over_the_defaults(tmp_path):
    (tmp_path / "policy.yaml").write_text('identity:list_roles: "role:reader"\n')
    out = run("oslopolicy-policy-generator", "--namespace", "stratus",
              env={"STRATUS_STATE_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert '"identity:list_roles": "role:reader"' in out.stdout
    assert '"identity:list_users": "role:admin"' in out.stdout


def test_stratus_policy_list_into_a_reader_that_stops_early_is_not_an_error(tmp_path):
    # A one-page pipe: the tool is still writing when the reader goes, as with `| head`.
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    tool = subprocess.Popen([str(BIN / "stratus-policy"), "--state-dir", str(tmp_path), "list"],
                            stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    tool.stdout = os.fdopen(read_end, "rb")
    assert tool.stdout.readline().startswith(b"# policy file:")
    tool.stdout.close()  # as `| head -1` does
    stderr = tool.stderr.read().decode()
    assert tool.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr
