"""Bad input gets the right 4xx in Placement's error shape and writes nothing.

Every case is sent to a placement holding one provider with inventory and one
allocation; after each, a snapshot of the whole database must be unchanged.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from placement_harness import start_placement, stop_placement

from stratus import conf as stratus_conf
from stratus.placement import schema

RP = "/resource_providers/{rp}"
# Examples per fuzzed endpoint; raise it (STRATUS_FUZZ_EXAMPLES=500) for a deeper search.
FUZZ_EXAMPLES = int(os.environ.get("STRATUS_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def placement(tmp_path_factory):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path_factory.mktemp("bad-input"))})
    running = start_placement(conf)
    rp = running.provider("victim", VCPU=4, DISK_GB=100)
    consumer = str(uuid.uuid4())
    assert running.allocate(consumer, {rp: {"VCPU": 1}}).status_code == 204
    running.rp, running.consumer = rp, consumer
    yield running
    stop_placement(running)


def snapshot(placement) -> dict:
    """Every row of every placement table (timestamps included)."""
    engine = placement.databases.engine("placement")
    with engine.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(sa.select(table)).all()), key=repr)
                for name, table in schema.metadata.tables.items()}


def assert_rejected(placement, resp, status: int) -> None:
    assert resp.status_code == status, resp.text
    (error,) = resp.json()["errors"]
    assert error["status"] == status and error["code"].startswith("placement.")


def _path(placement, template: str) -> str:
    return template.replace("{rp}", placement.rp).replace("{consumer}", placement.consumer)


CASES = [
    # (method, path, body or raw bytes, extra headers, status)
    ("POST", "/resource_providers", b"{not json", {}, 400),
    ("POST", "/resource_providers", {"name": 42}, {}, 400),
    ("POST", "/resource_providers", {"name": "x", "colour": "red"}, {}, 400),
    ("POST", "/resource_providers", {"name": "x", "uuid": "not-a-uuid"}, {}, 400),
    ("POST", "/resource_providers", {"name": "x" * 201}, {}, 400),
    ("POST", "/resource_providers", b'{"name": "x"}', {"Content-Type": "text/plain"}, 415),
    ("POST", "/resource_providers", {"name": "x", "parent_provider_uuid": "nope"}, {}, 400),
    ("PUT", RP, {"name": "victim", "generation": 3}, {}, 400),
    ("PUT", RP + "/inventories", {"inventories": {"VCPU": {"total": 8}}}, {}, 400),
    ("PUT", RP + "/inventories", {"resource_provider_generation": 2,
                                  "inventories": {"VCPU": {"total": "8"}}}, {}, 400),
    ("PUT", RP + "/inventories", {"resource_provider_generation": 2,
                                  "inventories": {"VCPU": {"total": 0}}}, {}, 400),
    ("PUT", RP + "/inventories", {"resource_provider_generation": 2,
                                  "inventories": {"VCPU": {"total": 8, "reserved": 9}}},
     {}, 400),
    ("PUT", RP + "/inventories", {"resource_provider_generation": 2,
                                  "inventories": {"NOT_A_CLASS": {"total": 8}}}, {}, 400),
    ("PUT", RP + "/inventories", {"resource_provider_generation": 99,
                                  "inventories": {"VCPU": {"total": 8}}}, {}, 409),
    ("POST", RP + "/inventories", {"resource_class": "vcpu", "total": 1}, {}, 400),
    ("PUT", RP + "/traits", {"resource_provider_generation": 2, "traits": "HW"}, {}, 400),
    ("PUT", RP + "/aggregates", {"resource_provider_generation": 2,
                                 "aggregates": ["not-a-uuid"]}, {}, 400),
    ("PUT", "/allocations/not-a-uuid", {"allocations": {}, "project_id": "p",
                                        "user_id": "u", "consumer_generation": None,
                                        "consumer_type": "INSTANCE"}, {}, 400),
    ("PUT", "/allocations/{consumer}", {"allocations": {"{rp}": {"resources": {"VCPU": -1}}},
                                        "project_id": "p", "user_id": "u",
                                        "consumer_generation": 1,
                                        "consumer_type": "INSTANCE"}, {}, 400),
    ("PUT", "/allocations/{consumer}", {"allocations": {"{rp}": {"resources": {"VCPU": 1}}},
                                        "project_id": "p", "user_id": "u",
                                        "consumer_generation": 1}, {}, 400),
    ("PUT", "/allocations/{consumer}", {"allocations": {"{rp}": {"resources": {"VCPU": 99}}},
                                        "project_id": "p", "user_id": "u",
                                        "consumer_generation": 1,
                                        "consumer_type": "INSTANCE"}, {}, 409),
    ("PUT", "/allocations/{consumer}", {"allocations": {
        str(uuid.UUID(int=7)): {"resources": {"VCPU": 1}}}, "project_id": "p",
        "user_id": "u", "consumer_generation": 1, "consumer_type": "INSTANCE"}, {}, 400),
    ("POST", "/allocations", {"{consumer}": {"allocations": {}}}, {}, 400),
    ("POST", "/reshaper", {"inventories": {}, "allocations": {}}, {}, 400),
    ("PUT", "/resource_classes/lowercase", None, {}, 400),
    ("GET", "/resource_providers?colour=red", None, {}, 400),
    ("GET", "/resource_providers?uuid=not-a-uuid", None, {}, 400),
    ("GET", "/usages", None, {}, 400),
    ("GET", "/traits?name=bogus", None, {}, 400),
    ("GET", "/resource_providers", None, {"OpenStack-API-Version": "placement 1.40"}, 406),
    ("GET", "/resource_providers", None, {"OpenStack-API-Version": "placement one"}, 400),
    ("GET", "/resource_providers", None, {"Accept": "text/plain"}, 406),
]


def _send(placement, method, path, body, headers):
    if path == "/reshaper":
        headers = {"X-Roles": "service", **headers}  # the reshaper is for services
    path = _path(placement, path)
    if isinstance(body, bytes):
        sent = {"Content-Type": "application/json", **headers}
        return placement.request(method, path, data=body, headers=sent)
    if isinstance(body, dict):
        body = _substitute(placement, body)
    return placement.request(method, path, json=body, headers=headers)


def _substitute(placement, value):
    if isinstance(value, dict):
        return {_path(placement, k): _substitute(placement, v) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body", "headers", "status"), CASES,
                         ids=[f"{c[0]} {c[1]} {c[4]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_rejected_and_writes_nothing(placement, method, path, body, headers,
                                                  status):
    before = snapshot(placement)
    resp = _send(placement, method, path, body, headers)
    assert_rejected(placement, resp, status)
    assert snapshot(placement) == before


# Any JSON value at all, as request bodies.
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=12)
# Bodies shaped like the real ones, with fields of any type.
_allocation_like = st.fixed_dictionaries({
    "allocations": _json | st.dictionaries(st.sampled_from(["{rp}", "x"]), _json, max_size=2),
    "project_id": _json, "user_id": _json, "consumer_generation": _json,
    "consumer_type": _json})
_inventory_like = st.fixed_dictionaries({
    "resource_provider_generation": _json,
    "inventories": _json | st.dictionaries(st.sampled_from(["VCPU", "DISK_GB", "x"]),
                                           _json, max_size=2)})

WRITES = [("PUT", "/allocations/{consumer}", _allocation_like),
          ("PUT", RP + "/inventories", _inventory_like),
          ("POST", "/allocations", st.dictionaries(st.just("{consumer}"), _allocation_like)),
          ("POST", "/resource_providers", _json),
          ("PUT", RP + "/traits", _json),
          ("PUT", RP + "/aggregates", _json),
          ("POST", "/reshaper", _json)]


@pytest.mark.parametrize(("method", "path", "bodies"), WRITES,
                         ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_fuzzed_bodies_never_500_and_bad_ones_write_nothing(placement, method, path, bodies):
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=bodies)
    def check(body):
        before = snapshot(placement)
        resp = _send(placement, method, path, body, {})
        assert resp.status_code < 500, resp.text
        if resp.status_code >= 400:
            assert_rejected(placement, resp, resp.status_code)
            assert snapshot(placement) == before

    check()


def test_inventory_under_a_malformed_class_name_is_400_not_500(placement):
    """Found by the fuzz test: a class name outside [A-Z0-9_] escaped the record schema,
    and a non-object record under it crashed the handler."""
    before = snapshot(placement)
    for record in (True, None, {"total": 1}):
        resp = placement.put(f"/resource_providers/{placement.rp}/inventories", {
            "resource_provider_generation": 2, "inventories": {"x": record}})
        assert_rejected(placement, resp, 400)
    assert snapshot(placement) == before
