"""Compute agents in one process: ``stratus compute`` runs one, the all-in-one runs N.

Agents of a process share one RPC transport, one Placement client and one timer thread;
heartbeats and usage reports of all agents of a cell go out as one write per interval.
"""

from __future__ import annotations

import importlib
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from stratus.cells import mappings, setup
from stratus.common.db import Databases, migration
from stratus.common.rpc import RPC, RPCServer
from stratus.compute import service_records
from stratus.compute.instance_store import InstanceStore
from stratus.compute.manager import ComputeManager
from stratus.compute.periodic import Ticker
from stratus.compute.resource_tracker import ResourceTracker
from stratus.image.glance import UserImageClients
from stratus.network.allocation import NetworkAllocator
from stratus.network.neutron import NeutronClients
from stratus.scheduler.report import PlacementClient, PlacementError
from stratus.virt.driver import ComputeDriver
from stratus.virt.fake import FakeDriver

LOG = logging.getLogger(__name__)
TOPIC = service_records.COMPUTE_TOPIC
START_CONCURRENCY = 4


def load_driver(conf, host: str) -> ComputeDriver:
    """The driver ``[DEFAULT] compute_driver`` names (``<module under stratus.virt>.<Class>``)."""
    module_name, _, class_name = conf.compute_driver.rpartition(".")
    cls = getattr(importlib.import_module(f"stratus.virt.{module_name}"), class_name)
    from_conf = getattr(cls, "from_conf", None)
    return from_conf(conf, host) if from_conf else cls(host)


def default_host(conf) -> str:
    return conf.host or socket.gethostname()


@dataclass
class ComputeAgent:
    """One compute host: its driver, manager, resource tracker and RPC server."""

    host: str
    driver: ComputeDriver
    manager: ComputeManager
    tracker: ResourceTracker
    service: dict
    rpc_server: RPCServer
    running: bool = True

    @property
    def node_uuid(self) -> str:
        """The compute node's uuid, which is its resource provider's uuid."""
        return self.tracker.node["uuid"]


class ComputeAgents:
    """Compute agents of one cell, started and stopped together or one by one.

    ``api_engine`` and ``cell_id`` given (a process that can reach the API database): each
    agent maps its host to the cell itself, as ``cell_v2 discover_hosts`` would; otherwise
    the operator (or a periodic discover) does that. The image service (snapshots) is
    ``[glance] endpoint_override``, else the image endpoint of ``image_catalog``; the
    network service (ports) ``[neutron] endpoint_override``, else its endpoint there.
    """

    def __init__(self, conf, rpc: RPC, cell_engine: sa.Engine, *, placement=None,
                 api_engine: sa.Engine | None = None, cell_id: int | None = None,
                 ticker: Ticker | None = None, driver_factory=load_driver,
                 image_catalog: list[dict] | None = None):
        self.conf = conf
        self.rpc = rpc
        self.cell_engine = cell_engine
        self.placement = placement
        self.api_engine = api_engine
        self.cell_id = cell_id
        self.store = InstanceStore(cell_engine)
        self.images = UserImageClients(conf, image_catalog)
        self.network = NetworkAllocator(NeutronClients(conf, image_catalog))
        self._driver_factory = driver_factory
        self._conductor = rpc.client("conductor")
        self._own_ticker = ticker is None
        self.ticker = ticker or Ticker()
        self.agents: dict[str, ComputeAgent] = {}
        self._scheduled = False

    def add(self, host: str) -> ComputeAgent:
        """Register ``host`` (service, compute node, provider, mapping) and serve its RPC."""
        agent = self._start_one(host)
        self.agents[host] = agent
        return agent

    def _start_one(self, host: str) -> ComputeAgent:
        driver = self._driver_factory(self.conf, host)
        driver.init_host(host)
        service = service_records.register_service(self.cell_engine, host)
        tracker = ResourceTracker(self.conf, driver, self.cell_engine, service, self.placement)
        tracker.start()
        if self.api_engine is not None and self.cell_id is not None:
            if not service_records.map_host(self.api_engine, self.cell_engine, host,
                                            self.cell_id):
                LOG.error("Host %s is mapped to another cell; not mapping it here", host)
        manager = ComputeManager(host, driver, self.store, placement=self.placement,
                                 conductor=self._conductor,
                                 on_usage_change=tracker.mark_changed, images=self.images,
                                 network=self.network)
        manager.init_host()
        server = self.rpc.server(TOPIC, [manager], server=host)
        server.start()
        return ComputeAgent(host, driver, manager, tracker, service, server)

    def start(self, hosts: list[str]) -> list[ComputeAgent]:
        """Add every host, then start the periodic heartbeats and usage reports."""
        # A few at a time: each start is mostly waiting on Placement and the database.
        with ThreadPoolExecutor(max_workers=START_CONCURRENCY) as pool:
            futures = [pool.submit(self._start_one, host) for host in hosts]
        failed = [f.exception() for f in futures if f.exception() is not None]
        added = [f.result() for f in futures if f.exception() is None]
        # Those that started are kept, so stop() stops them even when another failed.
        self.agents.update((agent.host, agent) for agent in added)
        if failed:
            raise failed[0]
        self._schedule()
        return added

    def _schedule(self) -> None:
        if self._scheduled:
            return
        self._scheduled = True
        self.ticker.add(self.conf.report_interval, self.heartbeat)
        self.ticker.add(self.conf.report_interval, self.report_usage)
        if self.conf.update_resources_interval:
            self.ticker.add(self.conf.update_resources_interval,
                            lambda: self.report_usage(force=True))
        self.ticker.start()

    def heartbeat(self) -> None:
        """One heartbeat for every running agent, in one write."""
        service_records.heartbeat(self.cell_engine, [a.service["id"] for a in
                                                     list(self.agents.values()) if a.running])

    def report_usage(self, force: bool = False) -> None:
        """Write the compute nodes whose usage changed (all of them with ``force``)."""
        updates = []
        for agent in list(self.agents.values()):
            if agent.running:
                update = agent.tracker.collect(force=force)
                if update is not None:
                    updates.append(update)
        service_records.update_nodes(self.cell_engine, updates)

    def stop_agent(self, host: str) -> None:
        """Stop one agent as if its process died: no more RPC, no more heartbeats."""
        agent = self.agents[host]
        if agent.running:
            agent.running = False
            agent.rpc_server.stop()
            agent.rpc_server.wait()

    def stop(self) -> None:
        running = [a for a in self.agents.values() if a.running]
        for agent in running:
            agent.running = False
            agent.rpc_server.stop()
        for agent in running:
            agent.rpc_server.wait()
        if self._own_ticker:
            self.ticker.stop()


class AgentStartError(Exception):
    """The agent cannot run with this configuration; the message tells the operator why."""


def _own_cell(api_engine: sa.Engine, cell_url: str) -> int | None:
    """The id of the cell mapping whose database is ``cell_url``; None if the API database
    cannot be read or has no such cell (then discover_hosts maps the host)."""
    try:
        with api_engine.connect() as conn:
            cells = mappings.list_cell_mappings(conn)
    except sa.exc.SQLAlchemyError:
        return None
    return next((c.id for c in cells if c.database_connection == cell_url), None)


def placement_from_conf(conf) -> PlacementClient | None:
    """The ``[placement]`` client, or None (logged) when it has no credentials configured:
    the agent then runs, but the scheduler cannot place anything on its host."""
    try:
        return PlacementClient.from_conf(conf)
    except PlacementError as exc:
        LOG.warning("Not reporting to Placement, so no server will be scheduled here: %s",
                    exc)
        return None


def start_from_conf(conf, *, fake_hosts: int | None = None, rpc: RPC | None = None,
                    placement: PlacementClient | None = None,
                    databases: Databases | None = None,
                    image_catalog: list[dict] | None = None) -> ComputeAgents:
    """Start the agent ``[DEFAULT] host`` of the ``[cell1_database]`` cell, or ``fake_hosts``
    fake agents named ``<host>-1`` .. ``<host>-N`` (the all-in-one's ``--fake-hosts``).

    ``placement`` defaults to the ``[placement]`` client (see placement_from_conf);
    ``image_catalog`` is where snapshots find the image service without
    ``[glance] endpoint_override``.
    """
    databases = databases or Databases(conf)
    cell_engine = databases.engine("cell1")
    if migration.current(cell_engine) != migration.head(setup.CELL_TREE):
        raise AgentStartError("the cell database is not at the newest schema; run "
                              "`stratus-manage db sync` first")
    host = default_host(conf)
    if fake_hosts:
        hosts = [f"{host}-{number}" for number in range(1, fake_hosts + 1)]
        factory = FakeDriver.from_conf
    else:
        hosts, factory = [host], load_driver
    api_engine = databases.engine("api")
    cell_id = _own_cell(api_engine, databases.url("cell1"))
    if placement is None:
        placement = placement_from_conf(conf)
    agents = ComputeAgents(conf, rpc or RPC(conf), cell_engine, placement=placement,
                           api_engine=api_engine if cell_id is not None else None,
                           cell_id=cell_id, driver_factory=factory,
                           image_catalog=image_catalog)
    agents.start(hosts)
    return agents
