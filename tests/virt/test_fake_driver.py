"""FakeDriver: power-state transitions, refusals, console log and host resources."""

import ast
from pathlib import Path

import pytest

from stratus.virt import power_state
from stratus.virt.driver import InstanceNotFound, InvalidPowerState, VirtError
from stratus.virt.fake import FakeDriver

FLAVOR = {"vcpus": 2, "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 5}
VIRT = Path(__file__).parents[2] / "src" / "stratus" / "virt"


def _instance(uuid="11111111-2222-3333-4444-555555555555"):
    return {"uuid": uuid, "display_name": "demo", "flavor": FLAVOR}


@pytest.fixture
def driver():
    return FakeDriver("host-1", vcpus=8, memory_mb=8192, local_gb=100,
                      cpu_flags=["sse4.2", "avx2", "aes", "not-a-flag"])


def test_spawn_runs_the_instance_and_counts_its_resources(driver):
    driver.spawn(_instance(), {"id": "img-1"})
    assert driver.get_info(_instance()).state == power_state.RUNNING
    res = driver.get_available_resource("host-1")
    assert (res.vcpus, res.memory_mb, res.local_gb) == (8, 8192, 100)
    assert (res.vcpus_used, res.memory_mb_used, res.local_gb_used, res.running_vms) == \
        (2, 2048, 25, 1)
    assert driver.list_instances() == [_instance()["uuid"]]


@pytest.mark.parametrize("steps,final", [
    (["power_off"], power_state.SHUTDOWN),
    (["power_off", "power_on"], power_state.RUNNING),
    (["pause"], power_state.PAUSED),
    (["pause", "unpause"], power_state.RUNNING),
    (["suspend"], power_state.SUSPENDED),
    (["suspend", "resume"], power_state.RUNNING),
    (["power_off", "hard_reboot"], power_state.RUNNING),
])
def test_power_actions_move_the_power_state(driver, steps, final):
    driver.spawn(_instance(), {"id": "img-1"})
    for step in steps:
        if step == "hard_reboot":
            driver.reboot(_instance(), "HARD")
        else:
            getattr(driver, step)(_instance())
    assert driver.get_info(_instance()).state == final


@pytest.mark.parametrize("steps,refused", [
    ([], "power_on"), ([], "unpause"), ([], "resume"), (["power_off"], "pause"),
    (["power_off"], "soft_reboot"), (["pause"], "power_on"),
])
def test_transitions_the_power_state_forbids_are_refused(driver, steps, refused):
    driver.spawn(_instance(), {"id": "img-1"})
    for step in steps:
        getattr(driver, step)(_instance())
    before = driver.get_info(_instance()).state
    with pytest.raises(InvalidPowerState):
        if refused == "soft_reboot":
            driver.reboot(_instance(), "SOFT")
        else:
            getattr(driver, refused)(_instance())
    assert driver.get_info(_instance()).state == before


def test_console_log_tells_what_happened_to_the_instance(driver):
    driver.spawn(_instance(), {"id": "img-1"})
    driver.power_off(_instance())
    driver.power_on(_instance())
    driver.reboot(_instance(), "SOFT")
    log = driver.get_console_output(_instance()).splitlines()
    assert "from image img-1" in log[0]
    assert [line.split("] ", 1)[1] for line in log[2:]] == [
        "Powered off", "Powered on: login prompt reached",
        "Reboot (soft): login prompt reached"]


def test_destroy_forgets_the_instance_and_is_idempotent(driver):
    driver.spawn(_instance(), {"id": "img-1"})
    driver.destroy(_instance())
    driver.destroy(_instance())
    with pytest.raises(InstanceNotFound):
        driver.get_info(_instance())
    with pytest.raises(InstanceNotFound):
        driver.get_console_output(_instance())
    assert driver.get_available_resource("host-1").vcpus_used == 0


def test_injected_spawn_failure_fails_that_many_spawns(driver):
    driver.fail_next_spawns(1, "disk full")
    with pytest.raises(VirtError, match="disk full"):
        driver.spawn(_instance(), {"id": "img-1"})
    assert driver.list_instances() == []
    driver.spawn(_instance(), {"id": "img-1"})
    assert driver.list_instances() == [_instance()["uuid"]]


def test_spawning_the_same_instance_twice_is_refused(driver):
    driver.spawn(_instance(), {"id": "img-1"})
    with pytest.raises(VirtError):
        driver.spawn(_instance(), {"id": "img-1"})


def test_resize_moves_the_guest_to_the_new_size_and_revert_restores_it():
    source, dest = FakeDriver("src"), FakeDriver("dst")
    source.spawn(_instance(), {"id": "img-1"})
    disk = source.migrate_disk_and_power_off(_instance(), "dst", FLAVOR)
    assert source.get_info(_instance()).state == power_state.SHUTDOWN
    bigger = {**FLAVOR, "vcpus": 4}
    dest.finish_migration(_instance(), disk, bigger, power_on=True)
    assert dest.get_available_resource("dst").vcpus_used == 4
    assert "from image img-1" in dest.get_console_output(_instance())
    source.finish_revert_migration(_instance(), power_on=True)
    assert source.get_info(_instance()).state == power_state.RUNNING
    source.confirm_migration(_instance())
    assert source.list_instances() == []


def test_traits_from_capabilities_and_cpu_flags(driver):
    assert driver.cpu_traits() == {"HW_CPU_X86_SSE42", "HW_CPU_X86_AVX2", "HW_CPU_X86_AESNI"}
    assert "COMPUTE_DEVICE_TAGGING" in driver.capability_traits()
    assert all(t.startswith("COMPUTE_") for t in driver.capability_traits())


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_under_virt_imports_the_database_layer():
    files = list(VIRT.rglob("*.py"))
    assert files
    for path in files:
        bad = {name for name in _imports(path)
               if name.startswith(("sqlalchemy", "stratus.common.db", "stratus.cells",
                                   "stratus.compute_api", "stratus.compute."))}
        assert not bad, f"{path} imports {bad}"


def test_host_uptime_reads_like_uptime(driver):
    driver.spawn(_instance(), {"id": "img-1"})
    line = driver.get_host_uptime()
    assert " up 0 days,  0:00," in line and "1 guests" in line and "load average" in line


def test_snapshot_streams_a_few_kib_describing_the_guest_in_chunks(driver):
    driver.spawn(_instance(), {"id": "img-1"})
    snapshot = driver.snapshot(_instance(), "snap-1")
    chunks = list(snapshot.chunks)
    assert (snapshot.disk_format, snapshot.container_format) == ("raw", "bare")
    assert len(chunks) > 1 and all(0 < len(c) <= 1024 for c in chunks)
    data = b"".join(chunks)
    assert 4096 <= len(data) <= 65536
    assert _instance()["uuid"].encode() in data and b"img-1" in data
    assert b"Snapshot taken for image snap-1" in driver.get_console_output(
        _instance()).encode()


def test_snapshot_of_a_missing_guest_is_instance_not_found(driver):
    with pytest.raises(InstanceNotFound):
        driver.snapshot(_instance(), "snap-1")


def test_an_injected_snapshot_failure_breaks_off_after_the_first_chunk(driver):
    driver.spawn(_instance(), {"id": "img-1"})
    driver.fail_next_snapshots(1, reason="disk went away")
    chunks = iter(driver.snapshot(_instance(), "snap-1").chunks)
    assert next(chunks)
    with pytest.raises(VirtError, match="disk went away"):
        next(chunks)
    assert b"".join(driver.snapshot(_instance(), "snap-2").chunks)  # only the next one
