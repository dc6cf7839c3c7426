"""Fixtures: an in-process all-in-one cloud on a real socket, and a fake Neutron."""

import pytest
from agenthelpers import access, cell_env, placement_service  # noqa: F401
from fake_neutron import FakeNeutron
from harness import start_cloud, stop_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_cloud(tmp_path_factory.mktemp("cloud"))
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def neutron():
    """A fake Neutron (its ids and addresses come in a fixed order), so a test knows
    exactly which ports exist; point ``[neutron] endpoint_override`` at ``neutron.url``."""
    fake = FakeNeutron().start()
    yield fake
    fake.stop()
