"""The identity API over real HTTP: tokens, accounts, roles, policy and error shapes."""

from __future__ import annotations

import datetime as dt
import uuid

import requests
import sqlalchemy as sa
from harness import auth_body

from stratus.identity import schema
from stratus.identity.tokens import KeyRepository, TokenFormatter


def _h(token: str, **extra) -> dict:
    return {"X-Auth-Token": token, **extra}


def _count(cloud, table: sa.Table) -> int:
    with cloud.aio.databases.engine("identity").connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _keystone_error(resp: requests.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()["error"]
    assert body["code"] == status and body["title"] and body["message"]
    return body


def test_version_discovery_lists_v3_with_multiple_choices(cloud):
    resp = requests.get(cloud.identity)
    assert resp.status_code == 300
    (v3,) = resp.json()["versions"]["values"]
    assert v3["id"].startswith("v3.") and v3["status"] == "stable"
    assert v3["links"][0]["href"] == f"{cloud.identity}/v3/"
    assert requests.get(f"{cloud.identity}/v3").json()["version"]["id"] == v3["id"]


def test_password_token_carries_user_project_roles_and_catalog(cloud):
    resp = requests.post(f"{cloud.identity}/v3/auth/tokens",
                         json=auth_body(cloud.admin.username, cloud.admin.password, "admin"))
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert resp.headers["X-Subject-Token"]
    assert token["user"]["name"] == "admin" and token["project"]["name"] == "admin"
    assert {r["name"] for r in token["roles"]} == {"admin", "member", "reader"}
    identity = next(s for s in token["catalog"] if s["type"] == "identity")
    assert {e["interface"] for e in identity["endpoints"]} == {"public", "internal", "admin"}
    assert all(e["region_id"] == "RegionOne" and e["url"] == cloud.identity
               for e in identity["endpoints"])
    assert resp.headers["x-openstack-request-id"].startswith("req-")


def test_member_role_implies_reader_in_token(cloud):
    token = requests.post(f"{cloud.identity}/v3/auth/tokens", json=auth_body(
        cloud.demo.username, cloud.demo.password, "demo")).json()["token"]
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}


def test_unscoped_token_has_no_project_or_catalog(cloud):
    body = auth_body(cloud.admin.username, cloud.admin.password, None)
    body["auth"]["scope"] = "unscoped"
    token = requests.post(f"{cloud.identity}/v3/auth/tokens", json=body).json()["token"]
    assert "project" not in token and "catalog" not in token


def test_wrong_password_is_401_in_keystone_shape(cloud):
    resp = requests.post(f"{cloud.identity}/v3/auth/tokens",
                         json=auth_body(cloud.admin.username, "wrong", "admin"))
    _keystone_error(resp, 401)
    assert "X-Subject-Token" not in resp.headers


def test_unknown_user_and_wrong_password_answer_alike(cloud):
    unknown = requests.post(f"{cloud.identity}/v3/auth/tokens",
                            json=auth_body("nobody-" + uuid.uuid4().hex, "x", None))
    wrong = requests.post(f"{cloud.identity}/v3/auth/tokens",
                          json=auth_body(cloud.admin.username, "x", None))
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_scope_to_project_without_role_is_401(cloud):
    resp = requests.post(f"{cloud.identity}/v3/auth/tokens",
                         json=auth_body(cloud.demo.username, cloud.demo.password, "admin"))
    _keystone_error(resp, 401)


def test_validate_check_and_revoke_token(cloud):
    admin = cloud.admin_token()
    subject = cloud.demo_token()
    shown = requests.get(f"{cloud.identity}/v3/auth/tokens",
                         headers=_h(admin, **{"X-Subject-Token": subject}))
    assert shown.status_code == 200 and shown.json()["token"]["user"]["name"] == "demo"
    assert requests.head(f"{cloud.identity}/v3/auth/tokens",
                         headers=_h(admin, **{"X-Subject-Token": subject})).status_code == 200
    assert requests.delete(f"{cloud.identity}/v3/auth/tokens",
                           headers=_h(subject, **{"X-Subject-Token": subject})).status_code == 204
    _keystone_error(requests.get(f"{cloud.identity}/v3/auth/projects", headers=_h(subject)), 401)
    assert requests.get(f"{cloud.identity}/v3/auth/tokens",
                        headers=_h(admin, **{"X-Subject-Token": subject})).status_code == 404


def test_a_user_cannot_validate_someone_elses_token(cloud):
    demo, admin = cloud.demo_token(), cloud.admin_token()
    resp = requests.get(f"{cloud.identity}/v3/auth/tokens",
                        headers=_h(demo, **{"X-Subject-Token": admin}))
    _keystone_error(resp, 403)


def test_garbled_expired_and_missing_tokens_are_401_and_write_nothing(cloud):
    keys = KeyRepository(cloud.conf.identity.key_repository)
    admin_id = requests.get(f"{cloud.identity}/v3/auth/tokens", headers=_h(
        cloud.admin_token(), **{"X-Subject-Token": cloud.admin_token()})).json()[
        "token"]["user"]["id"]
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    expired, _ = TokenFormatter(keys, 3600).issue(admin_id, None, ["password"], past)
    before = _count(cloud, schema.project)
    for headers in ({}, _h("garbage"), _h(cloud.admin_token()[:-4] + "AAAA"), _h(expired)):
        resp = requests.post(f"{cloud.identity}/v3/projects", headers=headers,
                             json={"project": {"name": "never-" + uuid.uuid4().hex[:8]}})
        _keystone_error(resp, 401)
    assert _count(cloud, schema.project) == before


def test_admin_manages_projects_users_and_grants(cloud):
    admin = _h(cloud.admin_token())
    name = "p-" + uuid.uuid4().hex[:8]
    project = requests.post(f"{cloud.identity}/v3/projects", headers=admin,
                            json={"project": {"name": name}})
    assert project.status_code == 201
    pid = project.json()["project"]["id"]
    assert project.json()["project"]["domain_id"] == "default"
    user = requests.post(f"{cloud.identity}/v3/users", headers=admin,
                         json={"user": {"name": "u-" + name, "password": "pw-" + name}})
    assert user.status_code == 201 and "password" not in user.json()["user"]
    uid = user.json()["user"]["id"]
    roles = requests.get(f"{cloud.identity}/v3/roles?name=member", headers=admin).json()["roles"]
    rid = roles[0]["id"]
    grant = f"{cloud.identity}/v3/projects/{pid}/users/{uid}/roles/{rid}"
    assert requests.put(grant, headers=admin).status_code == 204
    assert requests.head(grant, headers=admin).status_code == 204
    token = cloud.login("u-" + name, "pw-" + name, name)
    assignments = requests.get(f"{cloud.identity}/v3/role_assignments?user.id={uid}",
                               headers=admin).json()["role_assignments"]
    assert [(a["role"]["id"], a["scope"]["project"]["id"]) for a in assignments] == [(rid, pid)]
    # Removing the only role makes the user's project token worthless at once.
    assert requests.delete(grant, headers=admin).status_code == 204
    _keystone_error(requests.get(f"{cloud.identity}/v3/auth/projects", headers=_h(token)), 401)


def test_duplicate_project_name_is_409(cloud):
    admin = _h(cloud.admin_token())
    body = {"project": {"name": "dup-" + uuid.uuid4().hex[:8]}}
    assert requests.post(f"{cloud.identity}/v3/projects", headers=admin, json=body)\
        .status_code == 201
    _keystone_error(requests.post(f"{cloud.identity}/v3/projects", headers=admin, json=body), 409)


def test_member_cannot_administer_identity_and_nothing_is_written(cloud):
    demo = _h(cloud.demo_token())
    projects, users, grants = (_count(cloud, t) for t in
                               (schema.project, schema.user, schema.role_assignment))
    _keystone_error(requests.post(f"{cloud.identity}/v3/projects", headers=demo,
                                  json={"project": {"name": "nope"}}), 403)
    _keystone_error(requests.post(f"{cloud.identity}/v3/users", headers=demo,
                                  json={"user": {"name": "nope", "password": "x"}}), 403)
    admin_project = requests.get(f"{cloud.identity}/v3/auth/projects", headers=_h(
        cloud.admin_token())).json()["projects"][0]["id"]
    demo_token = requests.get(f"{cloud.identity}/v3/auth/tokens", headers=_h(
        cloud.admin_token(), **{"X-Subject-Token": demo["X-Auth-Token"]})).json()["token"]
    role_id = next(r["id"] for r in demo_token["roles"] if r["name"] == "member")
    grant = (f"{cloud.identity}/v3/projects/{admin_project}/users/"
             f"{demo_token['user']['id']}/roles/{role_id}")
    _keystone_error(requests.put(grant, headers=demo), 403)
    assert (projects, users, grants) == tuple(
        _count(cloud, t) for t in (schema.project, schema.user, schema.role_assignment))


def test_member_sees_own_project_and_user_only(cloud):
    demo = _h(cloud.demo_token())
    mine = requests.get(f"{cloud.identity}/v3/auth/projects", headers=demo).json()["projects"]
    assert [p["name"] for p in mine] == ["demo"]
    assert requests.get(f"{cloud.identity}/v3/projects/{mine[0]['id']}", headers=demo)\
        .status_code == 200
    _keystone_error(requests.get(f"{cloud.identity}/v3/users", headers=demo), 403)


def test_password_change_invalidates_earlier_tokens(cloud):
    admin = _h(cloud.admin_token())
    name = "pw-" + uuid.uuid4().hex[:8]
    uid = requests.post(f"{cloud.identity}/v3/users", headers=admin,
                        json={"user": {"name": name, "password": "old"}}).json()["user"]["id"]
    old_token = cloud.login(name, "old")
    resp = requests.post(f"{cloud.identity}/v3/users/{uid}/password", headers=_h(old_token),
                         json={"user": {"original_password": "old", "password": "new"}})
    assert resp.status_code == 204
    _keystone_error(requests.get(f"{cloud.identity}/v3/auth/projects",
                                 headers=_h(old_token)), 401)
    assert cloud.login(name, "new")


def test_disabled_user_cannot_log_in_and_loses_tokens(cloud):
    admin = _h(cloud.admin_token())
    name = "dis-" + uuid.uuid4().hex[:8]
    uid = requests.post(f"{cloud.identity}/v3/users", headers=admin,
                        json={"user": {"name": name, "password": "pw"}}).json()["user"]["id"]
    token = cloud.login(name, "pw")
    assert requests.patch(f"{cloud.identity}/v3/users/{uid}", headers=admin,
                          json={"user": {"enabled": False}}).status_code == 200
    _keystone_error(requests.get(f"{cloud.identity}/v3/auth/projects", headers=_h(token)), 401)
    _keystone_error(requests.post(f"{cloud.identity}/v3/auth/tokens",
                                  json=auth_body(name, "pw", None)), 401)


def test_malformed_bodies_are_400_or_415_in_keystone_shape(cloud):
    admin = _h(cloud.admin_token())
    url = f"{cloud.identity}/v3/projects"
    _keystone_error(requests.post(url, headers={**admin, "Content-Type": "application/json"},
                                  data=b"{not json"), 400)
    _keystone_error(requests.post(url, headers={**admin, "Content-Type": "text/plain"},
                                  data=b'{"project": {"name": "x"}}'), 415)
    _keystone_error(requests.post(url, headers=admin, json={"project": {"name": 7}}), 400)
    _keystone_error(requests.post(url, headers=admin, json={"project": {}}), 400)
    _keystone_error(requests.post(f"{cloud.identity}/v3/auth/tokens",
                                  json={"auth": {"identity": {"methods": ["password"]}}}), 400)


def test_unknown_path_and_method_are_404_and_405(cloud):
    admin = _h(cloud.admin_token())
    _keystone_error(requests.get(f"{cloud.identity}/v3/nothing-here", headers=admin), 404)
    _keystone_error(requests.put(f"{cloud.identity}/v3/users", headers=admin, json={}), 405)
    _keystone_error(requests.get(f"{cloud.identity}/v3/users/{uuid.uuid4().hex}",
                                 headers=admin), 404)


def test_healthcheck_needs_no_token(cloud):
    resp = requests.get(f"{cloud.identity}/healthcheck")
    assert resp.status_code == 200 and resp.text == "OK"
