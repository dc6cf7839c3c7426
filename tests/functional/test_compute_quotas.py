"""Quota sets and limits: defaults, overrides, usage counted from real rows."""

import sqlalchemy as sa
from compute_helpers import (
    admin,
    admin_project_id,
    create_server,
    demo,
    demo_project_id,
    ensure_flavor,
    fault,
)

from stratus.cells.schema_api import quotas


def _quota_rows(cloud) -> int:
    with cloud.aio.compute.api_engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(quotas)).scalar_one()


def test_defaults_and_show_per_microversion(cloud):
    member = demo(cloud)
    project = demo_project_id(cloud)
    quota = member.get(f"/os-quota-sets/{project}").json()["quota_set"]
    assert quota["id"] == project and quota["instances"] == 10 and quota["cores"] == 20
    assert quota["ram"] == 51200 and quota["key_pairs"] == 100
    assert "floating_ips" not in quota  # network quotas left at 2.36
    old = member.at("2.35").get(f"/os-quota-sets/{project}").json()["quota_set"]
    assert old["floating_ips"] == 10 and old["security_groups"] == 10
    defaults = member.get(f"/os-quota-sets/{project}/defaults").json()["quota_set"]
    assert defaults["instances"] == 10
    fault(member.get(f"/os-quota-sets/{admin_project_id(cloud)}"), 403)


def test_update_delete_and_detail_usage(cloud):
    root = admin(cloud)
    ensure_flavor(root, "q-flavor", ram=256, vcpus=2)
    project = admin_project_id(cloud)
    resp = root.put(f"/os-quota-sets/{project}", {"quota_set": {"instances": 50, "cores": "60"}})
    assert resp.status_code == 200
    assert resp.json()["quota_set"]["instances"] == 50 and resp.json()["quota_set"]["cores"] == 60
    before = root.get(f"/os-quota-sets/{project}/detail").json()["quota_set"]
    server = create_server(root, "counted", flavor="q-flavor")
    after = root.get(f"/os-quota-sets/{project}/detail").json()["quota_set"]
    assert after["instances"] == {"limit": 50, "in_use": before["instances"]["in_use"] + 1,
                                  "reserved": 0}
    assert after["cores"]["in_use"] == before["cores"]["in_use"] + 2
    assert after["ram"]["in_use"] == before["ram"]["in_use"] + 256
    limits = root.get("/limits").json()["limits"]["absolute"]
    assert limits["maxTotalInstances"] == 50
    assert limits["totalInstancesUsed"] == after["instances"]["in_use"]
    # Below usage is refused unless forced.
    message = fault(root.put(f"/os-quota-sets/{project}", {"quota_set": {"instances": 0}}), 400)
    assert "must be greater than or equal to already used" in message
    forced = root.put(f"/os-quota-sets/{project}", {"quota_set": {"instances": 0,
                                                                  "force": True}})
    assert forced.json()["quota_set"]["instances"] == 0
    assert root.delete(f"/os-quota-sets/{project}").status_code == 202
    assert root.get(f"/os-quota-sets/{project}").json()["quota_set"]["instances"] == 10
    root.delete(f"/servers/{server}")


def test_bad_updates_are_400_or_403_and_write_nothing(cloud):
    root, member = admin(cloud), demo(cloud)
    project = demo_project_id(cloud)
    before = _quota_rows(cloud)
    for bad in ({"instances": -2}, {"instances": "many"}, {"bogus": 1},
                {"floating_ips": 5}):
        fault(root.put(f"/os-quota-sets/{project}", {"quota_set": bad}), 400)
    fault(root.put(f"/os-quota-sets/{project}", {"quota": {"instances": 1}}), 400)
    fault(member.put(f"/os-quota-sets/{project}", {"quota_set": {"instances": 99}}), 403)
    fault(member.delete(f"/os-quota-sets/{project}"), 403)
    assert _quota_rows(cloud) == before
    # Before 2.36 network quotas are accepted (and not enforced).
    assert root.at("2.35").put(f"/os-quota-sets/{project}",
                               {"quota_set": {"floating_ips": 5}}).status_code == 200


def test_limits_of_another_project_need_admin(cloud):
    project = demo_project_id(cloud)
    assert admin(cloud).get(f"/limits?tenant_id={project}").status_code == 200
    fault(demo(cloud).get(f"/limits?tenant_id={admin_project_id(cloud)}"), 403)
    absolute = demo(cloud).at("2.35").get("/limits").json()["limits"]["absolute"]
    assert absolute["maxSecurityGroups"] == 10
