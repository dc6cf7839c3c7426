"""A policy file override changes exactly the action it names, live, without a restart."""

from __future__ import annotations

import os

import pytest
import yaml
from harness import stop_cloud
from matrix import all_factories, all_rows, revealed, run, start_matrix_cloud
from personas import PERSONAS, make_world

from stratus.common.policy import resolve_policy_file

ROWS = all_rows()
RULES = sorted({row.rule for row in ROWS})


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_matrix_cloud(tmp_path_factory.mktemp("matrix"))
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def world(cloud):
    made = make_world(cloud)
    made.factories.update(all_factories())
    return made


@pytest.fixture
def policy_file(cloud):
    path = resolve_policy_file(cloud.conf)

    def write(overrides: dict[str, str]) -> None:
        tmp = f"{path}.tmp"
        with open(tmp, "w") as fh:
            yaml.safe_dump(overrides, fh)
        os.replace(tmp, path)

    yield write
    if os.path.exists(path):
        os.remove(path)


def statuses(world) -> dict[tuple[str, str], int]:
    return {(row.id, persona): run(world, row, persona).status_code
            for row in ROWS for persona in PERSONAS}


def test_override_of_one_rule_changes_exactly_that_action_live(world, policy_file):
    policy_file({"identity:list_projects": "role:reader"})
    changed = {key: status for key, status in statuses(world).items()
               if status != next(r for r in ROWS if r.id == key[0]).expect[key[1]]}
    assert changed == {
        ("GET /v3/projects [identity:list_projects]", "member"): 200,
        ("GET /v3/projects [identity:list_projects]", "reader"): 200,
        ("GET /v3/projects [identity:list_projects]", "other_member"): 200,
    }
    policy_file({})
    row = next(r for r in ROWS if r.rule == "identity:list_projects")
    assert run(world, row, "reader").status_code == 403, "emptying the file restores defaults"


@pytest.mark.parametrize("rule", RULES)
def test_denying_a_rule_in_the_file_denies_its_actions_even_to_admin(world, policy_file, rule):
    """Proves each rule really guards its routes: the handler checks that very rule."""
    policy_file({rule: "!"})
    for row in (r for r in ROWS if r.rule == rule):
        resp = run(world, row, "admin")
        if row.reveals:  # a rule over what is shown: the answer no longer shows it
            assert resp.status_code == row.expect["admin"] and not revealed(resp, row.reveals), \
                f"{row.id}: {resp.status_code} {resp.text[:200]}"
            continue
        # What outsiders may not see (another project's server) is hidden, not refused.
        denied = (403, 404) if row.expect["other_member"] == 404 else (403,)
        assert resp.status_code in denied, f"{row.id}: {resp.status_code} {resp.text[:200]}"
    other = next(r for r in ROWS if r.rule != rule and r.expect["admin"] < 300)
    assert run(world, other, "admin").status_code == other.expect["admin"]
