"""Fixtures: an in-process all-in-one cloud on a real socket."""

import pytest
from agenthelpers import cell_env, placement_service  # noqa: F401
from harness import start_cloud, stop_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("cloud"))
    yield running
    stop_cloud(running)
