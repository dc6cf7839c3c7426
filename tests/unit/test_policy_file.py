"""The policy file: overrides only, checked before use, re-read live when it changes."""

from __future__ import annotations

import json
import logging
import os
import warnings

import pytest

from stratus import conf as stratus_conf
from stratus.cmd import main as stratus_main
from stratus.cmd import policy as policy_cmd
from stratus.common.context import RequestContext
from stratus.common.policy import Policy, PolicyFileError, get_enforcer

READER = RequestContext(user_id="u1", project_id="p1", roles=["reader"])
ADMIN = RequestContext(user_id="a1", project_id="admin", roles=["admin", "member", "reader"])


def make_conf(state_dir, **overrides):
    return stratus_conf.load(None, {"state_dir": str(state_dir), **overrides})


def write(path, text: str) -> None:
    # Replace, as editors and config management do: a new inode each time.
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def test_missing_file_means_defaults(tmp_path):
    policy = Policy(make_conf(tmp_path))
    assert policy.path == str(tmp_path / "policy.yaml")
    assert policy.overrides == {}
    assert not policy.allows(READER, "identity:list_projects")
    assert policy.allows(ADMIN, "identity:list_projects")


def test_yaml_override_changes_only_that_rule(tmp_path):
    write(tmp_path / "policy.yaml", 'identity:list_projects: "role:reader"\n')
    policy = Policy(make_conf(tmp_path))
    assert policy.allows(READER, "identity:list_projects")
    assert not policy.allows(READER, "identity:list_users")
    changed = {n for n, c in policy.effective().items() if c != policy.defaults[n].check_str}
    assert changed == {"identity:list_projects"}


def test_json_file_is_read_too(tmp_path):
    write(tmp_path / "policy.json", json.dumps({"identity:list_users": "role:reader"}))
    policy = Policy(make_conf(tmp_path, **{"oslo_policy.policy_file": "policy.json"}))
    assert policy.allows(READER, "identity:list_users")


def test_relative_path_is_found_beside_the_config_file_first(tmp_path):
    etc, state = tmp_path / "etc", tmp_path / "state"
    etc.mkdir()
    state.mkdir()
    (etc / "stratus.conf").write_text("[oslo_policy]\npolicy_file = rules.yaml\n")
    write(etc / "rules.yaml", 'identity:list_users: "role:reader"\n')
    write(state / "rules.yaml", 'identity:list_roles: "role:reader"\n')
    conf = stratus_conf.new_conf()
    conf(args=[], project="stratus", default_config_files=[str(etc / "stratus.conf")])
    conf.set_override("state_dir", str(state))
    policy = Policy(conf)
    assert policy.path == str(etc / "rules.yaml")
    assert set(policy.overrides) == {"identity:list_users"}


@pytest.mark.parametrize("text,line,problem", [
    ('identity:list_users: "role:admin"\nidentity:list_roles: [unclosed\n', 3,
     "not valid YAML or JSON"),
    ('identity:list_users: "role:admin"\nidentity:list_roles: "rol:reader"\n', 2,
     "unknown check 'rol'"),
    ('identity:list_users: "role:admin"\n\nidentity:get_role: "rule:no_such_rule"\n', 3,
     "references rule 'no_such_rule'"),
    ('identity:list_users: ["role:admin"]\n', 1, "must be a check string"),
    ('- identity:list_users\n', 1, "must map rule names to check strings"),
    ('identity:list_users: "role:admin and"\n', 1, "cannot parse check string"),
])
def test_unusable_file_refuses_with_file_line_and_problem(tmp_path, text, line, problem):
    write(tmp_path / "policy.yaml", text)
    with pytest.raises(PolicyFileError) as err:
        Policy(make_conf(tmp_path))
    assert f"{tmp_path / 'policy.yaml'}:{line}:" in str(err.value)
    assert problem in str(err.value)


def test_rule_may_reference_a_rule_the_file_defines(tmp_path):
    write(tmp_path / "policy.yaml",
          'readers: "role:reader"\nidentity:list_roles: "rule:readers"\n')
    assert Policy(make_conf(tmp_path)).allows(READER, "identity:list_roles")


def test_file_is_reread_live_and_a_broken_edit_keeps_the_previous_rules(tmp_path):
    path = tmp_path / "policy.yaml"
    policy = Policy(make_conf(tmp_path))
    assert not policy.allows(READER, "identity:list_roles")
    write(path, 'identity:list_roles: "role:reader"\n')
    assert policy.allows(READER, "identity:list_roles")
    write(path, 'identity:list_roles: "rule:missing"\n')
    assert policy.allows(READER, "identity:list_roles"), "a broken edit must not apply"
    write(path, "{}\n")
    assert not policy.allows(READER, "identity:list_roles")
    write(path, 'identity:list_roles: "role:reader"\n')
    os.remove(path)
    assert not policy.allows(READER, "identity:list_roles"), "removing the file restores defaults"


def test_service_refuses_to_start_on_a_broken_file(tmp_path, capsys):
    write(tmp_path / "policy.yaml", 'identity:list_users: "rol:admin"\n')
    status = stratus_main.main(["all-in-one", "--state-dir", str(tmp_path), "--port", "1"])
    assert status == 1
    err = capsys.readouterr().err
    assert "cannot start" in err and f"{tmp_path / 'policy.yaml'}:1" in err
    assert not (tmp_path / "clouds.yaml").exists(), "nothing is set up before the check"


@pytest.mark.parametrize("argv,status,word", [
    (["check", "--role", "reader", "--project", "p", "identity:get_project"], 0, "allowed"),
    (["check", "--role", "member", "--project", "p", "--target-project", "q",
      "identity:get_project"], 1, "denied"),
    (["check", "--role", "admin", "--project", "p", "identity:list_users"], 0, "allowed"),
    (["check", "--role", "member", "--project", "p", "identity:list_users"], 1, "denied"),
    (["check", "--project", "p", "identity:get_auth_catalog"], 0, "allowed"),
    (["check", "--role", "admin", "--project", "p", "identity:no_such_rule"], 2, "unknown rule"),
])
def test_stratus_policy_check_exit_status(tmp_path, capsys, argv, status, word):
    assert policy_cmd.main(["--state-dir", str(tmp_path), *argv]) == status
    out = capsys.readouterr()
    assert word in out.out + out.err


def test_stratus_policy_list_shows_defaults_overrides_and_operations(tmp_path, capsys):
    write(tmp_path / "policy.yaml", 'identity:list_roles: "role:reader"\n')
    assert policy_cmd.main(["--state-dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out
    assert "identity:list_roles\n  check: role:reader   [overridden]\n  default: role:admin" in out
    assert "operation: GET /v3/roles/{role_id}" in out
    write(tmp_path / "policy.yaml", 'identity:list_roles: "bogus"\n')
    assert policy_cmd.main(["--state-dir", str(tmp_path), "list"]) == 3


def test_old_defaults_still_accepted_only_when_new_defaults_are_not_enforced(tmp_path):
    # placement:reshaper:reshape is for services; before the service persona it was
    # role:admin, which enforce_new_defaults = false keeps accepting (as OpenStack does).
    admin_only = RequestContext(user_id="a1", project_id="p1", roles=["admin"])
    service = RequestContext(user_id="nova", project_id="service", roles=["service"])
    strict = Policy(make_conf(tmp_path))
    assert not strict.allows(admin_only, "placement:reshaper:reshape")
    assert strict.allows(service, "placement:reshaper:reshape")
    lenient = Policy(make_conf(tmp_path, **{"oslo_policy.enforce_new_defaults": False}))
    assert lenient.allows(admin_only, "placement:reshaper:reshape")
    assert lenient.allows(service, "placement:reshaper:reshape")
    assert not lenient.allows(READER, "placement:reshaper:reshape")


def _lenient_state_dir(tmp_path, monkeypatch, policy_yaml: str | None = None):
    (tmp_path / "stratus.conf").write_text("[oslo_policy]\nenforce_new_defaults = false\n")
    if policy_yaml is not None:
        write(tmp_path / "policy.yaml", policy_yaml)
    monkeypatch.setenv("STRATUS_STATE_DIR", str(tmp_path))


def test_oslo_tools_do_not_warn_per_rule_about_our_changed_defaults(tmp_path, monkeypatch):
    _lenient_state_dir(tmp_path, monkeypatch)
    enforcer = get_enforcer()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enforcer.load_rules(force_reload=True)
    assert [str(w.message) for w in caught] == []
    # ... and the deprecated default is still honoured, as the warning would have said.
    admin_only = {"roles": ["admin"], "project_id": "p1", "user_id": "a1"}
    assert enforcer.authorize("placement:reshaper:reshape", {}, admin_only)


def test_oslo_still_warns_when_the_file_overrides_a_deprecated_rule_name(tmp_path,
                                                                         monkeypatch):
    # Operator-relevant: overriding placement:admin_api changes the rules that replaced it.
    _lenient_state_dir(tmp_path, monkeypatch, 'placement:admin_api: "role:ops"\n')
    enforcer = get_enforcer()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enforcer.load_rules(force_reload=True)
    assert any('"placement:admin_api"' in str(w.message) for w in caught)


def test_services_say_once_that_deprecated_defaults_are_in_force(tmp_path, caplog):
    lenient = make_conf(tmp_path, **{"oslo_policy.enforce_new_defaults": False})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with caplog.at_level(logging.WARNING, logger="stratus.common.policy"):
            for _ in range(3):  # e.g. the all-in-one's services, one policy each
                Policy(lenient)
            Policy(make_conf(tmp_path))
    assert [str(w.message) for w in caught if "deprecated" in str(w.message)] == []
    lines = [r.getMessage() for r in caplog.records if "enforce_new_defaults" in
             r.getMessage()]
    assert len(lines) == 1 and "placement:" in lines[0]
