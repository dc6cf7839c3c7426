"""oslo.policy's own tools work on the stratus namespace: every rule, its operations, overrides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stratus.policies import documented_rules

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


def test_policy_generator_merges_the_policy_file_over_the_defaults(tmp_path):
    (tmp_path / "policy.yaml").write_text('identity:list_roles: "role:reader"\n')
    out = run("oslopolicy-policy-generator", "--namespace", "stratus",
              env={"STRATUS_STATE_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert '"identity:list_roles": "role:reader"' in out.stdout
    assert '"identity:list_users": "role:admin"' in out.stdout
