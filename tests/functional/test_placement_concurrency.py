"""Concurrent writers never over-commit a provider, on SQLite, PostgreSQL and MySQL."""

from __future__ import annotations

import threading
import uuid

import pytest
from placement_harness import start_placement, stop_placement

THREADS = 16


@pytest.fixture
def placement(backend_conf):
    running = start_placement(backend_conf, threads=THREADS)
    yield running
    stop_placement(running)


def test_sixteen_threads_racing_for_the_last_units_never_exceed_capacity(placement):
    """16 claimers of 2 VCPU each race for 10 free VCPU: 5 win, 11 get 409, usage is 10."""
    rp = placement.provider("racer", VCPU=12)
    assert placement.allocate(str(uuid.uuid4()), {rp: {"VCPU": 2}}).status_code == 204
    barrier = threading.Barrier(THREADS)
    results: dict[str, int] = {}
    lock = threading.Lock()

    def claim() -> None:
        consumer = str(uuid.uuid4())
        client = placement.fresh()
        barrier.wait()
        status = client.allocate(consumer, {rp: {"VCPU": 2}}).status_code
        with lock:
            results[consumer] = status

    threads = [threading.Thread(target=claim) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(results.values())
    assert set(statuses) <= {204, 409}, statuses
    winners = [c for c, s in results.items() if s == 204]
    usage = placement.get(f"/resource_providers/{rp}/usages").json()["usages"]["VCPU"]
    assert usage <= 12
    assert usage == 2 + 2 * len(winners)
    # Losers wrote nothing and can retry until the provider is full.
    losers = [c for c, s in results.items() if s == 409]
    assert all(placement.get(f"/allocations/{c}").json()["allocations"] == {} for c in losers)
    for consumer in losers:
        if placement.allocate(consumer, {rp: {"VCPU": 2}}).status_code == 204:
            winners.append(consumer)
    assert len(winners) == 5
    allocations = placement.get(f"/resource_providers/{rp}/allocations").json()["allocations"]
    assert sum(a["resources"]["VCPU"] for a in allocations.values()) == 12


def test_storage_round_trip_on_every_backend(placement):
    """Create a tree, inventories, traits, aggregates and allocations; read them back."""
    root = placement.provider("cn1", VCPU=8, MEMORY_MB=4096)
    child = placement.provider("numa0", parent=root)
    assert placement.put("/traits/CUSTOM_RACK_1").status_code == 201
    assert placement.put(f"/resource_providers/{root}/traits", {
        "resource_provider_generation": 0, "traits": ["CUSTOM_RACK_1"]}).status_code == 409
    assert placement.put("/resource_classes/CUSTOM_PMEM").status_code in (201, 204)
    placement.set_inventory(child, {"CUSTOM_PMEM": {"total": 2}})
    gen = placement.get(f"/resource_providers/{root}").json()["generation"]
    assert placement.put(f"/resource_providers/{root}/traits", {
        "resource_provider_generation": gen, "traits": ["CUSTOM_RACK_1"]}).status_code == 200
    agg = str(uuid.uuid4())
    assert placement.put(f"/resource_providers/{root}/aggregates", {
        "resource_provider_generation": gen + 1, "aggregates": [agg]}).status_code == 200
    consumer = str(uuid.uuid4())
    assert placement.allocate(consumer, {root: {"VCPU": 2, "MEMORY_MB": 512},
                                         child: {"CUSTOM_PMEM": 1}}).status_code == 204
    body = placement.get(f"/allocations/{consumer}").json()
    assert body["allocations"][root]["resources"] == {"VCPU": 2, "MEMORY_MB": 512}
    assert body["allocations"][child]["resources"] == {"CUSTOM_PMEM": 1}
    assert placement.get(f"/resource_providers/{root}/aggregates").json()["aggregates"] == [agg]
    usages = placement.get("/usages", params={"project_id": "p1"}).json()["usages"]
    assert usages == {"INSTANCE": {"VCPU": 2, "MEMORY_MB": 512, "CUSTOM_PMEM": 1,
                                   "consumer_count": 1}}
    assert placement.delete(f"/allocations/{consumer}").status_code == 204
    assert placement.delete(f"/resource_providers/{child}").status_code == 204
    assert placement.delete(f"/resource_providers/{root}").status_code == 204


def test_concurrent_first_writes_of_one_consumer_let_exactly_one_win(placement):
    """Eight writers each create the same new consumer (generation null) on its own provider:
    one succeeds, the rest get 409 concurrent_update, and only the winner's allocation exists."""
    rps = [placement.provider(f"host{i}", VCPU=4) for i in range(8)]
    consumer = str(uuid.uuid4())
    barrier = threading.Barrier(len(rps))
    statuses: dict[str, int] = {}

    def claim(rp: str) -> None:
        client = placement.fresh()
        barrier.wait()
        statuses[rp] = client.allocate(consumer, {rp: {"VCPU": 1}}).status_code

    threads = [threading.Thread(target=claim, args=(rp,)) for rp in rps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [rp for rp, status in statuses.items() if status == 204]
    assert len(winners) == 1 and sorted(set(statuses.values())) == [204, 409]
    body = placement.get(f"/allocations/{consumer}").json()
    assert list(body["allocations"]) == winners and body["consumer_generation"] == 1


def test_writers_racing_with_one_generation_get_409_never_500(placement):
    """Regression: inventory, trait and aggregate writes changed their rows first and bumped
    the provider generation last, so two writers holding the same generation both got past
    the check; on PostgreSQL the second then hit the inventories unique key and on MySQL a
    deadlock, both a 500. The bump now comes first and the loser gets a clean 409."""
    rounds, writers = 10, 4
    for round_no in range(rounds):
        rp = placement.provider(f"race-{round_no}")
        barrier = threading.Barrier(writers)
        statuses: list[int] = []

        def write(n: int, rp: str = rp, barrier: threading.Barrier = barrier,
                  statuses: list[int] = statuses) -> None:
            client = placement.fresh()
            body = {"resource_provider_generation": 0,
                    "inventories": {"VCPU": {"total": n + 1}, "MEMORY_MB": {"total": 512}}}
            barrier.wait()
            statuses.append(client.put(f"/resource_providers/{rp}/inventories",
                                       body).status_code)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(statuses) == [200] + [409] * (writers - 1), statuses
        assert placement.get(f"/resource_providers/{rp}").json()["generation"] == 1
