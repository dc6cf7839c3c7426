"""Security groups and rules in the store: Neutron's defaults, validation and conflicts."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from stratus.common import db
from stratus.common.wsgi.errors import APIError
from stratus.netsvc import schema as s
from stratus.netsvc import store
from stratus.netsvc.store import Viewer, networks
from stratus.netsvc.store import security_groups as sg

ALICE = Viewer("alice", False)
BOB = Viewer("bob", False)
ADMIN = Viewer(None, True)


def run(engine, work):
    return store.transaction(engine, work)


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)
                            ).scalar_one()


def rules_of(engine, sg_id: str) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(
            sa.select(s.security_group_rules)
            .where(s.security_group_rules.c.security_group_id == sg_id)).mappings()]


def shape(rule: dict) -> tuple:
    return (rule["direction"], rule["ethertype"], rule["protocol"], rule["remote_group_id"],
            rule["remote_ip_prefix"])


def new_group(engine, project="alice", name="web") -> dict:
    return run(engine, lambda conn: sg.create(conn, {
        "project_id": project, "name": name, "description": "", "stateful": True}))


def new_rule(engine, sg_id: str, viewer: Viewer = ALICE, **values) -> dict:
    body = {"project_id": viewer.project_id or "alice", "security_group_id": sg_id,
            "direction": "ingress", "ethertype": "IPv4", "description": "", **values}
    return run(engine, lambda conn: sg.create_rule(conn, body, viewer))


def new_port(engine, project="alice") -> str:
    def work(conn):
        network = networks.create(conn, {"project_id": project, "name": "net"})
        port = store.stamp({"project_id": project, "name": "", "description": "",
                            "network_id": network["id"], "mac_address": "fa:16:3e:00:00:01",
                            "admin_state_up": True, "status": "DOWN", "device_id": "",
                            "device_owner": "", "binding_host_id": "",
                            "binding_profile": "{}", "binding_vnic_type": "normal",
                            "port_security_enabled": True})
        conn.execute(s.ports.insert().values(**port))
        return port["id"]
    return run(engine, work)


def raised(exc_info) -> tuple[int, str]:
    return exc_info.value.status, exc_info.value.code


# --- the default group ------------------------------------------------------------------

def test_default_group_has_neutrons_four_rules_and_is_made_once(engine):
    first = run(engine, lambda conn: sg.ensure_default(conn, "alice"))
    second = run(engine, lambda conn: sg.ensure_default(conn, "alice"))

    assert first == second
    assert count(engine, s.security_groups) == 1
    with engine.connect() as conn:
        group = sg.get(conn, first, ALICE)
    assert (group["name"], group["description"]) == ("default", "Default security group")
    assert sorted(shape(rule) for rule in rules_of(engine, first)) == [
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
        ("ingress", "IPv4", None, first, None), ("ingress", "IPv6", None, first, None)]


def test_each_project_gets_its_own_default_group(engine):
    alice = run(engine, lambda conn: sg.ensure_default(conn, "alice"))
    bob = run(engine, lambda conn: sg.ensure_default(conn, "bob"))
    assert alice != bob
    assert count(engine, s.default_security_groups) == 2


def _plain_engine(path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{path}",
                            connect_args={"timeout": 30, "check_same_thread": False})


def _service_engine(path) -> sa.Engine:
    return db.writer(db.make_engine(f"sqlite:///{path}"))


@pytest.mark.parametrize("make_engine", [_plain_engine, _service_engine],
                         ids=["deferred-begin", "service-writer"])
def test_racing_creators_make_exactly_one_default_group(tmp_path, make_engine):
    """Eight threads ask at once; with a deferred BEGIN the losers' inserts fail on the
    project key and the retry finds the winner's group; with the service's writer they
    queue. Either way everyone answers with that one id."""
    engine = make_engine(tmp_path / "net.sqlite")
    s.metadata.create_all(engine)
    start = threading.Barrier(8)
    answers: list[str] = []
    failures: list[BaseException] = []

    def ask():
        start.wait()
        try:
            answers.append(run(engine, lambda conn: sg.ensure_default(conn, "alice")))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()

    assert failures == []
    assert len(answers) == 8 and len(set(answers)) == 1
    assert count(engine, s.security_groups) == 1
    assert count(engine, s.default_security_groups) == 1
    assert count(engine, s.security_group_rules) == 4


def test_non_admin_cannot_delete_the_default_group(engine):
    default_id = run(engine, lambda conn: sg.ensure_default(conn, "alice"))
    group = {"id": default_id}
    with pytest.raises(APIError) as exc:
        run(engine, lambda conn: sg.delete(conn, group, ALICE))
    assert raised(exc) == (409, "SecurityGroupCannotRemoveDefault")
    assert exc.value.message == "Insufficient rights for removing default security group."
    assert count(engine, s.security_groups) == 1


def test_admin_deletes_the_default_group_and_the_project_gets_a_new_one(engine):
    default_id = run(engine, lambda conn: sg.ensure_default(conn, "alice"))
    run(engine, lambda conn: sg.delete(conn, {"id": default_id}, ADMIN))
    assert count(engine, s.security_groups) == 0
    assert count(engine, s.security_group_rules) == 0

    again = run(engine, lambda conn: sg.ensure_default(conn, "alice"))
    assert again != default_id
    assert count(engine, s.security_groups) == 1


def test_default_group_cannot_be_renamed(engine):
    default_id = run(engine, lambda conn: sg.ensure_default(conn, "alice"))
    with engine.connect() as conn:
        row = sg.get(conn, default_id, ALICE)
    with pytest.raises(APIError) as exc:
        run(engine, lambda conn: sg.update(conn, row, {"name": "mine"}))
    assert raised(exc) == (409, "SecurityGroupCannotUpdateDefault")
    assert exc.value.message == "Updating default security group not allowed."

    run(engine, lambda conn: sg.update(conn, row, {"name": "default", "description": "x"}))
    with engine.connect() as conn:
        updated = sg.get(conn, default_id, ALICE)
    assert (updated["name"], updated["description"]) == ("default", "x")
    assert updated["revision_number"] == row["revision_number"] + 1


# --- groups -----------------------------------------------------------------------------

def test_new_group_gets_two_egress_rules(engine):
    group = new_group(engine)
    assert sorted(shape(rule) for rule in rules_of(engine, group["id"])) == [
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None)]
    assert {rule["project_id"] for rule in rules_of(engine, group["id"])} == {"alice"}


@pytest.mark.parametrize("name", ["default", "Default"])
def test_a_second_group_named_default_is_refused(engine, name):
    with pytest.raises(APIError) as exc:
        new_group(engine, name=name)
    assert raised(exc) == (409, "SecurityGroupDefaultAlreadyExists")
    assert count(engine, s.security_groups) == 0


def test_renaming_a_group_to_default_is_refused(engine):
    group = new_group(engine)
    with pytest.raises(APIError) as exc:
        run(engine, lambda conn: sg.update(conn, group, {"name": "default"}))
    assert raised(exc) == (409, "SecurityGroupDefaultAlreadyExists")


def test_update_changes_name_description_and_stateful(engine):
    group = new_group(engine)
    run(engine, lambda conn: sg.update(conn, group, {"name": "db", "description": "d",
                                                     "stateful": False}))
    with engine.connect() as conn:
        row = sg.get(conn, group["id"], ALICE)
    assert (row["name"], row["description"], row["stateful"]) == ("db", "d", False)
    assert row["revision_number"] == 1


def test_other_projects_groups_are_not_found_but_admin_sees_them(engine):
    group = new_group(engine)
    with engine.connect() as conn, pytest.raises(APIError) as exc:
        sg.get(conn, group["id"], BOB)
    assert raised(exc) == (404, "SecurityGroupNotFound")
    assert exc.value.message == f"Security group {group['id']} does not exist"
    with engine.connect() as conn:
        assert sg.get(conn, group["id"], ADMIN)["id"] == group["id"]
        seen = conn.execute(sa.select(s.security_groups.c.id).where(sg.visible(BOB))).all()
    assert seen == []


def test_render_gives_each_group_its_own_rules(engine):
    web, db = new_group(engine, name="web"), new_group(engine, name="db")
    extra = new_rule(engine, db["id"], protocol="tcp", port_range_min=5432,
                     port_range_max=5432)
    with engine.connect() as conn:
        docs = sg.render(conn, [sg.get(conn, web["id"], ALICE), sg.get(conn, db["id"], ALICE)])

    assert [doc["id"] for doc in docs] == [web["id"], db["id"]]
    assert len(docs[0]["security_group_rules"]) == 2
    assert extra["id"] in {rule["id"] for rule in docs[1]["security_group_rules"]}
    assert len(docs[1]["security_group_rules"]) == 3
    doc = docs[1]
    assert doc["tenant_id"] == doc["project_id"] == "alice"
    assert (doc["name"], doc["stateful"], doc["tags"]) == ("db", True, [])
    assert doc["revision_number"] == 1  # the rule bumped it
    assert doc["created_at"].endswith("Z") and doc["updated_at"].endswith("Z")
    rule = next(r for r in doc["security_group_rules"] if r["id"] == extra["id"])
    assert (rule["protocol"], rule["port_range_min"], rule["port_range_max"]) == \
        ("tcp", 5432, 5432)
    assert rule["security_group_id"] == db["id"]


def test_group_in_use_by_a_port_cannot_be_deleted(engine):
    group = new_group(engine)
    port_id = new_port(engine)
    run(engine, lambda conn: sg.set_port_groups(conn, port_id, [group["id"]], ALICE))

    with pytest.raises(APIError) as exc:
        run(engine, lambda conn: sg.delete(conn, group, ALICE))
    assert raised(exc) == (409, "SecurityGroupInUse")
    assert exc.value.message == f"Security Group {group['id']} in use."
    assert count(engine, s.security_groups) == 1

    run(engine, lambda conn: sg.set_port_groups(conn, port_id, [], ALICE))
    run(engine, lambda conn: sg.delete(conn, group, ALICE))
    assert count(engine, s.security_groups) == 0
    assert count(engine, s.security_group_rules) == 0


def test_deleting_a_group_deletes_rules_naming_it_as_remote(engine):
    web, db = new_group(engine, name="web"), new_group(engine, name="db")
    new_rule(engine, db["id"], remote_group_id=web["id"])
    run(engine, lambda conn: sg.delete(conn, web, ALICE))
    assert len(rules_of(engine, db["id"])) == 2
    assert count(engine, s.security_group_rules,
                 s.security_group_rules.c.remote_group_id == web["id"]) == 0


# --- rules ------------------------------------------------------------------------------

INVALID_RULES = [
    ({"port_range_min": 22, "port_range_max": 22}, 400,
     "SecurityGroupProtocolRequiredWithPorts"),
    ({"protocol": "tcp", "port_range_min": 23, "port_range_max": 22}, 400,
     "SecurityGroupInvalidPortRange"),
    ({"protocol": "udp", "port_range_min": 53}, 400, "SecurityGroupInvalidPortRange"),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 22}, 400,
     "SecurityGroupInvalidPortValue"),
    ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2}, 400,
     "SecurityGroupInvalidProtocolForPort"),
    ({"protocol": "icmp", "port_range_min": 256}, 400, "SecurityGroupInvalidIcmpValue"),
    ({"protocol": "icmp", "port_range_min": 8, "port_range_max": 256}, 400,
     "SecurityGroupInvalidIcmpValue"),
    ({"protocol": "icmp", "port_range_max": 0}, 400, "SecurityGroupMissingIcmpType"),
    ({"protocol": "bogus"}, 400, "SecurityGroupRuleInvalidProtocol"),
    ({"protocol": "256"}, 400, "SecurityGroupRuleInvalidProtocol"),
    ({"protocol": "ipv6-icmp"}, 400, "SecurityGroupEthertypeConflictWithProtocol"),
    ({"remote_ip_prefix": "2001:db8::/64"}, 400, "SecurityGroupRuleParameterConflict"),
    ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, 400,
     "SecurityGroupRuleParameterConflict"),
    ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": "SELF"}, 400,
     "SecurityGroupRemoteGroupAndRemoteIpPrefix"),
    ({"remote_group_id": "00000000-0000-0000-0000-000000000000"}, 404,
     "SecurityGroupNotFound"),
]


@pytest.mark.parametrize(("values", "status", "code"), INVALID_RULES)
def test_invalid_rule_is_refused_and_writes_nothing(engine, values, status, code):
    group = new_group(engine)
    values = {k: group["id"] if v == "SELF" else v for k, v in values.items()}
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], **values)
    assert raised(exc) == (status, code)
    assert len(rules_of(engine, group["id"])) == 2
    with engine.connect() as conn:
        assert sg.get(conn, group["id"], ALICE)["revision_number"] == 0


def test_rule_messages_are_neutrons(engine):
    group = new_group(engine)
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], protocol="tcp", port_range_min=2, port_range_max=1)
    assert exc.value.message == \
        "For TCP/UDP protocols, port_range_min must be <= port_range_max"
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], remote_ip_prefix="::/0")
    assert exc.value.message == "Conflicting value ethertype IPv4 for CIDR ::/0"
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], remote_ip_prefix="10.0.0.0/8",
                 remote_group_id=group["id"])
    assert exc.value.message == "Only remote_ip_prefix or remote_group_id may be provided."


def test_rule_in_a_group_of_another_project_is_not_found(engine):
    group = new_group(engine, project="bob")
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], ALICE)
    assert raised(exc) == (404, "SecurityGroupNotFound")


def test_remote_group_of_another_project_is_not_found(engine):
    mine, theirs = new_group(engine), new_group(engine, project="bob", name="x")
    with pytest.raises(APIError) as exc:
        new_rule(engine, mine["id"], remote_group_id=theirs["id"])
    assert raised(exc) == (404, "SecurityGroupNotFound")


@pytest.mark.parametrize(("given", "stored"), [
    ("TCP", "tcp"), ("tcp", "tcp"), ("any", None), (None, None), ("6", "6"), ("icmp", "icmp"),
])
def test_protocol_is_stored_by_name_lowercase_or_number(engine, given, stored):
    group = new_group(engine)
    rule = new_rule(engine, group["id"], direction="ingress", protocol=given,
                    remote_group_id=group["id"])
    assert rule["protocol"] == stored


def test_accepted_rules(engine):
    group = new_group(engine)
    icmp = new_rule(engine, group["id"], protocol="icmp", port_range_min=8)
    ssh = new_rule(engine, group["id"], protocol="tcp", port_range_min=22, port_range_max=22,
                   remote_ip_prefix="192.0.2.0/24", description="ssh")
    v6 = new_rule(engine, group["id"], ethertype="IPv6", protocol="ipv6-icmp")
    assert (icmp["port_range_min"], icmp["port_range_max"]) == (8, None)
    assert (ssh["remote_ip_prefix"], ssh["description"]) == ("192.0.2.0/24", "ssh")
    assert v6["ethertype"] == "IPv6"
    with engine.connect() as conn:
        assert sg.get_rule(conn, ssh["id"], ALICE)["port_range_max"] == 22


def test_every_port_is_stored_as_no_port_range(engine):
    group = new_group(engine)
    rule = new_rule(engine, group["id"], protocol="tcp", port_range_min=1,
                    port_range_max=65535)
    assert (rule["port_range_min"], rule["port_range_max"]) == (None, None)


def test_duplicate_rule_is_409_naming_the_existing_rule(engine):
    group = new_group(engine)
    first = new_rule(engine, group["id"], protocol="tcp", port_range_min=80,
                     port_range_max=80)
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], protocol="TCP", port_range_min=80, port_range_max=80,
                 description="other words, same rule")
    assert raised(exc) == (409, "SecurityGroupRuleExists")
    assert exc.value.message == \
        f"Security group rule already exists. Rule id is {first['id']}."
    assert len(rules_of(engine, group["id"])) == 3


@pytest.mark.parametrize("again", [
    {"protocol": "6", "port_range_min": 80, "port_range_max": 80},
    {"protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
     "remote_ip_prefix": "0.0.0.0/0"},
])
def test_same_rule_written_differently_is_a_duplicate(engine, again):
    group = new_group(engine)
    new_rule(engine, group["id"], protocol="tcp", port_range_min=80, port_range_max=80)
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], **again)
    assert raised(exc) == (409, "SecurityGroupRuleExists")


def test_all_addresses_egress_duplicates_the_default_egress_rule(engine):
    group = new_group(engine)
    egress = next(r for r in rules_of(engine, group["id"]) if r["ethertype"] == "IPv4")
    with pytest.raises(APIError) as exc:
        new_rule(engine, group["id"], direction="egress", remote_ip_prefix="0.0.0.0/0")
    assert raised(exc) == (409, "SecurityGroupRuleExists")
    assert egress["id"] in exc.value.message


def test_similar_rules_that_differ_are_not_duplicates(engine):
    group = new_group(engine)
    new_rule(engine, group["id"], protocol="tcp", port_range_min=80, port_range_max=80)
    new_rule(engine, group["id"], protocol="tcp", port_range_min=443, port_range_max=443)
    new_rule(engine, group["id"], protocol="udp", port_range_min=80, port_range_max=80)
    new_rule(engine, group["id"], direction="egress", protocol="tcp", port_range_min=80,
             port_range_max=80)
    assert len(rules_of(engine, group["id"])) == 6


def test_rule_create_and_delete_bump_the_group_revision(engine):
    group = new_group(engine)
    rule = new_rule(engine, group["id"], protocol="tcp", port_range_min=22,
                    port_range_max=22)
    with engine.connect() as conn:
        assert sg.get(conn, group["id"], ALICE)["revision_number"] == 1
    run(engine, lambda conn: sg.delete_rule(conn, rule))
    with engine.connect() as conn:
        assert sg.get(conn, group["id"], ALICE)["revision_number"] == 2
    assert rule["id"] not in {r["id"] for r in rules_of(engine, group["id"])}


def test_rules_of_other_projects_are_not_found(engine):
    group = new_group(engine)
    rule = new_rule(engine, group["id"], protocol="tcp", port_range_min=22,
                    port_range_max=22)
    with engine.connect() as conn:
        with pytest.raises(APIError) as exc:
            sg.get_rule(conn, rule["id"], BOB)
        assert raised(exc) == (404, "SecurityGroupRuleNotFound")
        assert sg.get_rule(conn, rule["id"], ADMIN)["id"] == rule["id"]
        docs = sg.render_rules(conn, [sg.get_rule(conn, rule["id"], ALICE)])
    assert docs[0]["tenant_id"] == "alice"
    assert docs[0]["created_at"].endswith("Z")


def test_rule_an_admin_adds_to_a_group_is_seen_by_the_group_owner(engine):
    group = new_group(engine)
    rule = new_rule(engine, group["id"], ADMIN, protocol="tcp", port_range_min=22,
                    port_range_max=22, project_id="ops")
    assert rule["project_id"] == "ops"
    with engine.connect() as conn:
        assert sg.get_rule(conn, rule["id"], ALICE)["id"] == rule["id"]


# --- ports ------------------------------------------------------------------------------

def test_port_groups_are_set_replaced_and_read_for_many_ports(engine):
    web, db = new_group(engine, name="web"), new_group(engine, name="db")
    port_a, port_b = new_port(engine), new_port(engine)
    run(engine, lambda conn: sg.set_port_groups(conn, port_a, [web["id"], db["id"],
                                                               web["id"]], ALICE))
    run(engine, lambda conn: sg.set_port_groups(conn, port_b, [db["id"]], ALICE))
    with engine.connect() as conn:
        found = sg.port_groups(conn, [port_a, port_b, "no-such-port"])
    assert found == {port_a: sorted([web["id"], db["id"]]), port_b: [db["id"]],
                     "no-such-port": []}

    run(engine, lambda conn: sg.set_port_groups(conn, port_a, [db["id"]], ALICE))
    with engine.connect() as conn:
        assert sg.port_groups(conn, [port_a]) == {port_a: [db["id"]]}
        assert sg.port_groups(conn, []) == {}


@pytest.mark.parametrize("viewer", [ALICE, ADMIN])
def test_port_cannot_join_a_group_it_cannot_see(engine, viewer):
    mine = new_group(engine)
    theirs = new_group(engine, project="bob", name="x")
    port_id = new_port(engine)
    run(engine, lambda conn: sg.set_port_groups(conn, port_id, [mine["id"]], ALICE))
    missing = theirs["id"] if viewer is ALICE else "00000000-0000-0000-0000-000000000000"
    with pytest.raises(APIError) as exc:
        run(engine, lambda conn: sg.set_port_groups(conn, port_id, [mine["id"], missing],
                                                    viewer))
    assert raised(exc) == (404, "SecurityGroupNotFound")
    assert missing in exc.value.message
    with engine.connect() as conn:
        assert sg.port_groups(conn, [port_id]) == {port_id: [mine["id"]]}
