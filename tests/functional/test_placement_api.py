"""The placement API through HTTP: providers and trees, inventories, classes, traits,
aggregates, allocations, usages and the reshaper, microversion by microversion."""

from __future__ import annotations

import uuid

import pytest
from placement_harness import start_placement, stop_placement

from stratus import conf as stratus_conf


@pytest.fixture(scope="module")
def placement(tmp_path_factory):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path_factory.mktemp("placement"))})
    running = start_placement(conf)
    yield running
    stop_placement(running)


def new_name() -> str:
    return f"rp-{uuid.uuid4().hex[:12]}"


def error_code(resp) -> str:
    return resp.json()["errors"][0]["code"]


# --- versions -------------------------------------------------------------------------

def test_root_document_names_the_supported_range(placement):
    resp = placement.get("/", token="", version=None)
    assert resp.status_code == 200
    (doc,) = resp.json()["versions"]
    assert (doc["min_version"], doc["max_version"], doc["status"]) == ("1.0", "1.39",
                                                                       "CURRENT")


def test_out_of_range_microversion_is_406_with_bounds(placement):
    resp = placement.get("/resource_providers", version="placement 1.40")
    assert resp.status_code == 406
    err = resp.json()["errors"][0]
    assert (err["min_version"], err["max_version"]) == ("1.0", "1.39")


def test_system_scoped_and_unprivileged_callers_are_forbidden(placement):
    assert placement.get("/resource_providers", token="user").status_code == 403
    system = {"X-Roles": "admin", "OpenStack-System-Scope": "all"}
    assert placement.get("/resource_providers", headers=system).status_code == 403
    assert placement.get("/resource_providers", headers={"X-Roles": "service"}
                         ).status_code == 200


def test_project_reader_sees_only_its_own_usages(placement):
    reader = {"X-Roles": "reader", "X-Project-Id": "proj-a"}
    assert placement.get("/usages", params={"project_id": "proj-a"}, token="user",
                         headers=reader).status_code == 200
    assert placement.get("/usages", params={"project_id": "proj-b"}, token="user",
                         headers=reader).status_code == 403


def test_garbled_microversion_is_400(placement):
    assert placement.get("/resource_providers", version="placement 1.a").status_code == 400


def test_last_modified_and_cache_control_from_1_15(placement):
    uuid_ = placement.provider(new_name())
    old = placement.get(f"/resource_providers/{uuid_}", version="placement 1.14")
    new = placement.get(f"/resource_providers/{uuid_}", version="placement 1.15")
    assert "last-modified" not in old.headers and "cache-control" not in old.headers
    assert new.headers["cache-control"] == "no-cache" and new.headers["last-modified"]


def test_unknown_method_is_405_with_allow(placement):
    resp = placement.request("PATCH", "/resource_providers")
    assert resp.status_code == 405
    assert set(resp.headers["allow"].split(", ")) == {"GET", "POST"}


def test_method_before_its_microversion_is_404(placement):
    assert placement.get("/traits", version="placement 1.5").status_code == 404
    assert placement.get("/traits", version="placement 1.6").status_code == 200


# --- providers and trees -------------------------------------------------------------

def test_create_provider_201_before_1_20_and_200_with_body_after(placement):
    old = placement.post("/resource_providers", {"name": new_name()},
                         version="placement 1.19")
    assert old.status_code == 201 and old.text == ""
    assert old.headers["location"].startswith("http://")
    new = placement.post("/resource_providers", {"name": new_name()})
    assert new.status_code == 200 and new.json()["generation"] == 0


def test_duplicate_name_or_uuid_is_409_duplicate_name(placement):
    name = new_name()
    uuid_ = placement.provider(name)
    for body in ({"name": name}, {"name": new_name(), "uuid": uuid_}):
        resp = placement.post("/resource_providers", body)
        assert resp.status_code == 409 and error_code(resp) == "placement.duplicate_name"


def test_child_provider_reports_parent_and_root(placement):
    root = placement.provider(new_name())
    child = placement.provider(new_name(), parent=root)
    grandchild = placement.provider(new_name(), parent=child)
    body = placement.get(f"/resource_providers/{grandchild}").json()
    assert (body["parent_provider_uuid"], body["root_provider_uuid"]) == (child, root)
    tree = placement.get("/resource_providers", params={"in_tree": grandchild}).json()
    assert {p["uuid"] for p in tree["resource_providers"]} == {root, child, grandchild}


def test_parent_must_exist(placement):
    resp = placement.post("/resource_providers", {"name": new_name(),
                                                  "parent_provider_uuid": str(uuid.uuid4())})
    assert resp.status_code == 400


def test_reparenting_needs_1_37_and_moves_the_whole_subtree(placement):
    root_a, root_b = placement.provider(new_name()), placement.provider(new_name())
    child = placement.provider(new_name(), parent=root_a)
    leaf = placement.provider(new_name(), parent=child)
    name = placement.get(f"/resource_providers/{child}").json()["name"]
    body = {"name": name, "parent_provider_uuid": root_b}
    refused = placement.put(f"/resource_providers/{child}", body, version="placement 1.36")
    assert refused.status_code == 400
    moved = placement.put(f"/resource_providers/{child}", body, version="placement 1.37")
    assert moved.status_code == 200
    assert placement.get(f"/resource_providers/{leaf}").json()["root_provider_uuid"] == root_b
    loop = placement.put(f"/resource_providers/{root_b}",
                         {"name": placement.get(f"/resource_providers/{root_b}").json()["name"],
                          "parent_provider_uuid": leaf})
    assert loop.status_code == 400
    unparent = placement.put(f"/resource_providers/{child}",
                             {"name": name, "parent_provider_uuid": None})
    assert unparent.status_code == 200
    assert placement.get(f"/resource_providers/{leaf}").json()["root_provider_uuid"] == child


def test_a_root_may_be_given_a_parent_before_1_37(placement):
    root, orphan = placement.provider(new_name()), placement.provider(new_name())
    name = placement.get(f"/resource_providers/{orphan}").json()["name"]
    resp = placement.put(f"/resource_providers/{orphan}",
                         {"name": name, "parent_provider_uuid": root},
                         version="placement 1.14")
    assert resp.status_code == 200 and resp.json()["root_provider_uuid"] == root


def test_parent_with_children_cannot_be_deleted(placement):
    root = placement.provider(new_name())
    child = placement.provider(new_name(), parent=root)
    resp = placement.delete(f"/resource_providers/{root}")
    assert resp.status_code == 409
    assert error_code(resp) == "placement.resource_provider.cannot_delete_parent"
    assert placement.delete(f"/resource_providers/{child}").status_code == 204
    assert placement.delete(f"/resource_providers/{root}").status_code == 204
    assert placement.get(f"/resource_providers/{root}").status_code == 404


# --- inventories ---------------------------------------------------------------------

def test_inventory_generation_conflict_is_409_concurrent_update(placement):
    rp = placement.provider(new_name())
    body = {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4}}}
    assert placement.put(f"/resource_providers/{rp}/inventories", body).status_code == 200
    stale = placement.put(f"/resource_providers/{rp}/inventories", body)
    assert stale.status_code == 409 and error_code(stale) == "placement.concurrent_update"


def test_inventory_defaults_and_single_class_endpoints(placement):
    rp = placement.provider(new_name())
    created = placement.post(f"/resource_providers/{rp}/inventories",
                             {"resource_class": "DISK_GB", "total": 100, "reserved": 10})
    assert created.status_code == 201
    assert created.json() == {"total": 100, "reserved": 10, "min_unit": 1,
                              "max_unit": 2147483647, "step_size": 1,
                              "allocation_ratio": 1.0, "resource_provider_generation": 1}
    updated = placement.put(f"/resource_providers/{rp}/inventories/DISK_GB",
                            {"resource_provider_generation": 1, "total": 200})
    assert updated.status_code == 200 and updated.json()["reserved"] == 0
    assert placement.delete(f"/resource_providers/{rp}/inventories/DISK_GB").status_code == 204
    assert placement.get(f"/resource_providers/{rp}/inventories/DISK_GB").status_code == 404


def test_reserved_equal_to_total_allowed_from_1_26(placement):
    rp = placement.provider(new_name())
    body = {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4,
                                                                        "reserved": 4}}}
    old = placement.put(f"/resource_providers/{rp}/inventories", body,
                        version="placement 1.25")
    assert old.status_code == 400
    assert placement.put(f"/resource_providers/{rp}/inventories", body).status_code == 200


def test_removing_inventory_in_use_is_409_inventory_inuse(placement):
    rp = placement.provider(new_name(), VCPU=4, DISK_GB=10)
    assert placement.allocate(str(uuid.uuid4()), {rp: {"VCPU": 1}}).status_code == 204
    gen = placement.get(f"/resource_providers/{rp}").json()["generation"]
    resp = placement.put(f"/resource_providers/{rp}/inventories",
                         {"resource_provider_generation": gen,
                          "inventories": {"DISK_GB": {"total": 10}}})
    assert resp.status_code == 409 and error_code(resp) == "placement.inventory.inuse"
    assert set(placement.get(f"/resource_providers/{rp}/inventories")
               .json()["inventories"]) == {"VCPU", "DISK_GB"}


# --- resource classes, traits, aggregates ---------------------------------------------

def test_custom_resource_class_lifecycle(placement):
    assert placement.put("/resource_classes/CUSTOM_GOLD").status_code == 201
    assert placement.put("/resource_classes/CUSTOM_GOLD").status_code == 204
    assert placement.put("/resource_classes/VCPU").status_code == 400
    names = [rc["name"] for rc in placement.get("/resource_classes").json()
             ["resource_classes"]]
    assert names[0] == "VCPU" and "CUSTOM_GOLD" in names
    renamed = placement.put("/resource_classes/CUSTOM_GOLD", {"name": "CUSTOM_SILVER"},
                            version="placement 1.6")
    assert renamed.status_code == 200 and renamed.json()["name"] == "CUSTOM_SILVER"
    rp = placement.provider(new_name(), CUSTOM_SILVER=1)
    assert placement.delete("/resource_classes/CUSTOM_SILVER").status_code == 409
    assert placement.delete(f"/resource_providers/{rp}").status_code == 204
    assert placement.delete("/resource_classes/CUSTOM_SILVER").status_code == 204
    assert placement.delete("/resource_classes/VCPU").status_code == 400


def test_traits_filters_and_provider_traits(placement):
    assert placement.put("/traits/CUSTOM_FAST_DISK").status_code == 201
    assert placement.put("/traits/NOT_CUSTOM").status_code == 400
    rp = placement.provider(new_name())
    resp = placement.put(f"/resource_providers/{rp}/traits",
                         {"resource_provider_generation": 0,
                          "traits": ["CUSTOM_FAST_DISK", "HW_CPU_X86_AVX2"]})
    assert resp.status_code == 200 and resp.json()["resource_provider_generation"] == 1
    listed = placement.get("/traits", params={"name": "in:CUSTOM_FAST_DISK,HW_CPU_X86_AVX2",
                                              "associated": "true"}).json()["traits"]
    assert listed == ["CUSTOM_FAST_DISK", "HW_CPU_X86_AVX2"]
    assert "HW_CPU_X86_SSE" in placement.get("/traits", params={
        "name": "startswith:HW_CPU_X86_SSE"}).json()["traits"]
    assert placement.delete("/traits/CUSTOM_FAST_DISK").status_code == 409
    unknown = placement.put(f"/resource_providers/{rp}/traits",
                            {"resource_provider_generation": 1, "traits": ["CUSTOM_NOPE"]})
    assert unknown.status_code == 400
    assert placement.delete(f"/resource_providers/{rp}/traits").status_code == 204
    assert placement.delete("/traits/CUSTOM_FAST_DISK").status_code == 204


def test_aggregates_generations_from_1_19(placement):
    rp = placement.provider(new_name())
    agg = str(uuid.uuid4())
    old = placement.put(f"/resource_providers/{rp}/aggregates", [agg],
                        version="placement 1.18")
    assert old.status_code == 200 and old.json() == {"aggregates": [agg]}
    assert placement.get(f"/resource_providers/{rp}").json()["generation"] == 0
    new = placement.put(f"/resource_providers/{rp}/aggregates",
                        {"aggregates": [], "resource_provider_generation": 0})
    assert new.json() == {"aggregates": [], "resource_provider_generation": 1}
    stale = placement.put(f"/resource_providers/{rp}/aggregates",
                          {"aggregates": [agg], "resource_provider_generation": 0})
    assert stale.status_code == 409 and error_code(stale) == "placement.concurrent_update"


# --- allocations and usages -----------------------------------------------------------

def test_capacity_is_total_minus_reserved_times_ratio(placement):
    rp = placement.provider(new_name())
    placement.set_inventory(rp, {"VCPU": {"total": 4, "reserved": 1,
                                          "allocation_ratio": 2.0}})
    assert placement.allocate(str(uuid.uuid4()), {rp: {"VCPU": 6}}).status_code == 204
    over = placement.allocate(str(uuid.uuid4()), {rp: {"VCPU": 1}})
    assert over.status_code == 409 and "exceed the capacity" in over.text


def test_min_max_step_enforced(placement):
    rp = placement.provider(new_name())
    placement.set_inventory(rp, {"MEMORY_MB": {"total": 4096, "min_unit": 256,
                                               "max_unit": 2048, "step_size": 256}})
    for amount in (128, 4096, 300):
        assert placement.allocate(str(uuid.uuid4()), {rp: {"MEMORY_MB": amount}}
                                  ).status_code == 409
    assert placement.allocate(str(uuid.uuid4()), {rp: {"MEMORY_MB": 512}}).status_code == 204


def test_consumer_generations_from_1_28(placement):
    rp = placement.provider(new_name(), VCPU=8)
    consumer = str(uuid.uuid4())
    assert placement.allocate(consumer, {rp: {"VCPU": 1}}).status_code == 204
    stale = placement.allocate(consumer, {rp: {"VCPU": 2}}, generation=None)
    assert stale.status_code == 409 and error_code(stale) == "placement.concurrent_update"
    assert placement.allocate(consumer, {rp: {"VCPU": 2}}, generation=1).status_code == 204
    body = placement.get(f"/allocations/{consumer}").json()
    assert body["consumer_generation"] == 2 and body["consumer_type"] == "INSTANCE"
    assert body["allocations"][rp]["resources"] == {"VCPU": 2}


def test_post_allocations_moves_a_consumer_atomically(placement):
    src, dst = placement.provider(new_name(), VCPU=4), placement.provider(new_name(), VCPU=4)
    instance, migration = str(uuid.uuid4()), str(uuid.uuid4())
    assert placement.allocate(instance, {src: {"VCPU": 3}}).status_code == 204

    def entry(rp, generation):
        return {"allocations": {rp: {"resources": {"VCPU": 3}}}, "project_id": "p1",
                "user_id": "u1", "consumer_generation": generation,
                "consumer_type": "MIGRATION"}

    assert placement.post("/allocations", {migration: entry(src, None),
                                           instance: entry(dst, 1)}).status_code == 204
    assert placement.get(f"/resource_providers/{src}/allocations").json()["allocations"] \
        == {migration: {"resources": {"VCPU": 3}, "consumer_generation": 1}}
    # Too much for dst: nothing of the request is written.
    resp = placement.post("/allocations", {str(uuid.uuid4()): entry(dst, None),
                                           migration: {**entry(src, 1), "allocations": {}}})
    assert resp.status_code == 409
    assert placement.get(f"/allocations/{migration}").json()["allocations"]


def test_usages_by_provider_project_and_consumer_type(placement):
    rp = placement.provider(new_name(), VCPU=8, MEMORY_MB=1024)
    project = str(uuid.uuid4())
    placement.allocate(str(uuid.uuid4()), {rp: {"VCPU": 2}}, project=project)
    placement.allocate(str(uuid.uuid4()), {rp: {"VCPU": 1, "MEMORY_MB": 64}},
                       project=project, consumer_type="MIGRATION")
    assert placement.get(f"/resource_providers/{rp}/usages").json()["usages"] == \
        {"VCPU": 3, "MEMORY_MB": 64}
    assert placement.get("/usages", params={"project_id": project},
                         version="placement 1.37").json()["usages"] == \
        {"VCPU": 3, "MEMORY_MB": 64}
    assert placement.get("/usages", params={"project_id": project}).json()["usages"] == {
        "INSTANCE": {"VCPU": 2, "consumer_count": 1},
        "MIGRATION": {"VCPU": 1, "MEMORY_MB": 64, "consumer_count": 1}}
    assert placement.get("/usages", params={"project_id": project, "consumer_type": "all"}
                         ).json()["usages"] == {"all": {"VCPU": 3, "MEMORY_MB": 64,
                                                        "consumer_count": 2}}


def test_delete_allocations_then_404(placement):
    rp = placement.provider(new_name(), VCPU=8)
    consumer = str(uuid.uuid4())
    placement.allocate(consumer, {rp: {"VCPU": 1}})
    assert placement.delete(f"/allocations/{consumer}").status_code == 204
    assert placement.delete(f"/allocations/{consumer}").status_code == 404
    assert placement.get(f"/allocations/{consumer}").json() == {"allocations": {}}


def test_provider_with_allocations_cannot_be_deleted(placement):
    rp = placement.provider(new_name(), VCPU=8)
    placement.allocate(str(uuid.uuid4()), {rp: {"VCPU": 1}})
    resp = placement.delete(f"/resource_providers/{rp}")
    assert resp.status_code == 409 and error_code(resp) == "placement.resource_provider.inuse"


def test_reshaper_moves_inventory_and_allocations_to_a_child(placement):
    root = placement.provider(new_name(), VGPU=4)
    child = placement.provider(new_name(), parent=root)
    consumer = str(uuid.uuid4())
    assert placement.allocate(consumer, {root: {"VGPU": 2}}).status_code == 204
    root_gen = placement.get(f"/resource_providers/{root}").json()["generation"]
    body = {"inventories": {
        root: {"resource_provider_generation": root_gen, "inventories": {}},
        child: {"resource_provider_generation": 0, "inventories": {"VGPU": {"total": 4}}}},
        "allocations": {consumer: {
            "allocations": {child: {"resources": {"VGPU": 2}}}, "project_id": "p1",
            "user_id": "u1", "consumer_generation": 1, "consumer_type": "INSTANCE"}}}
    service = {"X-Roles": "service"}
    assert placement.post("/reshaper", body, headers=service,
                          version="placement 1.29").status_code == 404
    # The reshaper is for services (nova), not for administrators, by default.
    assert placement.post("/reshaper", body).status_code == 403
    assert placement.post("/reshaper", body, headers=service).status_code == 204
    assert placement.get(f"/resource_providers/{root}/inventories").json()["inventories"] == {}
    assert placement.get(f"/allocations/{consumer}").json()["allocations"][child][
        "resources"] == {"VGPU": 2}
