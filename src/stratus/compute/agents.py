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
from stratus.compute.service_records import ServiceStore
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

    The cell's database is ``cell_engine`` itself, or, given ``stores`` (an instance store
    and a service store, e.g. the cell conductor's remote ones), whatever those reach.
    ``api_engine`` and ``cell_id`` given with ``cell_engine`` (a process that can reach the
    API database): each agent maps its host to the cell itself, as ``cell_v2
    discover_hosts`` would; otherwise the service store's ``map_host`` decides (the cell
    conductor maps it), or the operator (or a periodic discover) does. The image service
    (snapshots) is ``[glance] endpoint_override``, else the image endpoint of
    ``image_catalog``; the network service (ports) ``[neutron] endpoint_override``, else
    its endpoint there.
    """

    def __init__(self, conf, rpc: RPC, cell_engine: sa.Engine | None = None, *,
                 stores: tuple[InstanceStore, ServiceStore] | None = None, placement=None,
                 api_engine: sa.Engine | None = None, cell_id: int | None = None,
                 ticker: Ticker | None = None, driver_factory=load_driver,
                 image_catalog: list[dict] | None = None):
        self.conf = conf
        self.rpc = rpc
        self.cell_engine = cell_engine
        self.placement = placement
        if stores is None:
            stores = (InstanceStore(cell_engine),
                      ServiceStore(cell_engine, api_engine=api_engine, cell_id=cell_id))
        self.store, self.services = stores
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
        service = self.services.register_service(host)
        tracker = ResourceTracker(self.conf, driver, self.services, service, self.placement)
        tracker.start()
        if self.services.map_host(host) is False:
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
        self.services.heartbeat([a.service["id"] for a in list(self.agents.values())
                                 if a.running])

    def report_usage(self, force: bool = False) -> None:
        """Write the compute nodes whose usage changed (all of them with ``force``)."""
        updates = []
        for agent in list(self.agents.values()):
            if agent.running:
                update = agent.tracker.collect(force=force)
                if update is not None:
                    updates.append(update)
        if updates:
            self.services.update_nodes(updates)

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


def own_cell(api_engine: sa.Engine, cell_url: str) -> int | None:
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
                    image_catalog: list[dict] | None = None,
                    database_access: str | None = None) -> ComputeAgents:
    """Start the agent ``[DEFAULT] host`` of its cell, or ``fake_hosts`` fake agents named
    ``<host>-1`` .. ``<host>-N`` (the all-in-one's ``--fake-hosts``).

    The cell is the cell conductor's (``[compute] database_access = conductor``, unless
    ``database_access`` says otherwise) or the ``[cell1_database]`` one (``direct``).
    ``placement`` defaults to the ``[placement]`` client (see placement_from_conf);
    ``image_catalog`` is where snapshots find the image service without
    ``[glance] endpoint_override``.
    """
    host = default_host(conf)
    if fake_hosts:
        hosts = [f"{host}-{number}" for number in range(1, fake_hosts + 1)]
        factory = FakeDriver.from_conf
    else:
        hosts, factory = [host], load_driver
    if (database_access or conf.compute.database_access) == "conductor":
        rpc, stores = _through_conductor(conf, rpc)
        cell_engine = api_engine = cell_id = None
    else:
        databases = databases or Databases(conf)
        cell_engine = databases.engine("cell1")
        if not migration.at_head(setup.CELL_TREE, cell_engine):
            raise AgentStartError(setup.CELL_NOT_SYNCED)
        api_engine = databases.engine("api")
        cell_id = own_cell(api_engine, databases.url("cell1"))
        rpc, stores = rpc or RPC(conf), None
    if placement is None:
        placement = placement_from_conf(conf)
    agents = ComputeAgents(conf, rpc, cell_engine, stores=stores, placement=placement,
                           api_engine=api_engine if cell_id is not None else None,
                           cell_id=cell_id, driver_factory=factory,
                           image_catalog=image_catalog)
    agents.start(hosts)
    return agents


def _through_conductor(conf, rpc: RPC | None):
    """The RPC and the remote stores of a host without database credentials; refuses a
    transport no conductor can share, and waits for the cell conductor's first answer."""
    from stratus.common.rpc import RPCTimeout
    from stratus.conductor import cell_conductor

    if conf.transport_url.startswith("fake://") and rpc is None:
        raise AgentStartError(
            "[compute] database_access = conductor needs a transport_url the cell "
            "conductor shares (e.g. rabbit://...); fake:// stays inside this process. "
            "Set [compute] database_access = direct to use [cell1_database] instead")
    rpc = rpc or RPC(conf, allowed_remote_exmods=cell_conductor.REMOTE_ERRORS)
    client = rpc.client(cell_conductor.TOPIC)
    services = cell_conductor.RemoteServiceStore(client)
    try:
        services.heartbeat([])  # nothing written: the conductor answers once it is up
    except RPCTimeout:
        rpc.cleanup()
        raise AgentStartError(
            f"no cell conductor answered on topic '{cell_conductor.TOPIC}' within "
            f"{client.timeout:g}s; start `stratus conductor` on the same transport_url "
            "first") from None
    return rpc, (cell_conductor.RemoteInstanceStore(client), services)
