"""The request spec → GET /allocation_candidates query builder, case by case."""

from __future__ import annotations

import pytest

from stratus.scheduler.request import (
    InvalidRequest,
    addresses_by_network,
    allocation_candidates_query,
    disk_gb,
)

AGG1 = "11111111-1111-1111-1111-111111111111"
AGG2 = "22222222-2222-2222-2222-222222222222"


def spec(extra_specs=None, image_properties=None, **flavor) -> dict:
    base = {"vcpus": 2, "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 0, "swap": 0}
    image = {"id": "img"}
    if image_properties is not None:
        image["properties"] = image_properties
    return {"flavor": {**base, **flavor, "extra_specs": extra_specs or {}}, "image": image}


@pytest.mark.parametrize(("flavor", "expected"), [
    ({"root_gb": 10, "ephemeral_gb": 5, "swap": 0}, 15),
    ({"root_gb": 10, "ephemeral_gb": 0, "swap": 512}, 11),
    ({"root_gb": 10, "ephemeral_gb": 0, "swap": 1024}, 11),
    ({"root_gb": 10, "ephemeral_gb": 0, "swap": 1025}, 12),
    ({"root_gb": 0, "ephemeral_gb": 0, "swap": 0}, 0),
])
def test_disk_is_root_plus_ephemeral_plus_swap_rounded_up(flavor, expected):
    assert disk_gb(flavor) == expected


CASES = [
    ("plain flavor", spec(), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"), ("limit", "50")]),
    ("zero-sized classes are left out", spec(root_gb=0), None,
     [("resources", "MEMORY_MB:2048,VCPU:2"), ("limit", "50")]),
    ("resources: overrides and adds", spec({"resources:VCPU": "0",
                                             "resources:PCPU": "2",
                                             "resources:CUSTOM_FPGA": "1"}), None,
     [("resources", "CUSTOM_FPGA:1,DISK_GB:20,MEMORY_MB:2048,PCPU:2"), ("limit", "50")]),
    ("traits required and forbidden", spec({"trait:HW_CPU_X86_AVX2": "required",
                                            "trait:CUSTOM_SLOW": "forbidden"}), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"),
      ("required", "HW_CPU_X86_AVX2,!CUSTOM_SLOW"), ("limit", "50")]),
    ("one numbered group needs no policy", spec({"resources1:CUSTOM_NIC": "1",
                                                 "trait1:CUSTOM_PHYSNET_A": "required"}), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"), ("resources1", "CUSTOM_NIC:1"),
      ("required1", "CUSTOM_PHYSNET_A"), ("limit", "50")]),
    ("two numbered groups get the group policy", spec({"resources1:CUSTOM_NIC": "1",
                                                       "resources2:CUSTOM_NIC": "1",
                                                       "group_policy": "isolate"}), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"), ("resources1", "CUSTOM_NIC:1"),
      ("resources2", "CUSTOM_NIC:1"), ("group_policy", "isolate"), ("limit", "50")]),
    ("two numbered groups default to policy none", spec({"resources1:CUSTOM_NIC": "1",
                                                         "resources2:CUSTOM_NIC": "1"}), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"), ("resources1", "CUSTOM_NIC:1"),
      ("resources2", "CUSTOM_NIC:1"), ("group_policy", "none"), ("limit", "50")]),
    ("numbered groups sort by number", spec({"resources10:CUSTOM_A": "1",
                                             "resources2:CUSTOM_B": "1"}), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"), ("resources2", "CUSTOM_B:1"),
      ("resources10", "CUSTOM_A:1"), ("group_policy", "none"), ("limit", "50")]),
    ("member_of from the flavor", spec({"member_of": f"{AGG2},{AGG1}"}), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"),
      ("member_of", f"in:{AGG1},{AGG2}"), ("limit", "50")]),
    ("availability zone as member_of", spec(), [AGG1, AGG2],
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"),
      ("member_of", f"in:{AGG1},{AGG2}"), ("limit", "50")]),
    ("a zone no aggregate names adds nothing", spec(), [],
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"), ("limit", "50")]),
    ("image traits are required", spec(image_properties={
        "trait:HW_CPU_X86_SSE42": "required", "trait:CUSTOM_X": "forbidden",
        "architecture": "x86_64"}), None,
     [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"),
      ("required", "HW_CPU_X86_SSE42"), ("limit", "50")]),
    ("unrelated extra specs are ignored", spec({"hw:cpu_policy": "dedicated",
                                                "aggregate_instance_extra_specs:ssd": "true"}),
     None, [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"), ("limit", "50")]),
]


@pytest.mark.parametrize(("name", "request_spec", "zone_aggregates", "expected"), CASES,
                         ids=[case[0] for case in CASES])
def test_query_for(name, request_spec, zone_aggregates, expected):
    assert allocation_candidates_query(request_spec, limit=50,
                                       zone_aggregates=zone_aggregates) == expected


BAD = [
    ("negative amount", {"resources:VCPU": "-1"}, "whole number"),
    ("amount not a number", {"resources:VCPU": "two"}, "whole number"),
    ("trait rule unknown", {"trait:CUSTOM_X": "preferred"}, "'required' or 'forbidden'"),
    ("group policy unknown", {"group_policy": "spread"}, "'isolate' or 'none'"),
    ("empty member_of", {"member_of": " , "}, "no aggregate"),
]


@pytest.mark.parametrize(("name", "extra_specs", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_extra_specs_are_refused_with_a_reason(name, extra_specs, message):
    with pytest.raises(InvalidRequest, match=message):
        allocation_candidates_query(spec(extra_specs), limit=1)


def test_a_trait_both_required_and_forbidden_is_refused():
    both = spec({"trait:CUSTOM_X": "forbidden"}, image_properties={"trait:CUSTOM_X": "required"})
    with pytest.raises(InvalidRequest, match="both required and forbidden"):
        allocation_candidates_query(both, limit=1)


def test_requested_networks_count_addresses_but_ports_and_auto_do_not():
    net1, net2 = "n1", "n2"
    assert addresses_by_network({"requested_networks": [
        {"network_id": net1, "port_id": None, "fixed_ip": None},
        {"network_id": net1, "port_id": None, "fixed_ip": "10.0.0.5"},
        {"network_id": net2, "port_id": "p1", "fixed_ip": None}]}) == {net1: 2}
    assert addresses_by_network({"requested_networks": "auto"}) == {}
    assert addresses_by_network({}) == {}


def test_ip_pools_become_groups_with_their_network_as_member_of():
    query = allocation_candidates_query(spec(), limit=5, ip_pools={AGG2: 1, AGG1: 2})
    assert query == [("resources", "DISK_GB:20,MEMORY_MB:2048,VCPU:2"),
                     ("resources_NET0", "IPV4_ADDRESS:2"), ("member_of_NET0", f"in:{AGG1}"),
                     ("resources_NET1", "IPV4_ADDRESS:1"), ("member_of_NET1", f"in:{AGG2}"),
                     ("group_policy", "none"), ("limit", "5")]
    # One group needs no group_policy.
    assert ("group_policy", "none") not in allocation_candidates_query(
        spec(), limit=5, ip_pools={AGG1: 1})
