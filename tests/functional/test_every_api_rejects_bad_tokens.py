"""Every protected route of every API in the all-in-one refuses a bad token with 401."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from stratus.allinone import AllInOne


def protected_requests():
    for prefix, routes in AllInOne.ROUTE_TABLES.items():
        for route in routes:
            path = re.sub(r"\{[a-z_]+\}", lambda _: uuid.uuid4().hex, route.path)
            for method in route.methods:
                if not route.is_public(method):
                    yield pytest.param(method, prefix + path, id=f"{method} {prefix}{route.path}")


@pytest.mark.parametrize("method,path", list(protected_requests()))
@pytest.mark.parametrize("token", ["missing", "garbled", "revoked"])
def test_bad_token_is_401(cloud, revoked_token, method, path, token):
    headers = {"missing": {}, "garbled": {"X-Auth-Token": "gAAAA" + "x" * 100},
               "revoked": {"X-Auth-Token": revoked_token}}[token]
    resp = requests.request(method, cloud.url + path, headers=headers, json={})
    assert resp.status_code == 401, resp.text


@pytest.fixture(scope="module")
def revoked_token(cloud):
    token = cloud.admin_token()
    assert requests.delete(f"{cloud.identity}/v3/auth/tokens", headers={
        "X-Auth-Token": token, "X-Subject-Token": token}).status_code == 204
    return token
