"""GET /allocation_candidates through the HTTP API of a running all-in-one.

Each test makes its providers through the placement API (inventories, traits,
aggregates, allocations) and asks the same API for candidates.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from placement_api_seed import ApiSeed


@pytest.fixture(scope="module")
def token(cloud) -> str:
    return cloud.admin_token()


@pytest.fixture
def seed(cloud, token) -> ApiSeed:
    seed = ApiSeed(f"{cloud.url}/placement", token)
    seed.clear()  # what earlier tests of the module made
    return seed


def get(cloud, token, query: str, version: str = "1.39") -> requests.Response:
    return requests.get(f"{cloud.url}/placement/allocation_candidates?{query}",
                        headers={"X-Auth-Token": token,
                                 "OpenStack-API-Version": f"placement {version}"})


def ok(cloud, token, query: str, version: str = "1.39") -> dict:
    resp = get(cloud, token, query, version)
    assert resp.status_code == 200, resp.text
    return resp.json()


def allocations(body: dict, seed: ApiSeed) -> list[dict]:
    """Each request as {provider name: resources}, sorted, for readable comparisons."""
    names = {v: k for k, v in seed.uuids.items()}
    return sort_requests([{names[u]: a["resources"] for u, a in r["allocations"].items()}
                          for r in body["allocation_requests"]])


def sort_requests(requests_: list[dict]) -> list[dict]:
    return sorted(requests_, key=lambda r: sorted((k, sorted(v.items())) for k, v in r.items()))


COMPUTE = {"VCPU": {"total": 8, "allocation_ratio": 2.0}, "MEMORY_MB": 4096, "DISK_GB": 100}


def test_flat_candidates_respect_capacity_reserved_ratio_and_units(cloud, token, seed):
    seed.provider("cn1", inventory=COMPUTE)
    seed.provider("cn2", inventory={**COMPUTE, "MEMORY_MB": {"total": 4096, "reserved": 3000}})
    seed.provider("cn3", inventory=COMPUTE)
    seed.allocate("cn3", "VCPU", 15)            # 16 usable (8 x 2.0), 1 left
    seed.provider("cn4", inventory={**COMPUTE, "VCPU": {"total": 8, "step_size": 4}})
    seed.provider("cn5", inventory={**COMPUTE, "VCPU": {"total": 8, "max_unit": 1}})
    body = ok(cloud, token, "resources=VCPU:2,MEMORY_MB:2048,DISK_GB:10")
    assert allocations(body, seed) == [
        {"cn1": {"VCPU": 2, "MEMORY_MB": 2048, "DISK_GB": 10}}]
    summary = body["provider_summaries"][seed.uuids["cn1"]]
    assert summary["resources"]["VCPU"] == {"capacity": 16, "used": 0}
    assert summary["parent_provider_uuid"] is None
    assert summary["root_provider_uuid"] == seed.uuids["cn1"]
    # cn3 is full; cn4 fits a step-aligned amount; cn5 gives one VCPU at a time.
    assert {"cn1", "cn2", "cn4"} == {n for r in allocations(
        ok(cloud, token, "resources=VCPU:4"), seed) for n in r}


def test_nested_tree_spreads_unsuffixed_group_from_1_29_only(cloud, token, seed):
    seed.provider("cn", inventory={"DISK_GB": 100})
    seed.provider("numa0", parent="cn", inventory={"VCPU": 4, "MEMORY_MB": 2048})
    seed.provider("numa1", parent="cn", inventory={"VCPU": 4, "MEMORY_MB": 1024})
    query = "resources=VCPU:2,MEMORY_MB:2048,DISK_GB:10"
    body = ok(cloud, token, query, "1.29")
    # Each class may come from any provider of the tree that has room for it.
    assert allocations(body, seed) == sort_requests([
        {"cn": {"DISK_GB": 10}, "numa0": {"VCPU": 2, "MEMORY_MB": 2048}},
        {"cn": {"DISK_GB": 10}, "numa1": {"VCPU": 2}, "numa0": {"MEMORY_MB": 2048}}])
    # Every provider of the tree is summarised, with its place in the tree.
    assert set(body["provider_summaries"]) == {seed.uuids[n] for n in ("cn", "numa0", "numa1")}
    assert body["provider_summaries"][seed.uuids["numa1"]]["parent_provider_uuid"] == \
        seed.uuids["cn"]
    # Before 1.29 a request may not use two providers of one tree.
    assert ok(cloud, token, query, "1.28")["allocation_requests"] == []


def test_sharing_provider_serves_trees_in_its_aggregate(cloud, token, seed):
    seed.provider("cn1", inventory={"VCPU": 8}, aggs=("a",))
    seed.provider("cn2", inventory={"VCPU": 8})
    seed.provider("nfs", inventory={"DISK_GB": 1000},
                  traits=("MISC_SHARES_VIA_AGGREGATE",), aggs=("a",))
    body = ok(cloud, token, "resources=VCPU:1,DISK_GB:50")
    assert allocations(body, seed) == [{"cn1": {"VCPU": 1}, "nfs": {"DISK_GB": 50}}]
    assert set(body["provider_summaries"]) == {seed.uuids["cn1"], seed.uuids["nfs"]}


def test_granular_groups_keep_one_candidate_per_tree_anchored_to_a_sharing_provider(
        cloud, token, seed):
    """OpenStack Placement 16.0.0 returns one candidate here, not two.

    Its de-duplication of the unsuffixed group's requests ignores the anchor tree, so
    "DISK_GB from nfs" survives for only one of the two compute nodes; the merge with
    resources1 then finds nothing for the other. Both nodes can take this server.
    """
    seed.provider("cn1", inventory={"VCPU": 8}, aggs=("a",))
    seed.provider("cn2", inventory={"VCPU": 8}, aggs=("a",))
    seed.provider("nfs", inventory={"DISK_GB": 1000},
                  traits=("MISC_SHARES_VIA_AGGREGATE",), aggs=("a",))
    body = ok(cloud, token, "resources=DISK_GB:10&resources1=VCPU:1")
    assert allocations(body, seed) == [
        {"cn1": {"VCPU": 1}, "nfs": {"DISK_GB": 10}},
        {"cn2": {"VCPU": 1}, "nfs": {"DISK_GB": 10}}]
    assert [r["mappings"] for r in body["allocation_requests"]] == [
        {"": [seed.uuids["nfs"]], "1": [seed.uuids[cn]]} for cn in ("cn1", "cn2")] or \
        [r["mappings"] for r in body["allocation_requests"]] == [
        {"": [seed.uuids["nfs"]], "1": [seed.uuids[cn]]} for cn in ("cn2", "cn1")]


def test_group_policy_isolate_keeps_granular_groups_on_different_providers(
        cloud, token, seed):
    seed.provider("cn", inventory={"VCPU": 8})
    seed.provider("pf1", parent="cn", inventory={"SRIOV_NET_VF": 4})
    seed.provider("pf2", parent="cn", inventory={"SRIOV_NET_VF": 4})
    query = "resources=VCPU:1&resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1"
    # Two answers: group 1 on pf1 and group 2 on pf2, or the other way round.
    isolated = ok(cloud, token, query + "&group_policy=isolate")
    assert allocations(isolated, seed) == 2 * [
        {"cn": {"VCPU": 1}, "pf1": {"SRIOV_NET_VF": 1}, "pf2": {"SRIOV_NET_VF": 1}}]
    assert {r["mappings"]["1"][0] for r in isolated["allocation_requests"]} == {
        seed.uuids["pf1"], seed.uuids["pf2"]}
    shared = allocations(ok(cloud, token, query + "&group_policy=none"), seed)
    assert {"cn": {"VCPU": 1}, "pf1": {"SRIOV_NET_VF": 2}} in shared
    assert {"cn": {"VCPU": 1}, "pf2": {"SRIOV_NET_VF": 2}} in shared
    assert len(shared) == 4


def test_required_forbidden_and_any_of_traits(cloud, token, seed):
    seed.provider("avx", inventory={"VCPU": 8}, traits=("HW_CPU_X86_AVX2",))
    seed.provider("sse", inventory={"VCPU": 8}, traits=("HW_CPU_X86_SSE42",))
    seed.provider("plain", inventory={"VCPU": 8})

    def names(query, version="1.39"):
        return sorted(n for r in allocations(ok(cloud, token, query, version), seed) for n in r)

    assert names("resources=VCPU:1&required=HW_CPU_X86_AVX2") == ["avx"]
    assert names("resources=VCPU:1&required=!HW_CPU_X86_AVX2") == ["plain", "sse"]
    assert names("resources=VCPU:1&required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE42") == \
        ["avx", "sse"]
    assert names("resources=VCPU:1&required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE42"
                 "&required=!HW_CPU_X86_SSE42") == ["avx"]
    # Traits appear in summaries from 1.17.
    body = ok(cloud, token, "resources=VCPU:1&required=HW_CPU_X86_AVX2", "1.17")
    assert body["provider_summaries"][seed.uuids["avx"]]["traits"] == ["HW_CPU_X86_AVX2"]
    assert "traits" not in ok(cloud, token, "resources=VCPU:1", "1.16")[
        "provider_summaries"][seed.uuids["avx"]]


def test_member_of_any_of_all_of_and_forbidden(cloud, token, seed):
    seed.provider("a", inventory={"VCPU": 8}, aggs=("x",))
    seed.provider("b", inventory={"VCPU": 8}, aggs=("y",))
    seed.provider("ab", inventory={"VCPU": 8}, aggs=("x", "y"))
    x, y = seed.aggs["x"], seed.aggs["y"]

    def names(query):
        return sorted(n for r in allocations(ok(cloud, token, query), seed) for n in r)

    assert names(f"resources=VCPU:1&member_of={x}") == ["a", "ab"]
    assert names(f"resources=VCPU:1&member_of=in:{x},{y}") == ["a", "ab", "b"]
    assert names(f"resources=VCPU:1&member_of={x}&member_of={y}") == ["ab"]
    assert names(f"resources=VCPU:1&member_of=!{y}") == ["a"]
    assert names(f"resources=VCPU:1&member_of={uuid.uuid4()}") == []


def test_limit_stops_early_and_trims_summaries(cloud, token, seed):
    for i in range(12):
        seed.provider(f"cn{i}", inventory=COMPUTE)
    body = ok(cloud, token, "resources=VCPU:1&limit=3")
    assert len(body["allocation_requests"]) == 3
    used = {u for r in body["allocation_requests"] for u in r["allocations"]}
    assert set(body["provider_summaries"]) == used
    assert len(ok(cloud, token, "resources=VCPU:1")["allocation_requests"]) == 12


def test_same_subtree_with_a_resourceless_group_and_root_required(cloud, token, seed):
    seed.provider("cn", inventory={"VCPU": 8}, traits=("CUSTOM_ROOT_OK",))
    seed.provider("numa0", parent="cn", traits=("CUSTOM_NUMA",))
    seed.provider("numa1", parent="cn", traits=("CUSTOM_NUMA",))
    seed.provider("pf0", parent="numa0", inventory={"SRIOV_NET_VF": 4})
    seed.provider("other", inventory={"VCPU": 8})
    query = ("resources=VCPU:1&resources_NET=SRIOV_NET_VF:1&required_NUMA=CUSTOM_NUMA"
             "&same_subtree=_NET,_NUMA&group_policy=none")
    body = ok(cloud, token, query)
    assert allocations(body, seed) == [{"cn": {"VCPU": 1}, "pf0": {"SRIOV_NET_VF": 1}}]
    assert body["allocation_requests"][0]["mappings"]["_NUMA"] == [seed.uuids["numa0"]]
    assert ok(cloud, token, "resources=VCPU:1&root_required=!CUSTOM_ROOT_OK")[
        "allocation_requests"][0]["allocations"].keys() == {seed.uuids["other"]}


def test_old_microversions_use_old_shapes(cloud, token, seed):
    seed.provider("cn", inventory={"VCPU": 8, "DISK_GB": 10})
    body = ok(cloud, token, "resources=VCPU:1", "1.10")
    assert body["allocation_requests"] == [{"allocations": [
        {"resource_provider": {"uuid": seed.uuids["cn"]}, "resources": {"VCPU": 1}}]}]
    # Before 1.27 summaries carry only the requested classes.
    assert body["provider_summaries"][seed.uuids["cn"]] == {
        "resources": {"VCPU": {"capacity": 8, "used": 0}}}
    assert "mappings" not in ok(cloud, token, "resources=VCPU:1", "1.33")[
        "allocation_requests"][0]
    assert get(cloud, token, "resources=VCPU:1", "1.9").status_code == 404


@pytest.mark.parametrize(("query", "version", "message", "code"), [
    ("", "1.39", "There must be at least one resources or resources[$S] parameter.",
     "placement.query.missing_value"),
    ("limit=2", "1.20", "'resources' is a required property", None),
    ("resources=VCPU", "1.39", "Badly formed resources parameter", None),
    ("resources=VCPU:0", "1.39", "requires amount >= 1", None),
    ("resources=VCPU:1&limit=0", "1.39", "Invalid query string parameters", None),
    ("resources=VCPU:1&limit=2", "1.15", "Additional properties are not allowed", None),
    ("resources=CUSTOM_NOPE:1", "1.39",
     "Invalid resource class in resources parameter: No such resource class CUSTOM_NOPE",
     None),
    ("resources=VCPU:1&required=CUSTOM_NOPE", "1.39", "No such trait(s): CUSTOM_NOPE", None),
    ("resources=VCPU:1&required=!HW_CPU_X86_AVX2", "1.21", "Expected 'required' parameter",
     None),
    ("resources=VCPU:1&required=in:HW_CPU_X86_AVX2", "1.38", "only supported since "
     "microversion 1.39", None),
    ("resources=VCPU:1&required=HW_CPU_X86_AVX2&required=!HW_CPU_X86_AVX2", "1.39",
     "Conflicting required and forbidden traits", None),
    ("resources1=VCPU:1&resources2=VCPU:1", "1.39", 'The "group_policy" parameter is required',
     None),
    ("resources=VCPU:1&member_of=nope", "1.39", "to contain valid UUID(s)", None),
    ("resources=VCPU:1&root_required=HW_CPU_X86_AVX2&root_required=HW_CPU_X86_SSE42", "1.39",
     "may be specified only once", "placement.query.duplicate_key"),
    ("resources=VCPU:1&same_subtree=_X", "1.39", "Real suffixes should be specified",
     "placement.query.bad_value"),
    ("resources=VCPU:1&required1=HW_CPU_X86_AVX2", "1.35", "orphaned traits keys: required1",
     None),
    ("resources_A=VCPU:1", "1.32", "'resources_A' does not match any of the regexes", None),
    ("resources=VCPU:1&in_tree=nope", "1.39", "'in_tree' parameter to be a format of uuid",
     None),
])
def test_bad_queries_get_400_with_placement_error_codes(cloud, token, seed, query, version,
                                                         message, code):
    resp = get(cloud, token, query, version)
    assert resp.status_code == 400, resp.text
    error = resp.json()["errors"][0]
    assert message in error["detail"]
    assert error["code"] == (code or "placement.undefined_code")


def test_resource_provider_list_filters_each_provider_on_its_own(cloud, token, seed):
    seed.provider("big", inventory={"VCPU": 16}, traits=("HW_CPU_X86_AVX2",), aggs=("x",))
    seed.provider("small", inventory={"VCPU": 2}, traits=("HW_CPU_X86_AVX2",), aggs=("x",))
    seed.provider("child", parent="big", inventory={"VCPU": 16})
    x = seed.aggs["x"]

    def names(query, version="1.39"):
        resp = requests.get(f"{cloud.url}/placement/resource_providers?{query}",
                            headers={"X-Auth-Token": token,
                                     "OpenStack-API-Version": f"placement {version}"})
        assert resp.status_code == 200, resp.text
        return sorted(p["name"] for p in resp.json()["resource_providers"])

    assert names("resources=VCPU:4") == ["big", "child"]
    assert names("resources=VCPU:4&required=HW_CPU_X86_AVX2") == ["big"]
    assert names("required=!HW_CPU_X86_AVX2") == ["child"]
    assert names(f"member_of={x}&resources=VCPU:1") == ["big", "small"]
    assert names(f"member_of=!{x}") == ["child"]
    resp = requests.get(f"{cloud.url}/placement/resource_providers?required=CUSTOM_NOPE",
                        headers={"X-Auth-Token": token,
                                 "OpenStack-API-Version": "placement 1.39"})
    assert resp.status_code == 400
    assert 'Invalid trait(s) in "required" parameter: No such trait(s): CUSTOM_NOPE.' in \
        resp.json()["errors"][0]["detail"]


def test_in_tree_limits_a_group_to_one_tree(cloud, token, seed):
    seed.provider("cn1", inventory={"VCPU": 8})
    seed.provider("cn2", inventory={"VCPU": 8})
    seed.provider("pf2", parent="cn2", inventory={"SRIOV_NET_VF": 8})
    body = ok(cloud, token, f"resources=VCPU:1&in_tree={seed.uuids['pf2']}")
    assert allocations(body, seed) == [{"cn2": {"VCPU": 1}}]
    body = ok(cloud, token, f"resources=VCPU:1&resources1=SRIOV_NET_VF:1"
                            f"&in_tree1={seed.uuids['cn1']}")
    assert body["allocation_requests"] == []
    assert ok(cloud, token, f"resources=VCPU:1&in_tree={uuid.uuid4()}")[
        "allocation_requests"] == []


def test_randomized_candidates_are_a_valid_sample(tmp_path):
    from harness import start_cloud, stop_cloud

    running = start_cloud(tmp_path, **{"placement.randomize_allocation_candidates": True})
    try:
        token = running.admin_token()
        seed = ApiSeed(f"{running.url}/placement", token)
        for i in range(30):
            seed.provider(f"cn{i}", inventory=COMPUTE)
        picks = set()
        for _ in range(5):
            body = ok(running, token, "resources=VCPU:1&limit=3")
            names = [n for r in allocations(body, seed) for n in r]
            assert len(names) == len(set(names)) == 3
            assert set(body["provider_summaries"]) == {seed.uuids[n] for n in names}
            picks.update(names)
        # Five samples of 3 out of 30 all from the first trees would not be random.
        assert len(picks) > 3
    finally:
        stop_cloud(running)


def test_amounts_of_a_class_asked_by_two_groups_add_up_exactly(cloud, token, seed):
    """OpenStack Placement 16.0.0 can return more than was asked here.

    Without group_policy=none it adds the groups' amounts in place into request objects
    that several candidates share, so later candidates carry the earlier sums too
    (bench/placement_candidates_diff.py finds such answers, e.g. MEMORY_MB 7 for 1 + 2).
    """
    seed.provider("cn", inventory={"SRIOV_NET_VF": 8})
    seed.provider("pf", parent="cn", inventory={"SRIOV_NET_VF": 8})
    seed.provider("mem", parent="cn", inventory={"MEMORY_MB": 16, "SRIOV_NET_VF": 8})
    body = ok(cloud, token, "resources=MEMORY_MB:1,SRIOV_NET_VF:2&resources1=MEMORY_MB:2")
    assert len(body["allocation_requests"]) == 3
    for request in body["allocation_requests"]:
        totals: dict[str, int] = {}
        for alloc in request["allocations"].values():
            for rc, amount in alloc["resources"].items():
                totals[rc] = totals.get(rc, 0) + amount
        assert totals == {"MEMORY_MB": 3, "SRIOV_NET_VF": 2}


def test_max_allocation_candidates_bounds_generation_below_any_limit(tmp_path):
    from placement_harness import start_placement, stop_placement

    from stratus import conf as stratus_conf

    conf = stratus_conf.load(None, {"state_dir": str(tmp_path),
                                    "placement.max_allocation_candidates": 3})
    running = start_placement(conf)
    try:
        seed = ApiSeed(running.url, "admin")
        seed.provider("cpu-only", inventory={"VCPU": 8})  # first in line, rarely fits
        for i in range(8):
            seed.provider(f"cn{i}", inventory=COMPUTE)

        def names(query: str) -> list[str]:
            resp = running.get(f"/allocation_candidates?{query}")
            assert resp.status_code == 200, resp.text
            body = resp.json()
            found = [n for r in allocations(body, seed) for n in r]
            assert set(body["provider_summaries"]) == {seed.uuids[n] for n in found}
            return found

        # Eight providers fit; the operator's bound stops generation at three, whether
        # the request has no limit or a larger one; a smaller limit still applies.
        assert len(names("resources=VCPU:2")) == 3
        assert len(names("resources=VCPU:2&limit=5")) == 3
        assert len(names("resources=VCPU:2&limit=2")) == 2
        # The bound counts candidates, not providers looked at: one that does not fit
        # uses none of it.
        assert "cpu-only" not in names("resources=VCPU:1,MEMORY_MB:1")
        assert len(names("resources=VCPU:1,MEMORY_MB:1")) == 3
        assert "cpu-only" in names("resources=VCPU:1")
    finally:
        stop_placement(running)


def test_max_allocation_candidates_refuses_values_below_minus_one(tmp_path):
    from stratus import conf as stratus_conf

    with pytest.raises(ValueError):
        stratus_conf.load(None, {"state_dir": str(tmp_path),
                                 "placement.max_allocation_candidates": -2})
