"""A scheduler serving RPC topic ``scheduler`` over real Placement (HTTP) and real cell
databases, and helpers that add compute hosts the way the compute agent does: a services
row and a compute_nodes row in the host's cell, and a resource provider in Placement."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint
from placement_harness import Placement, start_placement, stop_placement

from stratus.cells import mappings, setup
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import COMPUTE_BINARY, compute_nodes, instances, services
from stratus.common.context import RequestContext
from stratus.common.db import Databases, migration
from stratus.common.rpc import RPC
from stratus.conf.database import DATABASES, group_name
from stratus.scheduler.manager import TOPIC, SchedulerManager
from stratus.scheduler.report import PlacementClient
from stratus.scheduler.rpcapi import ERRORS_MODULE, SchedulerClient


@dataclass
class Host:
    name: str
    uuid: str
    cell: mappings.CellMapping


@dataclass
class SchedulerEnv:
    conf: object
    placement: Placement
    client: PlacementClient
    api: sa.Engine
    cells: list[mappings.CellMapping]
    cell_dbs: mappings.CellDatabases
    rpc: RPC
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def context(self) -> RequestContext:
        return RequestContext(user_id="u1", project_id="p1", roles=["admin"])

    def cell(self, number: int) -> mappings.CellMapping:
        return self.cells[number]  # cells[0] is cell0

    def add_host(self, name: str, *, cell: int = 1, vcpus: int = 8, memory_mb: int = 8192,
                 disk_gb: int = 100, up: bool = True, disabled: bool = False,
                 hypervisor_type: str = "fake", arch: str = "x86_64",
                 traits: tuple[str, ...] = ()) -> Host:
        mapping = self.cell(cell)
        node_uuid = str(uuid.uuid4())
        seen = utcnow() if up else utcnow().replace(year=2000)
        with self.cell_dbs.engine(mapping).begin() as conn:
            conn.execute(sa.insert(services).values(
                uuid=str(uuid.uuid4()), host=name, binary=COMPUTE_BINARY, topic="compute",
                disabled=disabled, last_seen_up=seen, created_at=seen, report_count=1))
            conn.execute(sa.insert(compute_nodes).values(
                uuid=node_uuid, host=name, hypervisor_hostname=name,
                hypervisor_type=hypervisor_type, cpu_info=json.dumps({"arch": arch}),
                vcpus=vcpus, memory_mb=memory_mb, local_gb=disk_gb, created_at=utcnow()))
        self.client.ensure_provider(node_uuid, name)
        self.client.set_inventory(node_uuid, {"VCPU": {"total": vcpus},
                                              "MEMORY_MB": {"total": memory_mb},
                                              "DISK_GB": {"total": disk_gb}})
        if traits:
            self.client.set_traits(node_uuid, traits)
        host = Host(name, node_uuid, mapping)
        self.hosts[name] = host
        return host

    def add_instance_on(self, instance_uuid: str, host: Host) -> None:
        """What the conductor does once an instance is built: a row in the host's cell."""
        with self.cell_dbs.engine(host.cell).begin() as conn:
            conn.execute(sa.insert(instances).values(
                uuid=instance_uuid, project_id="p1", user_id="u1", vm_state="active",
                power_state=1, flavor="{}", host=host.name, node=host.name,
                created_at=utcnow()))
        with self.api.begin() as conn:
            mappings.create_instance_mapping(conn, instance_uuid=instance_uuid,
                                             project_id="p1", user_id="u1",
                                             cell_id=host.cell.id)

    def select(self, request_spec: dict, instance_uuids: list[str],
               return_alternates: bool = True) -> list[list[dict]]:
        """select_destinations through RPC, as the conductor calls it."""
        return SchedulerClient(self.rpc).select_destinations(
            self.context, request_spec, instance_uuids, return_alternates)

    def conf_file(self, path, *, default_lines: tuple[str, ...] = ()) -> str:
        """A stratus.conf naming this environment's databases and Placement (admin token),
        for commands run as an operator runs them."""
        conf, url = self.conf, self.placement.url
        lines = ["[DEFAULT]", f"state_dir = {conf.state_dir}",
                 f"transport_url = {conf.transport_url}", *default_lines]
        for name in DATABASES:
            lines += [f"[{group_name(name)}]",
                      f"connection = {conf[group_name(name)].connection}"]
        lines += ["[placement]", "auth_type = admin_token", f"endpoint = {url}",
                  "token = admin", f"endpoint_override = {url}"]
        path.write_text("\n".join(lines) + "\n")
        return str(path)


def request_spec(vcpus: int = 1, memory_mb: int = 512, root_gb: int = 1, *,
                 extra_specs: dict | None = None, image_properties: dict | None = None,
                 availability_zone: str | None = None, group: str | None = None) -> dict:
    """A request spec shaped as compute_api/server_create.py writes it."""
    image = {"id": str(uuid.uuid4())}
    if image_properties is not None:
        image["properties"] = image_properties
    return {
        "instance_uuid": None, "project_id": "p1", "user_id": "u1",
        "flavor": {"id": 1, "flavorid": "f1", "name": "f1", "memory_mb": memory_mb,
                   "vcpus": vcpus, "root_gb": root_gb, "ephemeral_gb": 0, "swap": 0,
                   "extra_specs": extra_specs or {}},
        "image": image, "num_instances": 1, "availability_zone": availability_zone,
        "scheduler_hints": {"group": group} if group else {}, "instance_group": group,
        "ignore_hosts": [], "force_hosts": [], "force_nodes": [],
    }


def start_scheduler(conf, *, cells: int = 1, placement_threads: int = 16,
                    in_process: bool = True) -> SchedulerEnv:
    """Placement, synced API and cell databases, and (``in_process``) a scheduler on RPC."""
    placement = start_placement(conf, threads=placement_threads)
    session = ksa_session.Session(auth=token_endpoint.Token(placement.url, "admin"))
    client = PlacementClient(session, endpoint=placement.url)
    api = Databases(conf).engine("api")
    migration.sync("api", api)
    cell_mappings = setup.ensure_numbered_cells(conf, api, cells)
    cell_dbs = mappings.CellDatabases(api, cells_ttl_s=0)
    rpc = RPC(conf, allowed_remote_exmods=[ERRORS_MODULE])
    if in_process:
        manager = SchedulerManager(conf, client, api, cell_dbs)
        rpc.server(TOPIC, [manager], server="scheduler-test").start()
    return SchedulerEnv(conf, placement, client, api, cell_mappings, cell_dbs, rpc)


def stop_scheduler(env: SchedulerEnv) -> None:
    env.rpc.cleanup()
    env.cell_dbs.dispose()
    env.api.dispose()
    stop_placement(env.placement)
