"""The one auth middleware, configured three ways, in front of an API of its own."""

from __future__ import annotations

import falcon.testing
import pytest
import requests

from stratus import conf as stratus_conf
from stratus.common import auth
from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Route, build_app, send


def whoami(req, resp):
    send(resp, {"user": req.auth.user_name, "project": req.auth.project_name,
                "roles": sorted(req.auth.roles)})


ROUTES = [Route("/whoami", {"GET": whoami})]


def _client(conf) -> falcon.testing.TestClient:
    app = build_app(routes=ROUTES, error_format=errors.NOVA,
                    authenticator=auth.authenticator_for(conf, local_validator=None))
    wrapped = auth.wrap_keystonemiddleware(app, conf)

    def wsgi(environ, start_response):  # a plain callable, which Falcon's client can inspect
        return wrapped(environ, start_response)

    return falcon.testing.TestClient(wsgi)


def _revoke(cloud, token: str) -> None:
    assert requests.delete(f"{cloud.identity}/v3/auth/tokens", headers={
        "X-Auth-Token": token, "X-Subject-Token": token}).status_code == 204


def test_remote_validation_over_http_accepts_valid_and_rejects_revoked(cloud, tmp_path):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path),
                                    "api.identity_url": cloud.identity})
    client = _client(conf)
    token = cloud.demo_token()
    resp = client.simulate_get("/whoami", headers={"X-Auth-Token": token})
    assert resp.status_code == 200
    assert resp.json == {"user": "demo", "project": "demo", "roles": ["member", "reader"]}
    assert client.simulate_get("/whoami", headers={"X-Auth-Token": "junk"}).status_code == 401
    _revoke(cloud, token)
    assert client.simulate_get("/whoami", headers={"X-Auth-Token": token}).status_code == 401


def test_without_identity_in_process_an_identity_url_is_required(tmp_path):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path)})
    with pytest.raises(RuntimeError, match="identity_url"):
        auth.authenticator_for(conf, local_validator=None)


def test_keystonemiddleware_strategy_validates_against_a_keystone(cloud, tmp_path):
    conf_file = tmp_path / "stratus.conf"
    conf_file.write_text(f"""
[api]
auth_strategy = keystone

[keystone_authtoken]
www_authenticate_uri = {cloud.identity}
auth_url = {cloud.identity}
auth_type = password
username = {cloud.admin.username}
password = {cloud.admin.password}
project_name = {cloud.admin.project_name}
user_domain_name = Default
project_domain_name = Default
""")

    class Args:
        config_file = [str(conf_file)]
        config_dir = None
        state_dir = str(tmp_path)
        debug = None

    client = _client(stratus_conf.load(Args()))
    token = cloud.demo_token()
    resp = client.simulate_get("/whoami", headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.text
    assert resp.json["user"] == "demo" and "member" in resp.json["roles"]
    assert client.simulate_get("/whoami", headers={"X-Auth-Token": "junk"}).status_code == 401
    assert client.simulate_get("/whoami").status_code == 401
