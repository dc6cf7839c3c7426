"""select_destinations through RPC, over our Placement (HTTP) and real cell databases."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa
from scheduler_env import request_spec, start_scheduler, stop_scheduler

from stratus import conf as stratus_conf
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import instance_actions, instance_actions_events
from stratus.cmd import manage
from stratus.compute_api.store import aggregates as aggregate_store
from stratus.compute_api.store import server_groups as group_store
from stratus.scheduler.errors import NoValidHost
from stratus.scheduler.manager import SchedulerManager


@pytest.fixture
def env(tmp_path):
    conf = stratus_conf.load(None, {"state_dir": str(tmp_path)})
    running = start_scheduler(conf, cells=2)
    yield running
    stop_scheduler(running)


def new_uuids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def allocations_of(env, consumer: str) -> dict:
    return env.client.get_allocations(consumer)["allocations"]


def server_group(env, policy: str) -> str:
    with env.api.begin() as conn:
        return group_store.create(conn, name=f"g-{policy}", policy=policy, project_id="p1",
                                  user_id="u1")["uuid"]


def join_group(env, group_uuid: str, instance_uuids: list[str]) -> None:
    with env.api.begin() as conn:
        group_store.add_members(conn, group_store.get(conn, group_uuid)["id"], instance_uuids)


def aggregate(env, name: str, hosts: list[str], metadata: dict) -> str:
    with env.api.begin() as conn:
        agg_id = aggregate_store.create(conn, name)
        for host in hosts:
            aggregate_store.add_host(conn, agg_id, host)
        aggregate_store.set_metadata(conn, agg_id, metadata)
        return aggregate_store.get(conn, agg_id)["uuid"]


# --- choosing and claiming ---------------------------------------------------------------

def test_the_host_with_most_free_ram_wins_and_is_claimed(env):
    env.add_host("small", memory_mb=4096)
    env.add_host("big", memory_mb=16384)
    env.add_host("medium", memory_mb=8192)
    (instance,) = new_uuids(1)
    (picks,) = env.select(request_spec(memory_mb=1024), [instance])
    first = picks[0]
    assert first["service_host"] == "big" and first["nodename"] == "big"
    assert first["compute_node_uuid"] == env.hosts["big"].uuid
    assert first["cell_uuid"] == env.cell(1).uuid
    assert first["allocation_request_version"] == "1.36"
    held = allocations_of(env, instance)
    assert held == {env.hosts["big"].uuid: {
        "generation": held[env.hosts["big"].uuid]["generation"],
        "resources": {"VCPU": 1, "MEMORY_MB": 1024, "DISK_GB": 1}}}
    assert first["allocation_request"]["allocations"][env.hosts["big"].uuid]["resources"] == \
        {"VCPU": 1, "MEMORY_MB": 1024, "DISK_GB": 1}


def test_a_negative_ram_multiplier_stacks_onto_the_fullest_host(env):
    env.conf.set_override("ram_weight_multiplier", -1.0, group="filter_scheduler")
    env.add_host("small", memory_mb=4096)
    env.add_host("big", memory_mb=16384)
    (picks,) = env.select(request_spec(memory_mb=1024), new_uuids(1))
    assert picks[0]["service_host"] == "small"


def test_cpu_and_disk_weighers_prefer_free_vcpus_and_disk(env):
    env.conf.set_override("ram_weight_multiplier", 0.0, group="filter_scheduler")
    env.conf.set_override("disk_weight_multiplier", 0.0, group="filter_scheduler")
    env.add_host("few-cpus", vcpus=4)
    env.add_host("many-cpus", vcpus=32)
    (picks,) = env.select(request_spec(), new_uuids(1))
    assert picks[0]["service_host"] == "many-cpus"
    env.conf.set_override("cpu_weight_multiplier", 0.0, group="filter_scheduler")
    env.conf.set_override("disk_weight_multiplier", 1.0, group="filter_scheduler")
    env.add_host("big-disk", vcpus=4, disk_gb=1000)
    (picks,) = env.select(request_spec(), new_uuids(1))
    assert picks[0]["service_host"] == "big-disk"


def test_a_host_whose_builds_keep_failing_is_avoided(env):
    env.add_host("flaky", memory_mb=16384)
    env.add_host("steady", memory_mb=8192)
    with env.cell_dbs.engine(env.cell(1)).begin() as conn:
        action = conn.execute(sa.insert(instance_actions).values(
            action="create", instance_uuid=str(uuid.uuid4()), request_id="req-1",
            start_time=utcnow(), created_at=utcnow())).inserted_primary_key[0]
        conn.execute(sa.insert(instance_actions_events).values(
            action_id=action, event="compute_build_and_run_instance", result="Error",
            host="flaky", start_time=utcnow(), created_at=utcnow()))
    (picks,) = env.select(request_spec(), new_uuids(1))
    assert picks[0]["service_host"] == "steady"


def test_alternates_are_the_next_best_hosts_of_the_same_cell_and_not_claimed(env):
    env.conf.set_override("max_attempts", 3, group="scheduler")
    for i, memory in enumerate((16384, 12288, 10240, 9216)):
        env.add_host(f"c1-h{i}", cell=1, memory_mb=memory)
    env.add_host("c2-best-second", cell=2, memory_mb=14336)
    instance = new_uuids(1)
    (picks,) = env.select(request_spec(), instance)
    assert [p["service_host"] for p in picks] == ["c1-h0", "c1-h1", "c1-h2"]
    assert {p["cell_uuid"] for p in picks} == {env.cell(1).uuid}
    for alternate in picks[1:]:
        assert env.client.provider_usages(alternate["compute_node_uuid"])["VCPU"] == 0
        assert alternate["allocation_request"]["allocations"]
    assert list(allocations_of(env, instance[0])) == [env.hosts["c1-h0"].uuid]
    (picks,) = env.select(request_spec(), new_uuids(1), return_alternates=False)
    assert len(picks) == 1


def test_several_instances_of_one_request_each_get_a_claim(env):
    env.add_host("a", vcpus=2)
    env.add_host("b", vcpus=2)
    instances = new_uuids(4)
    picks = env.select(request_spec(vcpus=1), instances)
    assert len(picks) == 4
    hosts = sorted(p[0]["service_host"] for p in picks)
    assert hosts == ["a", "a", "b", "b"]
    for instance, chosen in zip(instances, picks, strict=True):
        assert list(allocations_of(env, instance)) == [chosen[0]["compute_node_uuid"]]


def test_instances_of_one_request_are_claimed_in_one_placement_write(env, monkeypatch):
    env.add_host("a", vcpus=2)
    env.add_host("b", vcpus=2)
    single, together = [], []
    claim, claim_many = env.client.claim, env.client.claim_many
    monkeypatch.setattr(env.client, "claim", lambda *a, **k: single.append(a) or claim(*a, **k))
    monkeypatch.setattr(env.client, "claim_many",
                        lambda claims, *a: together.append(list(claims))
                        or claim_many(claims, *a))
    instances = new_uuids(4)
    picks = env.select(request_spec(vcpus=1), instances)
    assert single == [] and together == [instances]
    assert sorted(p[0]["service_host"] for p in picks) == ["a", "a", "b", "b"]
    for instance, chosen in zip(instances, picks, strict=True):
        assert list(allocations_of(env, instance)) == [chosen[0]["compute_node_uuid"]]


def test_claims_refused_together_are_made_one_by_one_on_what_is_left(env, monkeypatch):
    """Another request fills host a between the candidates and the claim: the joint write
    is refused, writes nothing, and the instances land on the room that is left."""
    for name in ("a", "b", "c"):
        env.add_host(name, vcpus=2)
    intruder = str(uuid.uuid4())
    claim_many = env.client.claim_many

    def interfered(claims, *args):
        hosts = {rp for request in claims.values() for rp in request["allocations"]}
        taken = env.hosts["a"].uuid if env.hosts["a"].uuid in hosts else sorted(hosts)[0]
        assert env.client.claim(intruder, {taken: {"resources": {"VCPU": 2}}}, "p2", "u2")
        monkeypatch.setattr(env.client, "claim_many", claim_many)
        assert claim_many(claims, *args) is False
        return False

    monkeypatch.setattr(env.client, "claim_many", interfered)
    instances = new_uuids(4)
    picks = env.select(request_spec(vcpus=1), instances)
    taken_uuid = next(iter(allocations_of(env, intruder)))
    assert len(picks) == 4
    for instance, chosen in zip(instances, picks, strict=True):
        held = allocations_of(env, instance)
        assert list(held) == [chosen[0]["compute_node_uuid"]] and taken_uuid not in held
    for host in env.hosts.values():
        assert env.client.provider_usages(host.uuid)["VCPU"] == 2


def test_a_flavor_bigger_than_any_host_is_no_valid_host_and_allocates_nothing(env):
    env.add_host("a", memory_mb=4096)
    env.add_host("b", memory_mb=8192)
    instance = new_uuids(1)
    with pytest.raises(NoValidHost) as err:
        env.select(request_spec(memory_mb=65536), instance)
    assert "MEMORY_MB:65536" in err.value.reason
    assert allocations_of(env, instance[0]) == {}
    assert all(env.client.provider_usages(h.uuid)["MEMORY_MB"] == 0
               for h in env.hosts.values())


def test_when_one_instance_of_a_request_finds_no_host_no_claim_is_left(env):
    env.add_host("a", vcpus=2)
    env.add_host("b", vcpus=2)
    instances = new_uuids(5)
    with pytest.raises(NoValidHost):
        env.select(request_spec(vcpus=1), instances)
    assert all(allocations_of(env, i) == {} for i in instances)
    assert all(env.client.provider_usages(h.uuid)["VCPU"] == 0 for h in env.hosts.values())


def test_providers_that_are_no_known_compute_node_are_not_chosen(env):
    stray = str(uuid.uuid4())
    env.client.ensure_provider(stray, "not-a-host")
    env.client.set_inventory(stray, {"VCPU": {"total": 64}, "MEMORY_MB": {"total": 65536},
                                     "DISK_GB": {"total": 1000}})
    with pytest.raises(NoValidHost, match="compute node"):
        env.select(request_spec(), new_uuids(1))
    env.add_host("real", memory_mb=4096)
    (picks,) = env.select(request_spec(), new_uuids(1))
    assert [p["service_host"] for p in picks] == ["real"]
    assert env.client.provider_usages(stray)["VCPU"] == 0


# --- filters ----------------------------------------------------------------------------

def test_down_and_disabled_hosts_are_filtered_out(env):
    env.add_host("down", memory_mb=32768, up=False)
    env.add_host("disabled", memory_mb=32768, disabled=True)
    env.add_host("fine", memory_mb=4096)
    (picks,) = env.select(request_spec(), new_uuids(1))
    assert [p["service_host"] for p in picks] == ["fine"]


def test_only_down_hosts_is_no_valid_host_naming_the_filter(env):
    env.add_host("down", up=False)
    with pytest.raises(NoValidHost, match="ComputeFilter"):
        env.select(request_spec(), new_uuids(1))


def test_availability_zone_keeps_to_its_hosts(env):
    env.add_host("in-zone", memory_mb=4096)
    env.add_host("elsewhere", memory_mb=32768)
    aggregate(env, "az1-agg", ["in-zone"], {"availability_zone": "az1"})
    (picks,) = env.select(request_spec(availability_zone="az1"), new_uuids(1))
    assert picks[0]["service_host"] == "in-zone" and len(picks) == 1
    # Hosts in no zone's aggregate are in the default zone, "nova".
    (picks,) = env.select(request_spec(availability_zone="nova"), new_uuids(1))
    assert picks[0]["service_host"] == "elsewhere"


def test_availability_zone_through_placement_member_of(env):
    env.conf.set_override("query_placement_for_availability_zone", True, group="scheduler")
    env.conf.set_override("enabled_filters", ["ComputeFilter"], group="filter_scheduler")
    zoned = env.add_host("in-zone", memory_mb=4096)
    env.add_host("elsewhere", memory_mb=32768)
    agg = aggregate(env, "az1-agg", ["in-zone"], {"availability_zone": "az1"})
    # Without the provider in the aggregate, Placement offers nothing in the zone.
    with pytest.raises(NoValidHost):
        env.select(request_spec(availability_zone="az1"), new_uuids(1))
    env.client.set_aggregates(zoned.uuid, [agg])
    (picks,) = env.select(request_spec(availability_zone="az1"), new_uuids(1))
    assert picks[0]["service_host"] == "in-zone"


def test_sync_aggregates_mirrors_zones_into_placement_for_the_scheduler(env, tmp_path,
                                                                        capsys):
    """stratus-manage placement sync_aggregates, then the zone is asked of Placement."""
    env.conf.set_override("query_placement_for_availability_zone", True, group="scheduler")
    env.conf.set_override("enabled_filters", ["ComputeFilter"], group="filter_scheduler")
    zoned = env.add_host("in-zone", memory_mb=4096)
    other = env.add_host("elsewhere", memory_mb=32768)
    agg = aggregate(env, "az1-agg", ["in-zone", "ghost"], {"availability_zone": "az1"})
    env.client.set_aggregates(zoned.uuid, ["33333333-3333-3333-3333-333333333333"])
    conf_path = env.conf_file(tmp_path / "stratus.conf")
    code = manage.main(["--config-file", conf_path, "placement", "sync_aggregates"])
    out = capsys.readouterr()
    # "ghost" is in the aggregate but is no compute node: reported, exit 1.
    assert code == 1 and "host ghost has no compute node" in out.err
    assert "1 resource provider(s) added" in out.out
    assert env.client.get_aggregates(zoned.uuid) == {
        agg, "33333333-3333-3333-3333-333333333333"}
    assert env.client.get_aggregates(other.uuid) == set()
    (picks,) = env.select(request_spec(availability_zone="az1"), new_uuids(1))
    assert [p["service_host"] for p in picks] == ["in-zone"]
    # Nothing left to do the second time.
    manage.main(["--config-file", conf_path, "placement", "sync_aggregates"])
    assert "0 resource provider(s) added" in capsys.readouterr().out


def test_image_architecture_must_match_the_host(env):
    env.add_host("arm", arch="aarch64", memory_mb=32768)
    env.add_host("x86", arch="x86_64", memory_mb=4096)
    (picks,) = env.select(request_spec(image_properties={"architecture": "x86_64"}),
                          new_uuids(1))
    assert [p["service_host"] for p in picks] == ["x86"]
    with pytest.raises(NoValidHost, match="ImagePropertiesFilter"):
        env.select(request_spec(image_properties={"hypervisor_type": "qemu"}), new_uuids(1))


def test_required_and_forbidden_traits_choose_through_placement(env):
    env.add_host("avx", memory_mb=4096, traits=("HW_CPU_X86_AVX2",))
    env.add_host("plain", memory_mb=32768)
    spec = request_spec(extra_specs={"trait:HW_CPU_X86_AVX2": "required"})
    (picks,) = env.select(spec, new_uuids(1))
    assert [p["service_host"] for p in picks] == ["avx"]
    spec = request_spec(extra_specs={"trait:HW_CPU_X86_AVX2": "forbidden"},
                        image_properties={"trait:HW_CPU_X86_AVX2": "required"})
    with pytest.raises(NoValidHost, match="both required and forbidden"):
        env.select(spec, new_uuids(1))


def test_aggregate_extra_specs_match_aggregate_metadata(env):
    env.add_host("ssd", memory_mb=4096)
    env.add_host("hdd", memory_mb=32768)
    aggregate(env, "fast", ["ssd"], {"disk": "ssd"})
    spec = request_spec(extra_specs={"aggregate_instance_extra_specs:disk": "ssd"})
    (picks,) = env.select(spec, new_uuids(1))
    assert [p["service_host"] for p in picks] == ["ssd"]


def test_filters_are_named_in_config_and_an_unknown_name_stops_the_scheduler(env):
    env.conf.set_override("enabled_filters", ["ComputeFilter", "NoSuchFilter"],
                          group="filter_scheduler")
    with pytest.raises(ValueError, match="NoSuchFilter"):
        SchedulerManager(env.conf, env.client, env.api, env.cell_dbs)
    # A filter of one's own, by dotted path: here one that exists, to show it loads.
    env.conf.set_override("enabled_filters", ["stratus.scheduler.filters.ComputeFilter"],
                          group="filter_scheduler")
    manager = SchedulerManager(env.conf, env.client, env.api, env.cell_dbs)
    assert [type(f).__name__ for f in manager.filters] == ["ComputeFilter"]


class OnlyHostsNamedA:
    """A deployment's own filter, plugged in by dotted path."""

    def host_passes(self, host, scheduling) -> bool:
        return host.host.startswith("a")


def test_a_filter_of_ones_own_takes_part_in_scheduling(env):
    env.conf.set_override("enabled_filters",
                          ["ComputeFilter", f"{__name__}.OnlyHostsNamedA"],
                          group="filter_scheduler")
    manager = SchedulerManager(env.conf, env.client, env.api, env.cell_dbs)
    env.add_host("a-small", memory_mb=4096)
    env.add_host("b-big", memory_mb=32768)
    (picks,) = manager.select_destinations(env.context, request_spec(), new_uuids(1))
    assert [p["service_host"] for p in picks] == ["a-small"]


# --- server groups ------------------------------------------------------------------------

def test_anti_affinity_spreads_then_runs_out_of_hosts(env):
    for name in ("a", "b", "c"):
        env.add_host(name)
    group = server_group(env, "anti-affinity")
    first_two = new_uuids(2)
    join_group(env, group, first_two)
    picks = env.select(request_spec(group=group), first_two)
    hosts = {p[0]["service_host"] for p in picks}
    assert len(hosts) == 2
    for instance, chosen in zip(first_two, picks, strict=True):
        env.add_instance_on(instance, env.hosts[chosen[0]["service_host"]])
    third = new_uuids(1)
    join_group(env, group, third)
    (picks,) = env.select(request_spec(group=group), third)
    assert picks[0]["service_host"] not in hosts
    env.add_instance_on(third[0], env.hosts[picks[0]["service_host"]])
    fourth = new_uuids(1)
    join_group(env, group, fourth)
    with pytest.raises(NoValidHost, match="ServerGroupAntiAffinityFilter"):
        env.select(request_spec(group=group), fourth)
    assert allocations_of(env, fourth[0]) == {}


def test_anti_affinity_three_servers_in_one_request_on_two_hosts_claims_nothing(env):
    env.add_host("a")
    env.add_host("b")
    group = server_group(env, "anti-affinity")
    instances = new_uuids(3)
    join_group(env, group, instances)
    with pytest.raises(NoValidHost):
        env.select(request_spec(group=group), instances)
    assert all(allocations_of(env, i) == {} for i in instances)


def test_affinity_keeps_members_together(env):
    env.add_host("a", memory_mb=8192)
    env.add_host("b", memory_mb=16384)
    group = server_group(env, "affinity")
    instances = new_uuids(3)
    join_group(env, group, instances)
    picks = env.select(request_spec(group=group), instances)
    assert {p[0]["service_host"] for p in picks} == {"b"}


def test_soft_anti_affinity_prefers_empty_hosts_but_never_fails(env):
    env.conf.set_override("soft_anti_affinity_weight_multiplier", 100.0,
                          group="filter_scheduler")
    env.add_host("a")
    env.add_host("b")
    group = server_group(env, "soft-anti-affinity")
    instances = new_uuids(3)
    join_group(env, group, instances)
    picks = env.select(request_spec(group=group), instances)
    hosts = [p[0]["service_host"] for p in picks]
    assert set(hosts[:2]) == {"a", "b"} and len(hosts) == 3


def test_soft_affinity_prefers_the_members_host(env):
    env.conf.set_override("soft_affinity_weight_multiplier", 100.0, group="filter_scheduler")
    member_host = env.add_host("a", memory_mb=8192)
    env.add_host("b", memory_mb=16384)
    group = server_group(env, "soft-affinity")
    existing = new_uuids(1)
    join_group(env, group, existing)
    env.add_instance_on(existing[0], member_host)
    newcomer = new_uuids(1)
    join_group(env, group, newcomer)
    (picks,) = env.select(request_spec(group=group), newcomer)
    assert picks[0]["service_host"] == "a"


# --- concurrency ---------------------------------------------------------------------------

@pytest.fixture
def env_on_backend(backend_conf):
    running = start_scheduler(backend_conf, cells=1, placement_threads=16)
    yield running
    stop_scheduler(running)


def test_fifty_concurrent_requests_onto_five_hosts_never_overcommit(env_on_backend):
    """5 hosts of 8 VCPU, 50 requests of 1 VCPU at once: exactly 40 win, each with one
    allocation on one host; the other 10 get NoValidHost and hold nothing."""
    env = env_on_backend
    for i in range(5):
        env.add_host(f"h{i}", vcpus=8, memory_mb=65536, disk_gb=1000)
    instances = new_uuids(50)
    barrier = threading.Barrier(len(instances))
    outcome: dict[str, object] = {}

    def boot(instance: str) -> None:
        barrier.wait()
        try:
            outcome[instance] = env.select(request_spec(vcpus=1), [instance])
        except NoValidHost as exc:
            outcome[instance] = exc

    threads = [threading.Thread(target=boot, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    assert len(outcome) == 50
    won = [i for i, result in outcome.items() if isinstance(result, list)]
    lost = [i for i, result in outcome.items() if isinstance(result, NoValidHost)]
    assert len(won) == 40 and len(lost) == 10
    for host in env.hosts.values():
        assert env.client.provider_usages(host.uuid)["VCPU"] == 8
    for instance in won:
        held = allocations_of(env, instance)
        assert list(held) == [outcome[instance][0][0]["compute_node_uuid"]]
        assert held[list(held)[0]]["resources"]["VCPU"] == 1
    assert all(allocations_of(env, i) == {} for i in lost)


def test_concurrent_multi_instance_requests_win_whole_or_not_at_all(env_on_backend):
    """5 hosts of 8 VCPU, 10 requests of 5 x 1 VCPU at once: 8 requests get all their
    instances placed, 2 get NoValidHost holding nothing, and no host is overcommitted."""
    env = env_on_backend
    for i in range(5):
        env.add_host(f"h{i}", vcpus=8, memory_mb=65536, disk_gb=1000)
    requests = [new_uuids(5) for _ in range(10)]
    barrier = threading.Barrier(len(requests))
    outcome: dict[int, object] = {}

    def boot(number: int) -> None:
        barrier.wait()
        try:
            outcome[number] = env.select(request_spec(vcpus=1), requests[number])
        except NoValidHost as exc:
            outcome[number] = exc

    threads = [threading.Thread(target=boot, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    won = [n for n, result in outcome.items() if isinstance(result, list)]
    lost = [n for n, result in outcome.items() if isinstance(result, NoValidHost)]
    assert len(won) == 8 and len(lost) == 2
    for host in env.hosts.values():
        assert env.client.provider_usages(host.uuid)["VCPU"] == 8
    for number in won:
        for instance, picks in zip(requests[number], outcome[number], strict=True):
            assert list(allocations_of(env, instance)) == [picks[0]["compute_node_uuid"]]
    assert all(allocations_of(env, i) == {} for n in lost for i in requests[n])
