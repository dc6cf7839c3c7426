"""Placement on its own: the ``stratus placement`` command and the WSGI module."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests
from harness import free_port

BIN = os.path.dirname(sys.executable)


def _write_conf(tmp_path) -> str:
    path = tmp_path / "stratus.conf"
    path.write_text("[placement]\nauth_strategy = noauth2\n"
                    f"[placement_database]\nconnection = sqlite:///{tmp_path}/placement.db\n")
    return str(path)


def test_stratus_placement_serves_placement_at_the_root(tmp_path):
    port = free_port()
    proc = subprocess.Popen([f"{BIN}/stratus", "placement", "--config-file",
                             _write_conf(tmp_path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                root = requests.get(url + "/", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert root.json()["versions"][0]["max_version"] == "1.39"
        created = requests.post(url + "/resource_providers", json={"name": "standalone"},
                                headers={"X-Auth-Token": "admin",
                                         "OpenStack-API-Version": "placement 1.20"})
        assert created.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_wsgi_module_builds_the_app_from_the_environment(tmp_path, monkeypatch):
    import falcon.testing

    from stratus.common.db import Databases, migration
    from stratus.placement import wsgi

    conf_file = _write_conf(tmp_path)
    monkeypatch.setenv("STRATUS_CONFIG_FILE", conf_file)
    monkeypatch.setattr(wsgi, "_application", None)
    engine = Databases(wsgi.stratus_conf.load(wsgi.argparse.Namespace(
        config_file=[conf_file], config_dir=None, state_dir=None, debug=None))
    ).engine("placement")
    migration.sync("placement", engine)
    engine.dispose()
    app = wsgi.application
    client = falcon.testing.TestClient(lambda environ, start: app(environ, start))
    resp = client.simulate_get("/resource_providers", headers={"X-Auth-Token": "admin"})
    assert resp.status_code == 200 and resp.json == {"resource_providers": []}
