"""Key pairs: generate and import, per user, microversions 2.1/2.2/2.10/2.35, quota."""

import sqlalchemy as sa
from compute_helpers import (
    admin,
    demo,
    demo_project_id,
    demo_user_id,
    fault,
    scoped_token_body,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from stratus.cells.schema_api import key_pairs


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def _count(cloud) -> int:
    with cloud.aio.compute.api_engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(key_pairs)).scalar_one()


def test_generate_returns_a_private_key_that_matches(cloud):
    compute = demo(cloud)
    resp = compute.post("/os-keypairs", {"keypair": {"name": "gen"}})
    assert resp.status_code == 201
    body = resp.json()["keypair"]
    private = serialization.load_pem_private_key(body["private_key"].encode(), None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    assert body["public_key"].startswith(public)
    assert body["type"] == "ssh" and body["user_id"] == demo_user_id(cloud)
    assert len(body["fingerprint"].split(":")) == 16
    shown = compute.get("/os-keypairs/gen").json()["keypair"]
    assert shown["fingerprint"] == body["fingerprint"] and "private_key" not in shown
    assert compute.delete("/os-keypairs/gen").status_code == 204
    fault(compute.get("/os-keypairs/gen"), 404)


def test_import_and_list_per_user(cloud):
    member, root = demo(cloud), admin(cloud)
    key = _public_key()
    resp = member.post("/os-keypairs", {"keypair": {"name": "imported", "public_key": key}})
    assert resp.status_code == 201 and "private_key" not in resp.json()["keypair"]
    listed = member.get("/os-keypairs").json()["keypairs"]
    assert {"keypair": {"name": "imported", "public_key": key, "type": "ssh",
                        "fingerprint": resp.json()["keypair"]["fingerprint"]}} in listed
    # Another user's key pairs are not the caller's: the admin sees its own list only.
    assert "imported" not in {k["keypair"]["name"]
                              for k in root.get("/os-keypairs").json()["keypairs"]}
    # From 2.10 an admin may name the user.
    user_id = demo_user_id(cloud)
    others = root.get(f"/os-keypairs?user_id={user_id}").json()["keypairs"]
    assert "imported" in {k["keypair"]["name"] for k in others}
    fault(member.get(f"/os-keypairs?user_id={root_user(cloud)}"), 403)
    assert "already exists" in fault(member.post("/os-keypairs", {"keypair": {
        "name": "imported", "public_key": key}}), 409)


def root_user(cloud) -> str:
    return scoped_token_body(cloud, cloud.admin)["user"]["id"]


def test_microversion_differences(cloud):
    compute = demo(cloud)
    old = compute.at("2.1").post("/os-keypairs", {"keypair": {"name": "old"}})
    assert old.status_code == 200 and "type" not in old.json()["keypair"]
    assert compute.at("2.1").delete("/os-keypairs/old").status_code == 202
    fault(compute.at("2.1").post("/os-keypairs", {"keypair": {"name": "t", "type": "ssh"}}),
          400)
    fault(compute.at("2.9").post("/os-keypairs", {"keypair": {"name": "u", "user_id": "x"}}),
          400)


def test_x509_generated_and_imported(cloud):
    compute = demo(cloud)
    resp = compute.post("/os-keypairs", {"keypair": {"name": "cert", "type": "x509"}})
    assert resp.status_code == 201
    body = resp.json()["keypair"]
    assert body["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert len(body["fingerprint"].split(":")) == 20
    again = compute.post("/os-keypairs", {"keypair": {"name": "cert2", "type": "x509",
                                                      "public_key": body["public_key"]}})
    assert again.json()["keypair"]["fingerprint"] == body["fingerprint"]


def test_paging_from_2_35(cloud):
    compute = admin(cloud)
    for name in ("page-a", "page-b", "page-c"):
        compute.post("/os-keypairs", {"keypair": {"name": name, "public_key": _public_key()}})
    first = compute.get("/os-keypairs?limit=2").json()
    assert [k["keypair"]["name"] for k in first["keypairs"]] == ["page-a", "page-b"]
    assert "marker=page-b" in first["keypairs_links"][0]["href"]
    rest = compute.get("/os-keypairs?limit=2&marker=page-b").json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == ["page-c"]
    fault(compute.get("/os-keypairs?marker=none-such"), 400)
    # Before 2.35 paging parameters are ignored.
    assert len(compute.at("2.34").get("/os-keypairs?limit=1").json()["keypairs"]) >= 3


def test_bad_input_is_400_and_writes_nothing(cloud):
    compute = demo(cloud)
    before = _count(cloud)
    for bad in ({"name": "bad", "public_key": "ssh-rsa not-base64"},
                {"name": "bad/name"}, {"name": ""}, {"name": "x", "type": "pgp"},
                {"name": "x", "extra": 1}, {"name": 5}, {}):
        fault(compute.post("/os-keypairs", {"keypair": bad}), 400)
    assert _count(cloud) == before


def test_key_pair_quota_is_enforced(cloud):
    root = admin(cloud)
    project = root.get("/limits").json()  # the admin project's limits
    assert project["limits"]["absolute"]["maxTotalKeypairs"] == 100
    member = demo(cloud)
    project_id, user_id = demo_project_id(cloud), demo_user_id(cloud)
    used = len(member.get("/os-keypairs").json()["keypairs"])
    assert root.put(f"/os-quota-sets/{project_id}?user_id={user_id}",
                    {"quota_set": {"key_pairs": used + 1}}).status_code == 200
    try:
        assert member.post("/os-keypairs", {"keypair": {"name": "q1",
                                                        "public_key": _public_key()}}
                           ).status_code == 201
        before = _count(cloud)
        assert "too many key pairs" in fault(member.post("/os-keypairs", {"keypair": {
            "name": "q2", "public_key": _public_key()}}), 403)
        assert _count(cloud) == before
    finally:
        root.delete(f"/os-quota-sets/{project_id}?user_id={user_id}")
