"""The compute side's Placement client against our Placement served over real HTTP."""

from __future__ import annotations

import argparse
import threading
import uuid

import pytest
import requests
from harness import free_port
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint
from placement_harness import start_placement, stop_placement

from stratus import conf as stratus_conf
from stratus.scheduler import report
from stratus.scheduler.report import InventoryInUse, PlacementClient, PlacementError


@pytest.fixture(scope="module")
def placement(tmp_path_factory):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path_factory.mktemp("placement"))})
    running = start_placement(conf)
    yield running
    stop_placement(running)


@pytest.fixture
def racing_placement(backend_conf):
    """A placement of its own on each database backend, for the races."""
    running = start_placement(backend_conf, threads=8)
    yield running
    stop_placement(running)


def client_for(placement, http: requests.Session | None = None) -> PlacementClient:
    session = ksa_session.Session(auth=token_endpoint.Token(placement.url, "admin"),
                                  session=http)
    return PlacementClient(session, endpoint=placement.url)


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def responses_seen(http: requests.Session) -> list[tuple[str, int]]:
    """Record (method, status) of every response ``http`` receives."""
    seen: list[tuple[str, int]] = []
    http.hooks["response"].append(
        lambda resp, **_: seen.append((resp.request.method, resp.status_code)))
    return seen


def test_ensure_provider_creates_once_and_returns_the_generation(placement):
    client = client_for(placement)
    root, child, name = new_uuid(), new_uuid(), new_name("cn1")
    assert client.ensure_provider(root, name) == 0
    assert client.ensure_provider(child, f"{name}-numa0", parent_uuid=root) == 0
    client.set_inventory(root, {"VCPU": {"total": 8}})
    assert client.ensure_provider(root, name) == 1
    body = placement.get(f"/resource_providers/{child}").json()
    assert body["parent_provider_uuid"] == root and body["name"] == f"{name}-numa0"
    # A name taken by another provider is the caller's problem, reported with its code.
    with pytest.raises(PlacementError) as err:
        client.ensure_provider(new_uuid(), name)
    assert err.value.status == 409 and err.value.code == "placement.duplicate_name"


def test_set_inventory_writes_and_skips_a_write_that_changes_nothing(placement):
    client = client_for(placement)
    rp = new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    wanted = {"VCPU": {"total": 8, "allocation_ratio": 4.0},
              "MEMORY_MB": {"total": 4096, "reserved": 512}}
    client.set_inventory(rp, wanted)
    stored = placement.get(f"/resource_providers/{rp}/inventories").json()
    assert stored["inventories"]["VCPU"]["allocation_ratio"] == 4.0
    assert stored["inventories"]["MEMORY_MB"]["reserved"] == 512
    generation = stored["resource_provider_generation"]
    client.set_inventory(rp, wanted)
    assert client.get_provider(rp)["generation"] == generation
    assert client.get_inventory(rp)["VCPU"]["total"] == 8


def test_set_inventory_rereads_and_retries_when_another_writer_bumps_the_generation(
        placement):
    """The other writer lands between our read and our write: our PUT gets 409, we re-read
    the new generation and write again; both writers' changes survive."""
    rp = new_uuid()
    other = client_for(placement)
    other.ensure_provider(rp, new_name("cn1"))
    http = requests.Session()
    seen = responses_seen(http)
    interfered = []

    def interfere(resp, **_):
        if resp.request.method == "GET" and "/inventories" in resp.url and not interfered:
            interfered.append(True)
            other.set_traits(rp, ["CUSTOM_RACK_7"])

    http.hooks["response"].append(interfere)
    client_for(placement, http).set_inventory(rp, {"VCPU": {"total": 16}})
    assert ("PUT", 409) in seen and seen[-1] == ("PUT", 200)
    assert other.get_inventory(rp)["VCPU"]["total"] == 16
    assert other.get_traits(rp) == {"CUSTOM_RACK_7"}


def test_two_concurrent_writers_both_land_every_change(racing_placement):
    """Two threads rewrite one provider's inventory, traits and aggregates as fast as they
    can; every call succeeds (conflicts are retried) and the last writes are what stays."""
    rp = new_uuid()
    client_for(racing_placement).ensure_provider(rp, new_name("cn1"))
    rounds = 15
    barrier = threading.Barrier(2)
    conflicts: list[int] = []
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        http = requests.Session()
        seen = responses_seen(http)
        client = client_for(racing_placement, http)
        barrier.wait()
        try:
            for i in range(rounds):
                client.set_inventory(rp, {"VCPU": {"total": 100 * n + i + 1}})
                client.set_traits(rp, [f"CUSTOM_W{n}_{i}"])
                client.set_aggregates(rp, [str(uuid.UUID(int=n * 1000 + i))])
        except BaseException as exc:  # reported below
            failures.append(exc)
        conflicts.append(sum(1 for _, status in seen if status == 409))

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert sum(conflicts) > 0, "the writers never raced; the test proved nothing"
    client = client_for(racing_placement)
    total = client.get_inventory(rp)["VCPU"]["total"]
    assert total in (100 + rounds, 200 + rounds)
    assert client.get_traits(rp) <= {f"CUSTOM_W{n}_{rounds - 1}" for n in (1, 2)}
    assert len(client.get_aggregates(rp)) == 1


def test_removing_a_class_that_has_allocations_raises_inventory_in_use(placement):
    client = client_for(placement)
    rp = new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    client.set_inventory(rp, {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 1024}})
    assert client.claim(new_uuid(), {rp: {"resources": {"VCPU": 1, "MEMORY_MB": 128}}},
                        "p1", "u1")
    with pytest.raises(InventoryInUse) as err:
        client.set_inventory(rp, {"VCPU": {"total": 4}})
    assert err.value.status == 409 and err.value.code == "placement.inventory.inuse"
    assert set(client.get_inventory(rp)) == {"VCPU", "MEMORY_MB"}


def test_set_traits_creates_custom_traits_and_replaces_the_set(placement):
    client = client_for(placement)
    rp = new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    client.set_traits(rp, ["HW_CPU_X86_AVX2", "CUSTOM_GOLD", "COMPUTE_NET_VIRTIO_PACKED"])
    assert placement.get("/traits/CUSTOM_GOLD").status_code == 204
    assert client.get_traits(rp) == {"HW_CPU_X86_AVX2", "CUSTOM_GOLD",
                                     "COMPUTE_NET_VIRTIO_PACKED"}
    client.set_traits(rp, ["CUSTOM_SILVER"])
    assert client.get_traits(rp) == {"CUSTOM_SILVER"}
    with pytest.raises(PlacementError) as err:
        client.set_traits(rp, ["NOT_A_STANDARD_TRAIT"])
    assert err.value.status == 400
    assert client.get_traits(rp) == {"CUSTOM_SILVER"}


def test_set_aggregates_replaces_membership(placement):
    client = client_for(placement)
    rp, agg1, agg2 = new_uuid(), new_uuid(), new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    client.set_aggregates(rp, [agg1, agg2])
    assert client.get_aggregates(rp) == {agg1, agg2}
    client.set_aggregates(rp, [agg2])
    assert client.get_aggregates(rp) == {agg2}


def test_claim_writes_once_and_refuses_what_does_not_fit(placement):
    client = client_for(placement)
    rp = new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    client.set_inventory(rp, {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048}})
    body = client.get_allocation_candidates([("resources", "VCPU:2,MEMORY_MB:512"),
                                             ("in_tree", rp)])
    (request,) = body["allocation_requests"]
    assert body["provider_summaries"][rp]["resources"]["VCPU"]["capacity"] == 4
    first, second, third = new_uuid(), new_uuid(), new_uuid()
    assert client.claim(first, request, "p1", "u1") is True
    assert client.claim(second, request, "p1", "u1") is True
    # Capacity used up: False, nothing written.
    assert client.claim(third, request, "p1", "u1") is False
    assert client.get_allocations(third)["allocations"] == {}
    assert client.provider_usages(rp) == {"VCPU": 4, "MEMORY_MB": 1024}
    held = client.get_allocations(first)
    assert held["consumer_generation"] == 1 and held["project_id"] == "p1"
    # A consumer that exists cannot be claimed as new (generation None): False.
    assert client.claim(first, {rp: {"resources": {"VCPU": 1}}}, "p1", "u1") is False
    # With its generation, the consumer's allocation is replaced.
    assert client.claim(first, {rp: {"resources": {"VCPU": 1}}}, "p1", "u1",
                        consumer_generation=1) is True
    assert client.provider_usages(rp) == {"VCPU": 3, "MEMORY_MB": 512}
    assert set(client.provider_allocations(rp)) == {first, second}


def test_claims_racing_for_one_host_never_overcommit(racing_placement):
    client = client_for(racing_placement)
    rp = new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    client.set_inventory(rp, {"VCPU": {"total": 5}})
    consumers = [new_uuid() for _ in range(12)]
    barrier = threading.Barrier(len(consumers))
    results: dict[str, bool] = {}

    def claim(consumer: str) -> None:
        mine = client_for(racing_placement)
        barrier.wait()
        results[consumer] = mine.claim(consumer, {rp: {"resources": {"VCPU": 1}}}, "p", "u")

    threads = [threading.Thread(target=claim, args=(c,)) for c in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(results.values()) == 5
    assert client.provider_usages(rp) == {"VCPU": 5}
    assert {c for c, won in results.items() if won} == set(client.provider_allocations(rp))


def test_delete_allocations_and_providers_tolerate_missing_ones(placement):
    client = client_for(placement)
    rp, consumer = new_uuid(), new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    client.set_inventory(rp, {"VCPU": {"total": 4}})
    assert client.claim(consumer, {rp: {"resources": {"VCPU": 2}}}, "p", "u")
    with pytest.raises(PlacementError) as err:
        client.delete_provider(rp)
    assert err.value.status == 409
    client.delete_allocations(consumer)
    client.delete_allocations(consumer)
    assert client.provider_usages(rp) == {"VCPU": 0}
    client.delete_provider(rp)
    client.delete_provider(rp)
    assert client.get_provider(rp) is None


def test_move_allocations_hands_the_whole_allocation_to_the_target(placement):
    client = client_for(placement)
    rp, instance, migration = new_uuid(), new_uuid(), new_uuid()
    client.ensure_provider(rp, new_name("cn1"))
    client.set_inventory(rp, {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 1024}})
    assert client.claim(instance, {rp: {"resources": {"VCPU": 2, "MEMORY_MB": 256}}},
                        "p", "u")
    assert client.move_allocations(instance, migration) is True
    assert client.get_allocations(instance)["allocations"] == {}
    moved = client.get_allocations(migration)
    assert moved["allocations"][rp]["resources"] == {"VCPU": 2, "MEMORY_MB": 256}
    assert moved["project_id"] == "p" and moved["user_id"] == "u"
    assert client.provider_usages(rp) == {"VCPU": 2, "MEMORY_MB": 256}
    # And back again (a revert), onto a consumer that no longer exists.
    assert client.move_allocations(migration, instance) is True
    assert set(client.provider_allocations(rp)) == {instance}


def test_bad_allocation_candidates_query_is_a_placement_error(placement):
    with pytest.raises(PlacementError) as err:
        client_for(placement).get_allocation_candidates([("resources", "VCPU:-1")])
    assert err.value.status == 400


def test_nothing_listening_is_placement_unavailable():
    url = f"http://127.0.0.1:{free_port()}/placement"
    client = PlacementClient(ksa_session.Session(auth=token_endpoint.Token(url, "admin")),
                             endpoint=url)
    with pytest.raises(report.PlacementUnavailable):
        client.get_provider(new_uuid())


def test_from_conf_with_a_token_plugin_and_endpoint_override(placement, tmp_path):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path)})
    report.configure_auth(conf, "admin_token", endpoint=placement.url, token="admin")
    conf.set_override("endpoint_override", placement.url, group="placement")
    client = PlacementClient.from_conf(conf)
    rp = new_uuid()
    name = new_name("from-conf")
    assert client.ensure_provider(rp, name) == 0
    assert placement.get(f"/resource_providers/{rp}").json()["name"] == name


def test_from_conf_without_auth_type_says_what_is_missing(tmp_path):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path)})
    with pytest.raises(PlacementError, match="auth_type"):
        PlacementClient.from_conf(conf)


def test_from_conf_with_a_password_finds_placement_in_the_catalog(cloud):
    """Credentials as an operator writes them; the endpoint comes from the token's catalog."""
    conf_path = cloud.conf.state_dir + "/placement-client.conf"
    with open(conf_path, "w") as fh:
        fh.write(f"[placement]\nauth_type = password\nauth_url = {cloud.identity}\n"
                 f"username = {cloud.admin.username}\npassword = {cloud.admin.password}\n"
                 f"project_name = {cloud.admin.project_name}\nuser_domain_name = Default\n"
                 "project_domain_name = Default\nvalid_interfaces = public\n")
    conf = stratus_conf.load(argparse.Namespace(config_file=[conf_path], config_dir=None,
                                                state_dir=cloud.conf.state_dir, debug=None))
    client = PlacementClient.from_conf(conf)
    rp = new_uuid()
    client.ensure_provider(rp, new_name("catalogued"))
    client.set_inventory(rp, {"VCPU": {"total": 2}})
    token = cloud.admin_token()
    shown = requests.get(f"{cloud.url}/placement/resource_providers/{rp}/inventories",
                         headers={"X-Auth-Token": token})
    assert shown.json()["inventories"]["VCPU"]["total"] == 2
