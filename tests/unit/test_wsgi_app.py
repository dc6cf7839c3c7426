"""The shared HTTP layer: request ids, microversions, body handling and error shapes."""

import falcon
import falcon.testing
import pytest

from stratus.common.auth import noauth2_authenticator
from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Route, build_app, send
from stratus.common.wsgi.body import Schema, json_body
from stratus.common.wsgi.dispatch import PrefixDispatcher
from stratus.common.wsgi.microversion import Version, VersionRange

THING = Schema({"type": "object", "required": ["thing"],
                "properties": {"thing": {"type": "object", "required": ["name"],
                                         "properties": {"name": {"type": "string"}}}}})


def create(req, resp):
    body = json_body(req, THING)
    send(resp, {"thing": body["thing"], "version": str(req.version),
                "user": req.auth.user_id}, status=201)


def show(req, resp, thing_id):
    if thing_id == "boom":
        raise RuntimeError("kaboom")
    raise errors.NotFound(f"Thing {thing_id} could not be found.")


def versions(req, resp):
    send(resp, {"versions": []})


ROUTES = [Route("/", {"GET": versions}, public=True),
          Route("/things", {"POST": create}), Route("/things/{thing_id}", {"GET": show})]
VERSIONS = VersionRange("compute", Version(2, 1), Version(2, 38),
                        legacy_header="x-openstack-nova-api-version")


@pytest.fixture
def client():
    app = build_app(routes=ROUTES, error_format=errors.NOVA,
                    authenticator=noauth2_authenticator(), versions=VERSIONS,
                    request_id_headers=("x-openstack-request-id", "x-compute-request-id"))
    return falcon.testing.TestClient(PrefixDispatcher({"/compute": app}))


AUTH = {"X-Auth-Token": "alice:p1"}


def test_request_id_headers_are_set_and_equal(client):
    resp = client.simulate_get("/compute/")
    rid = resp.headers["x-openstack-request-id"]
    assert rid.startswith("req-") and resp.headers["x-compute-request-id"] == rid


def test_version_is_negotiated_and_echoed(client):
    resp = client.simulate_post("/compute/things", json={"thing": {"name": "a"}},
                                headers={**AUTH, "OpenStack-API-Version": "compute 2.37"})
    assert resp.status_code == 201
    assert resp.json == {"thing": {"name": "a"}, "version": "2.37", "user": "alice"}
    assert resp.headers["openstack-api-version"] == "compute 2.37"
    assert resp.headers["x-openstack-nova-api-version"] == "2.37"
    assert "OpenStack-API-Version" in resp.headers["vary"]


def test_unsupported_version_is_406_in_nova_shape(client):
    resp = client.simulate_post("/compute/things", json={"thing": {"name": "a"}},
                                headers={**AUTH, "OpenStack-API-Version": "compute 2.99"})
    assert resp.status_code == 406
    assert resp.json["computeFault"]["code"] == 406


def test_missing_token_is_401_before_anything_else(client):
    resp = client.simulate_post("/compute/things", json={"thing": {"name": "a"}})
    assert resp.status_code == 401 and resp.json["unauthorized"]["code"] == 401
    assert "www-authenticate" in resp.headers


@pytest.mark.parametrize("body,content_type,status,fault", [
    (b"{bad", "application/json", 400, "badRequest"),
    (b"", "application/json", 400, "badRequest"),
    (b'{"thing": {"name": "a"}}', "text/plain", 415, "badMediaType"),
    (b'{"thing": {"name": 5}}', "application/json", 400, "badRequest"),
    (b'{"other": 1}', "application/json", 400, "badRequest"),
    (b"[" * 10 + b"]" * 10 + b" " * (1024 * 1024), "application/json", 413, "overLimit"),
])
def test_bad_bodies_get_clear_4xx(client, body, content_type, status, fault):
    resp = client.simulate_post("/compute/things", body=body,
                                headers={**AUTH, "Content-Type": content_type})
    assert resp.status_code == status
    assert resp.json[fault]["code"] == status and resp.json[fault]["message"]


def test_schema_error_names_the_field(client):
    resp = client.simulate_post("/compute/things", json={"thing": {"name": 5}}, headers=AUTH)
    assert "thing/name" in resp.json["badRequest"]["message"]


def test_handler_errors_and_unknown_routes_render_in_the_api_shape(client):
    missing = client.simulate_get("/compute/things/x", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json == {"itemNotFound": {"code": 404,
                                             "message": "Thing x could not be found."}}
    assert client.simulate_get("/compute/nowhere", headers=AUTH).json["itemNotFound"]
    method = client.simulate_delete("/compute/things", headers=AUTH)
    assert method.status_code == 405 and method.json["badMethod"]["code"] == 405


def test_unexpected_exception_is_500_without_internals(client, caplog):
    resp = client.simulate_get("/compute/things/boom", headers=AUTH)
    assert resp.status_code == 500
    assert "kaboom" not in resp.text and resp.json["computeFault"]["code"] == 500
    assert "kaboom" in caplog.text


def test_placement_errors_carry_request_id_and_code():
    app = build_app(routes=ROUTES, error_format=errors.PLACEMENT,
                    authenticator=noauth2_authenticator(),
                    versions=VersionRange("placement", Version(1, 0), Version(1, 39)))
    resp = falcon.testing.TestClient(app).simulate_post(
        "/things", json={}, headers={"X-Auth-Token": "admin",
                                     "OpenStack-API-Version": "placement 2.0"})
    assert resp.status_code == 406
    (error,) = resp.json["errors"]
    assert error["max_version"] == "1.39" and error["min_version"] == "1.0"
    assert error["request_id"] == resp.headers["x-openstack-request-id"]
    assert error["code"] == "placement.undefined_code"


def test_healthcheck_is_served_by_every_app(client):
    resp = client.simulate_get("/compute/healthcheck")
    assert resp.status_code == 200 and resp.text == "OK"


def test_dispatcher_sets_script_name_for_links(client):
    resp = client.simulate_get("/nothing")
    assert resp.status_code == 404
    assert {s["path"] for s in client.simulate_get("/").json["services"]} == {"/compute"}
