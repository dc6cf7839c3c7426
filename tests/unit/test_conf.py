"""Every command finds its configuration the same way."""

import argparse
import os

from stratus import conf as stratus_conf


def _args(**kw) -> argparse.Namespace:
    base = dict(config_file=[], config_dir=None, state_dir=None, debug=None)
    return argparse.Namespace(**{**base, **kw})


def test_no_file_at_all_uses_defaults_under_the_state_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("STRATUS_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    conf = stratus_conf.load(_args())
    assert conf.state_dir == str(tmp_path / "stratus-data")
    assert conf.identity_database.connection == \
        f"sqlite:///{tmp_path}/stratus-data/identity.sqlite"
    assert conf.api.port == 8080 and conf.transport_url == "fake://"


def test_state_dir_flag_beats_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATUS_STATE_DIR", str(tmp_path / "env"))
    assert stratus_conf.load(_args()).state_dir == str(tmp_path / "env")
    assert stratus_conf.load(_args(state_dir=str(tmp_path / "flag"))).state_dir == \
        str(tmp_path / "flag")


def test_state_dir_config_file_is_found_without_being_named(tmp_path, monkeypatch):
    monkeypatch.delenv("STRATUS_STATE_DIR", raising=False)
    (tmp_path / "stratus.conf").write_text("[api]\nport = 9191\n"
                                           "[cell1_database]\nconnection = sqlite:///x.db\n")
    conf = stratus_conf.load(_args(state_dir=str(tmp_path)))
    assert conf.api.port == 9191 and conf.cell1_database.connection == "sqlite:///x.db"


def test_named_config_file_replaces_discovery(tmp_path):
    (tmp_path / "stratus.conf").write_text("[api]\nport = 9191\n")
    other = tmp_path / "other.conf"
    other.write_text("[api]\nport = 9292\n")
    conf = stratus_conf.load(_args(state_dir=str(tmp_path), config_file=[str(other)]))
    assert conf.api.port == 9292


def test_state_dir_set_in_a_file_moves_every_default(tmp_path, monkeypatch):
    monkeypatch.delenv("STRATUS_STATE_DIR", raising=False)
    cfg = tmp_path / "a.conf"
    cfg.write_text(f"[DEFAULT]\nstate_dir = {tmp_path / 'elsewhere'}\n")
    conf = stratus_conf.load(_args(config_file=[str(cfg)]))
    assert conf.identity.key_repository == os.path.join(tmp_path, "elsewhere", "fernet-keys")
