"""Neutron quotas in the store: limits over defaults, usage counts, the create-time check."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stratus.common.wsgi.errors import APIError
from stratus.netsvc import schema as s
from stratus.netsvc import store
from stratus.netsvc.store import networks, quotas
from stratus.netsvc.store import security_groups as sg


def run(engine, work):
    return store.transaction(engine, work)


def read(engine, work):
    with engine.connect() as conn:
        return work(conn)


def add_networks(engine, project: str, how_many: int) -> None:
    def work(conn):
        for i in range(how_many):
            networks.create(conn, {"project_id": project, "name": f"net{i}"})
    run(engine, work)


def test_neutron_defaults():
    assert quotas.DEFAULTS == {"network": 100, "subnet": 100, "port": 500, "router": 10,
                               "floatingip": 50, "security_group": 10,
                               "security_group_rule": 100, "subnetpool": -1}


def test_a_project_without_overrides_has_the_defaults(engine):
    assert read(engine, lambda conn: quotas.get(conn, "alice")) == quotas.DEFAULTS
    configured = {**quotas.DEFAULTS, "network": 7}
    assert read(engine, lambda conn: quotas.get(conn, "alice", configured))["network"] == 7


def test_update_overrides_only_that_project_and_returns_all_limits(engine):
    found = run(engine, lambda conn: quotas.update(conn, "alice", {"network": 5,
                                                                   "port": "20"}))
    assert found == {**quotas.DEFAULTS, "network": 5, "port": 20}
    assert read(engine, lambda conn: quotas.get(conn, "alice")) == found
    assert read(engine, lambda conn: quotas.get(conn, "bob")) == quotas.DEFAULTS

    again = run(engine, lambda conn: quotas.update(conn, "alice", {"network": -1}))
    assert again["network"] == -1 and again["port"] == 20


def test_stored_override_wins_over_configured_default(engine):
    run(engine, lambda conn: quotas.update(conn, "alice", {"router": 3}))
    configured = {**quotas.DEFAULTS, "router": 50}
    assert read(engine, lambda conn: quotas.get(conn, "alice", configured))["router"] == 3


def test_unknown_resource_is_400_and_writes_nothing(engine):
    with pytest.raises(APIError) as exc:
        run(engine, lambda conn: quotas.update(conn, "alice", {"network": 5, "bogus": 1}))
    assert (exc.value.status, exc.value.code) == (400, "HTTPBadRequest")
    assert exc.value.message == "Unrecognized attribute(s) 'bogus'"
    assert read(engine, lambda conn: quotas.get(conn, "alice")) == quotas.DEFAULTS


@pytest.mark.parametrize(("value", "message"), [
    ("many", "Invalid input for operation: 'many' is not an integer."),
    (None, "Invalid input for operation: 'None' is not an integer."),
    (-2, "Invalid input for network. Reason: '-2' is too small - must be at least '-1'."),
])
def test_limit_must_be_an_integer_of_at_least_minus_one(engine, value, message):
    with pytest.raises(APIError) as exc:
        run(engine, lambda conn: quotas.update(conn, "alice", {"network": value}))
    assert exc.value.status == 400
    assert exc.value.message == message
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s.quotas)).scalar() == 0


def test_reset_returns_the_project_to_defaults(engine):
    run(engine, lambda conn: quotas.update(conn, "alice", {"network": 5}))
    run(engine, lambda conn: quotas.update(conn, "bob", {"network": 6}))
    run(engine, lambda conn: quotas.reset(conn, "alice"))
    assert read(engine, lambda conn: quotas.get(conn, "alice")) == quotas.DEFAULTS
    assert read(engine, lambda conn: quotas.get(conn, "bob"))["network"] == 6


def test_usage_counts_each_resource_of_the_project(engine):
    add_networks(engine, "alice", 2)
    add_networks(engine, "bob", 1)
    run(engine, lambda conn: sg.ensure_default(conn, "alice"))

    used = read(engine, lambda conn: quotas.usage(conn, "alice"))
    assert used == {"network": 2, "subnet": 0, "port": 0, "router": 0, "floatingip": 0,
                    "security_group": 1, "security_group_rule": 4, "subnetpool": 0}
    assert read(engine, lambda conn: quotas.usage(conn, "bob"))["network"] == 1


def test_check_passes_below_the_limit_and_raises_at_it(engine):
    run(engine, lambda conn: quotas.update(conn, "alice", {"network": 2}))
    add_networks(engine, "alice", 1)
    read(engine, lambda conn: quotas.check(conn, "alice", "network"))  # 1 + 1 <= 2

    add_networks(engine, "alice", 1)
    with pytest.raises(APIError) as exc:
        read(engine, lambda conn: quotas.check(conn, "alice", "network"))
    assert (exc.value.status, exc.value.code) == (409, "OverQuota")
    assert exc.value.message == "Quota exceeded for resources: ['network']."
    read(engine, lambda conn: quotas.check(conn, "bob", "network"))  # bob has none


def test_check_counts_what_is_being_added(engine):
    run(engine, lambda conn: quotas.update(conn, "alice", {"network": 3}))
    add_networks(engine, "alice", 1)
    read(engine, lambda conn: quotas.check(conn, "alice", "network", adding=2))
    with pytest.raises(APIError):
        read(engine, lambda conn: quotas.check(conn, "alice", "network", adding=3))


def test_zero_refuses_the_first_and_minus_one_is_unlimited(engine):
    run(engine, lambda conn: quotas.update(conn, "alice", {"router": 0, "network": -1}))
    with pytest.raises(APIError) as exc:
        read(engine, lambda conn: quotas.check(conn, "alice", "router"))
    assert exc.value.code == "OverQuota"
    add_networks(engine, "alice", 3)
    read(engine, lambda conn: quotas.check(conn, "alice", "network", adding=1000))


def test_check_uses_the_configured_default(engine):
    add_networks(engine, "alice", 1)
    configured = {**quotas.DEFAULTS, "network": 1}
    with pytest.raises(APIError):
        read(engine, lambda conn: quotas.check(conn, "alice", "network", configured))
    read(engine, lambda conn: quotas.check(conn, "alice", "network"))


def test_details_show_limit_used_and_reserved(engine):
    run(engine, lambda conn: quotas.update(conn, "alice", {"network": 4}))
    add_networks(engine, "alice", 3)
    found = read(engine, lambda conn: quotas.details(conn, "alice"))
    assert set(found) == set(quotas.DEFAULTS)
    assert found["network"] == {"limit": 4, "used": 3, "reserved": 0}
    assert found["floatingip"] == {"limit": 50, "used": 0, "reserved": 0}
