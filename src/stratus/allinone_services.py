"""The all-in-one's RPC side: the compute API's clients, and the services run in-process.

``RPCClients`` is what the compute API needs to hand servers on: one RPC transport, the
conductor and compute topics' clients, and a Placement client. ``InProcessServices`` adds
the conductor, the scheduler and N fake compute agents on that same transport (``fake://``
unless configured otherwise); ``stratus all-in-one --api-only`` keeps only the clients and
leaves those services to separate processes. Agents report to Placement over HTTP, so they
start only once the all-in-one's HTTP server is listening; the Placement client uses the
service account that ``AllInOne.prepare`` bootstrapped.
"""

from __future__ import annotations

import logging
import uuid

from oslo_config import cfg

from stratus.cells.mappings import CellDatabases
from stratus.common.db import Databases
from stratus.common.rpc import RPC, register_opts
from stratus.compute import agents as compute_agents
from stratus.compute.agents import ComputeAgents
from stratus.compute_api.compute_rpc import ComputeRPC
from stratus.compute_api.conductor_api import ConductorRPC
from stratus.conductor.manager import TOPIC as CONDUCTOR_TOPIC
from stratus.conductor.manager import ConductorManager
from stratus.scheduler.manager import TOPIC as SCHEDULER_TOPIC
from stratus.scheduler.manager import SchedulerManager
from stratus.scheduler.report import PlacementClient
from stratus.scheduler.rpcapi import ERRORS_MODULE, SchedulerClient

LOG = logging.getLogger(__name__)

# Exceptions that cross RPC as their own class (the rest arrive as RemoteError).
REMOTE_ERRORS = (ERRORS_MODULE, "stratus.conductor.moves")


def _private_fake_exchange(conf: cfg.ConfigOpts) -> None:
    """The fake:// transport keeps its exchanges in one table per process: two
    all-in-ones in one process (tests start several) would share topics, and one cloud's
    conductor would take the other's builds. Each in-process cloud gets its own exchange."""
    if conf.transport_url.startswith("fake://"):
        register_opts(conf)
        if conf.control_exchange == "openstack":  # oslo.messaging's default: not chosen
            conf.set_override("control_exchange", f"stratus-{uuid.uuid4().hex[:12]}")


class RPCClients:
    """The compute API's side of RPC: the transport, its clients, and Placement."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf
        _private_fake_exchange(conf)
        self.rpc = RPC(conf, allowed_remote_exmods=REMOTE_ERRORS)
        self.placement = PlacementClient.from_conf(conf)
        self.compute_rpc = ComputeRPC(self.rpc)
        self.compute_task_api = ConductorRPC(self.rpc)

    def start(self) -> None:
        """Nothing to start: the services that consume these topics run elsewhere."""

    def stop(self) -> None:
        self.rpc.cleanup()


class InProcessServices(RPCClients):
    """Builds, starts and stops the in-process services around the clients' transport."""

    def __init__(self, conf: cfg.ConfigOpts, databases: Databases, cells: CellDatabases,
                 fake_hosts: int, catalog: list[dict] | None = None):
        super().__init__(conf)
        self.catalog = catalog  # the agents find the image service here, as the API does
        self.databases = databases
        self.cells = cells
        self.fake_hosts = fake_hosts
        self.agents: ComputeAgents | None = None

    def start(self) -> None:
        """Start the scheduler and conductor, then the agents (which report to Placement)."""
        self.rpc.server(SCHEDULER_TOPIC, [self._scheduler()], server="scheduler").start()
        conductor = ConductorManager(self.cells, SchedulerClient(self.rpc), self.compute_rpc,
                                     self.placement)
        self.rpc.server(CONDUCTOR_TOPIC, [conductor], server="conductor").start()
        self.agents = self._start_agents()

    def _scheduler(self) -> SchedulerManager:
        return SchedulerManager(self.conf, self.placement, self.cells.api_engine, self.cells)

    def _start_agents(self) -> ComputeAgents | None:
        """N fake hosts in cell1, each mapping itself as discover_hosts would; in this
        process they reach the cell database directly."""
        if not self.fake_hosts:
            return None
        return compute_agents.start_from_conf(self.conf, fake_hosts=self.fake_hosts,
                                              rpc=self.rpc, placement=self.placement,
                                              databases=self.databases,
                                              image_catalog=self.catalog,
                                              database_access="direct")

    def stop(self) -> None:
        if self.agents is not None:
            self.agents.stop()
        super().stop()

