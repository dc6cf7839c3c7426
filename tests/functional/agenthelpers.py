"""Helpers and fixtures for compute agent tests: synced API and cell databases (SQLite),
real in-process RPC, and a real Placement over HTTP."""

from __future__ import annotations

import time
import uuid as uuidlib
from dataclasses import dataclass

import orjson
import pytest
import sqlalchemy as sa
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint
from placement_harness import start_placement, stop_placement

from stratus import conf as stratus_conf
from stratus.cells import setup
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import instances
from stratus.common.context import RequestContext
from stratus.common.db import make_engine, migration
from stratus.common.rpc import RPC
from stratus.compute.agents import ComputeAgents
from stratus.compute.instance_store import InstanceStore
from stratus.compute.service_records import ServiceStore
from stratus.conductor import cell_conductor
from stratus.scheduler.report import PlacementClient

FLAVOR = {"name": "m1.small", "vcpus": 1, "memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0,
          "swap": 0, "extra_specs": {}}
IMAGE = "6b0e2f4e-5c1b-4c7e-9a51-0f6b0e2f4e5c"


@dataclass
class CellEnv:
    conf: object
    api: sa.Engine
    cell: sa.Engine
    cell_id: int
    rpc: RPC
    placement: PlacementClient
    placement_http: object  # placement_harness.Placement: raw requests to check results
    # Host names unique to the test: providers (named after nodes) share one Placement.
    host: str = ""

    def __post_init__(self):
        self.host = self.host or f"host-{uuidlib.uuid4().hex[:8]}"

    def add_instance(self, **fields) -> str:
        """An instance as the conductor leaves it for the compute host: building, scheduled."""
        uuid = str(uuidlib.uuid4())
        row = dict(uuid=uuid, display_name="demo", project_id="p1", user_id="u1",
                   vm_state="building", task_state="scheduling", power_state=0,
                   flavor=orjson.dumps({"cur": FLAVOR}).decode(), memory_mb=512, vcpus=1,
                   root_gb=1, ephemeral_gb=0, image_ref=IMAGE, deleted=0,
                   created_at=utcnow())
        row.update(fields)
        with self.cell.begin() as conn:
            conn.execute(sa.insert(instances).values(**row))
        return uuid

    def agents(self, access: str = "direct", *, maps_hosts: bool = False,
               **kwargs) -> ComputeAgents:
        """Agents reaching the cell database ``direct``ly or through a cell conductor
        served on this RPC (``conductor``, the way of ``stratus compute``); with
        ``maps_hosts`` (the API database reachable) each maps its host."""
        mapping = {"api_engine": self.api, "cell_id": self.cell_id} if maps_hosts else {}
        if access == "direct":
            return ComputeAgents(self.conf, self.rpc, self.cell, **mapping, **kwargs)
        conductor = cell_conductor.CellConductor(
            InstanceStore(self.cell), ServiceStore(self.cell, mapping.get("api_engine"),
                                                   mapping.get("cell_id")))
        self.rpc.server(cell_conductor.TOPIC, [conductor], server=uuidlib.uuid4().hex).start()
        client = self.rpc.client(cell_conductor.TOPIC, timeout=10)
        return ComputeAgents(self.conf, self.rpc, stores=(
            cell_conductor.RemoteInstanceStore(client),
            cell_conductor.RemoteServiceStore(client)), **kwargs)

    def instance(self, uuid: str) -> dict:
        with self.cell.connect() as conn:
            return dict(conn.execute(sa.select(instances).where(instances.c.uuid == uuid))
                        .mappings().one())

    def wait_for(self, uuid: str, predicate, timeout: float = 10.0) -> dict:
        """Poll the instance row until ``predicate(row)`` holds (deadline: ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.instance(uuid)
            if predicate(row):
                return row
            if time.monotonic() > deadline:
                raise AssertionError(f"instance never reached the state; last row: {row}")
            time.sleep(0.02)


def context(request_id: str | None = None) -> RequestContext:
    return RequestContext(user_id="u1", project_id="p1", roles=["member"],
                          request_id=request_id or f"req-{uuidlib.uuid4()}")


def load_conf(tmp_path, **overrides):
    return stratus_conf.load(None, {"state_dir": str(tmp_path), "transport_url": "fake://",
                                    **overrides})


@pytest.fixture(scope="module")
def placement_service(tmp_path_factory):
    """One Placement (noauth2) for a module's tests; each test makes its own providers."""
    running = start_placement(load_conf(tmp_path_factory.mktemp("placement")))
    yield running
    stop_placement(running)


def placement_client(placement_service) -> PlacementClient:
    session = ksa_session.Session(auth=token_endpoint.Token(placement_service.url, "admin"))
    return PlacementClient(session, endpoint=placement_service.url)


@pytest.fixture(params=["direct", "conductor"])
def access(request) -> str:
    """How the agents under test reach the cell database (see ``CellEnv.agents``)."""
    return request.param


@pytest.fixture
def cell_env(tmp_path, placement_service):
    conf = load_conf(tmp_path, report_interval=1, update_resources_interval=0)
    api = make_engine(f"sqlite:///{tmp_path}/api.sqlite")
    cell_url = f"sqlite:///{tmp_path}/cell1.sqlite"
    cell = make_engine(cell_url)
    migration.sync("api", api)
    migration.sync(setup.CELL_TREE, cell)
    with api.begin() as conn:
        mapping, _ = setup.ensure_cell(conn, name="cell1", transport_url="fake://",
                                       database_connection=cell_url)
    # As a compute host's: the cell conductor's store errors arrive as themselves.
    rpc = RPC(conf, allowed_remote_exmods=cell_conductor.REMOTE_ERRORS)
    env = CellEnv(conf, api, cell, mapping.id, rpc, placement_client(placement_service),
                  placement_service)
    try:
        yield env
    finally:
        rpc.cleanup()
        api.dispose()
        cell.dispose()
