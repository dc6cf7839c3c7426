"""Acceptance: the policy defaults, as the `openstack` CLI meets them on a real all-in-one.

The demo user (member of project demo, ``--os-cloud stratus-demo``) is refused admin-only
actions with a clear 403 naming the rule, where the admin succeeds; a reader of the demo
project may look but not create servers.
"""

from __future__ import annotations

import json
import re

import pytest
from harness import free_port
from test_all_in_one_cli import AllInOneProcess, osc

pytestmark = pytest.mark.slow
IMAGE = "stratus-tiny"  # the image every all-in-one starts with
READER = ("--os-username", "cli-reader", "--os-password", "reader-secret-1")


@pytest.fixture(scope="module")
def aio(tmp_path_factory):
    proc = AllInOneProcess(tmp_path_factory.mktemp("aio-policy"), free_port())
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def reader(aio):
    """A user holding only the reader role on project demo (the demo cloud's project)."""
    ok(osc(aio, "stratus", "user", "create", "--password", READER[3], READER[1]))
    ok(osc(aio, "stratus", "role", "add", "--user", READER[1], "--project", "demo", "reader"))
    return READER


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result, rule: str) -> None:
    """The CLI failed with the server's 403, whose message names the rule that refused."""
    assert result.returncode != 0, result.stdout
    assert re.search(r"\b403\b", result.stderr) and rule in result.stderr, result.stderr


def test_member_cannot_create_a_flavor_admin_can(aio):
    refused(osc(aio, "stratus-demo", "flavor", "create", "--ram", "64", "--vcpus", "1",
                "--disk", "1", "demo-flavor"), "os_compute_api:os-flavor-manage:create")
    created = json.loads(ok(osc(aio, "stratus", "flavor", "create", "--ram", "64", "--vcpus",
                                "1", "--disk", "1", "policy.tiny", "-f", "json")))
    assert created["name"] == "policy.tiny"


def test_member_cannot_list_every_projects_servers_admin_can(aio):
    refused(osc(aio, "stratus-demo", "server", "list", "--all-projects"),
            "os_compute_api:servers:detail:get_all_tenants")
    assert json.loads(ok(osc(aio, "stratus-demo", "server", "list", "-f", "json"))) == []
    ok(osc(aio, "stratus", "server", "list", "--all-projects", "-f", "json"))


def test_member_cannot_list_resource_providers_admin_can(aio):
    """osc-placement: placement is for admins and services."""
    refused(osc(aio, "stratus-demo", "resource", "provider", "list"),
            "placement:resource_providers:list")
    json.loads(ok(osc(aio, "stratus", "resource", "provider", "list", "-f", "json")))


def test_reader_may_list_but_not_create_servers_member_may(aio, reader):
    ok(osc(aio, "stratus", "flavor", "create", "--ram", "64", "--vcpus", "1", "--disk", "1",
           "reader.tiny"))
    create = ("server", "create", "--image", IMAGE, "--flavor", "reader.tiny", "--nic",
              "none", "-f", "json")
    refused(osc(aio, "stratus-demo", *reader, *create, "by-reader"),
            "os_compute_api:servers:create")
    made = json.loads(ok(osc(aio, "stratus-demo", *create, "by-member")))
    listed = json.loads(ok(osc(aio, "stratus-demo", *reader, "server", "list", "-f", "json")))
    assert [s["ID"] for s in listed] == [made["id"]]
    refused(osc(aio, "stratus-demo", *reader, "server", "delete", made["id"]),
            "os_compute_api:servers:delete")


def test_reader_manages_only_their_own_key_pairs(aio, reader):
    """Key pairs belong to users, not projects: Nova's default lets any user (a reader
    too) manage their own (``os_compute_api:os-keypairs:create`` is admin or owner), and
    nobody but an admin another user's."""
    ok(osc(aio, "stratus-demo", *reader, "keypair", "create", "reader-key"))
    mine = json.loads(ok(osc(aio, "stratus-demo", *reader, "keypair", "list", "-f", "json")))
    assert [k["Name"] for k in mine] == ["reader-key"]
    theirs = json.loads(ok(osc(aio, "stratus-demo", "keypair", "list", "-f", "json")))
    assert "reader-key" not in [k["Name"] for k in theirs]
    ok(osc(aio, "stratus-demo", *reader, "keypair", "delete", "reader-key"))
