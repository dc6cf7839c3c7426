"""The conformance run's session: one live server per YAML file and target, one at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gabbits import Case, FileRun, load, selected_targets
from placement_servers import OpenStackPlacement, RunningServer
from reproducers import settings_for


def pytest_report_header(config) -> str:
    spec = os.environ.get("STRATUS_CONFORMANCE", "")
    if not spec:
        return ("placement conformance: off (STRATUS_CONFORMANCE=openstack,stratus-sqlite,"
                "stratus-postgresql,stratus-mysql | stratus | all to run it)")
    return f"placement conformance: {', '.join(selected_targets(spec))}"


def make_target(name: str):
    if name == "openstack":
        return OpenStackPlacement()
    from placement_servers import StratusPlacement

    return StratusPlacement(name.removeprefix("stratus-"))


class Conformance:
    """Starts each target once, and a fresh server for each file as its first test runs.

    Tests of one file run in order in one process (``--dist loadgroup`` groups them). If a
    file's tests do get interleaved with another's, coming back to it starts it over on a
    fresh server and gabbi replays the earlier tests, so the outcome is the same.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self.tmp = tmp_path_factory
        self.targets: dict[str, object] = {}
        self.current: FileRun | None = None

    def target(self, name: str):
        if name not in self.targets:
            target = make_target(name)
            target.prepare(self.tmp.mktemp(f"{name}-prepare"))
            self.targets[name] = target
        return self.targets[name]

    def file_run(self, case: Case) -> FileRun:
        current = self.current
        if current is not None and (current.target, current.file) == (case.target, case.file):
            return current
        self.close()
        target = self.target(case.target)
        fixtures = load(case.file).get("fixtures", [])
        workdir = self.tmp.mktemp(f"{case.target}-{Path(case.file).stem}")
        server: RunningServer = target.start(settings_for(fixtures), workdir)
        try:
            self.current = FileRun(case.target, case.file, server)
        except BaseException:
            server.stop()
            raise
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.server.stop()
            self.current = None


@pytest.fixture(scope="session")
def conformance(tmp_path_factory):
    session = Conformance(tmp_path_factory)
    yield session
    session.close()
