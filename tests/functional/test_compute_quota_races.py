"""Concurrent creates never leave a project over quota (Nova's check, write, recheck)."""

from concurrent.futures import ThreadPoolExecutor

from compute_helpers import IMAGE, admin, demo, demo_project_id, demo_user_id, ensure_flavor


def test_concurrent_server_creates_never_exceed_the_instance_quota(cloud):
    root, member = admin(cloud), demo(cloud)
    ensure_flavor(root, "tiny")
    project = demo_project_id(cloud)
    in_use = root.get(f"/os-quota-sets/{project}/detail").json()["quota_set"]["instances"][
        "in_use"]
    root.put(f"/os-quota-sets/{project}", {"quota_set": {"instances": in_use + 3}})
    body = {"server": {"name": "race", "imageRef": IMAGE, "flavorRef": "tiny",
                       "networks": "none"}}
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: member.post("/servers", body).status_code,
                                     range(12)))
        assert set(statuses) <= {202, 403}
        after = root.get(f"/os-quota-sets/{project}/detail").json()["quota_set"]["instances"]
        assert after["in_use"] <= in_use + 3
        assert after["in_use"] == in_use + statuses.count(202)
        assert statuses.count(202) >= 1
    finally:
        root.put(f"/os-quota-sets/{project}", {"quota_set": {"instances": -1}})


def test_concurrent_key_pair_imports_never_exceed_the_quota(cloud):
    root, member = admin(cloud), demo(cloud)
    project, user = demo_project_id(cloud), demo_user_id(cloud)
    used = len(member.get("/os-keypairs").json()["keypairs"])
    root.put(f"/os-quota-sets/{project}?user_id={user}", {"quota_set": {"key_pairs": used + 2}})
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(
                lambda i: member.post("/os-keypairs", {"keypair": {"name": f"race-{i}"}}
                                      ).status_code, range(10)))
        assert set(statuses) <= {201, 403}
        count = len(member.get("/os-keypairs").json()["keypairs"])
        assert count <= used + 2 and count == used + statuses.count(201)
    finally:
        root.delete(f"/os-quota-sets/{project}?user_id={user}")
