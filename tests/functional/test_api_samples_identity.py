"""Identity API samples for doc/api-ref: one conversation, every body checked against its file.

One test, so the conversation (and so every listed collection) is the same on every run.
"""

from __future__ import annotations

import requests
from harness import auth_body
from samples import Samples


def test_identity_api_samples(cloud):
    samples = Samples("identity", cloud.url, volatile_keys=("audit_ids",))
    api = cloud.identity
    admin = {"X-Auth-Token": cloud.admin_token()}

    def call(method: str, path: str, name: str | None = None, body: dict | None = None,
             status: int = 200, headers: dict | None = None) -> requests.Response:
        if body is not None:
            samples.check(f"{name}-req", body)
        resp = requests.request(method, f"{api}{path}", json=body,
                                headers={**admin, **(headers or {})})
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
        if name and resp.content and method != "HEAD":
            samples.check(f"{name}-resp", resp.json())
        return resp

    call("GET", "/", "get", status=300)
    call("GET", "/v3", "get-v3")
    issued = requests.post(f"{api}/v3/auth/tokens", json=auth_body(
        cloud.demo.username, cloud.demo.password, cloud.demo.project_name))
    samples.check("post-v3-auth-tokens-req", auth_body("demo", "s3cret", "demo"))
    assert issued.status_code == 201
    samples.check("post-v3-auth-tokens-resp", issued.json())
    subject = {"X-Subject-Token": issued.headers["X-Subject-Token"]}
    call("GET", "/v3/auth/tokens", "validate-token", headers=subject)
    call("HEAD", "/v3/auth/tokens", headers=subject)
    call("GET", "/v3/auth/catalog", "get-auth-catalog")
    call("GET", "/v3/auth/projects", "get-auth-projects")
    call("GET", "/v3/auth/domains", "get-auth-domains")
    call("DELETE", "/v3/auth/tokens", status=204, headers=subject)

    call("GET", "/v3/domains", "list-domains")
    call("GET", "/v3/domains/default", "get-domain")

    project = call("POST", "/v3/projects", "create-project", status=201, body={"project": {
        "name": "web", "description": "Web servers", "enabled": True}}).json()["project"]
    pid = project["id"]
    call("GET", "/v3/projects?name=web", "list-projects")
    call("GET", f"/v3/projects/{pid}", "get-project")
    call("PATCH", f"/v3/projects/{pid}", "update-project",
         body={"project": {"description": "Web and cache servers"}})

    user = call("POST", "/v3/users", "create-user", status=201, body={"user": {
        "name": "alice", "password": "s3cret-1", "default_project_id": pid,
        "email": "alice@example.com", "description": "Web team lead"}}).json()["user"]
    uid = user["id"]
    call("GET", "/v3/users?name=alice", "list-users")
    call("GET", f"/v3/users/{uid}", "get-user")
    call("PATCH", f"/v3/users/{uid}", "update-user", body={"user": {"enabled": True,
                                                                    "email": "a@example.com"}})
    call("POST", f"/v3/users/{uid}/password", "change-password", status=204, body={"user": {
        "original_password": "s3cret-1", "password": "s3cret-2"}})

    role = call("POST", "/v3/roles", "create-role", status=201, body={"role": {
        "name": "web-operator", "description": "Operates the web tier"}}).json()["role"]
    rid = role["id"]
    call("GET", "/v3/roles?name=web-operator", "list-roles")
    call("GET", f"/v3/roles/{rid}", "get-role")
    call("PATCH", f"/v3/roles/{rid}", "update-role", body={"role": {"description": "Web ops"}})

    grant = f"/v3/projects/{pid}/users/{uid}/roles/{rid}"
    call("PUT", grant, status=204)
    call("HEAD", grant, status=204)
    call("GET", grant, status=204)
    call("GET", f"/v3/projects/{pid}/users/{uid}/roles", "list-grants")
    call("GET", f"/v3/users/{uid}/projects", "list-user-projects")
    call("GET", f"/v3/role_assignments?user.id={uid}&include_names", "list-role-assignments")
    call("DELETE", grant, status=204)

    service = call("POST", "/v3/services", "create-service", status=201, body={"service": {
        "type": "dns", "name": "designate", "description": "DNS"}}).json()["service"]
    call("GET", "/v3/services?type=dns", "list-services")
    call("GET", f"/v3/services/{service['id']}", "get-service")
    endpoint = call("POST", "/v3/endpoints", "create-endpoint", status=201, body={"endpoint": {
        "service_id": service["id"], "interface": "public", "region_id": "RegionOne",
        "url": "http://dns.example.com:9001"}}).json()["endpoint"]
    call("GET", f"/v3/endpoints?service_id={service['id']}", "list-endpoints")
    call("GET", f"/v3/endpoints/{endpoint['id']}", "get-endpoint")
    call("GET", "/v3/regions", "list-regions")
    call("GET", "/v3/regions/RegionOne", "get-region")

    call("DELETE", f"/v3/endpoints/{endpoint['id']}", status=204)
    call("DELETE", f"/v3/services/{service['id']}", status=204)
    call("DELETE", f"/v3/roles/{rid}", status=204)
    call("DELETE", f"/v3/users/{uid}", status=204)
    call("DELETE", f"/v3/projects/{pid}", status=204)
    samples.assert_all_checked()
