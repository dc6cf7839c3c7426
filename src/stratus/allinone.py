"""The all-in-one cloud: every service in one process, on one port, state in one directory.

On every start it brings the databases to head and makes the catalog match the URL it
serves on. On the first start it also bootstraps an admin and a demo account and writes
``clouds.yaml`` and ``openrc`` files into the state directory. A service account (project
``service``, roles admin and service, as Nova's ``nova`` user) gives the compute side its
Placement credentials. With ``fake_hosts`` set, the conductor, the scheduler and that many
fake compute agents run in the process too, on the in-process RPC transport
(``stratus.allinone_services``), once the HTTP server is listening. With
``[DEFAULT] all_in_one_rpc_services = false`` (``--api-only``) the process serves the APIs
alone and hands servers to a conductor, scheduler and agents run as separate processes.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import yaml
from oslo_config import cfg

from stratus.allinone_services import InProcessServices, RPCClients
from stratus.cells import setup as cells_setup
from stratus.cells.mappings import CellDatabases
from stratus.common.db import Databases, migration
from stratus.common.policy import Policy
from stratus.common.wsgi.dispatch import PrefixDispatcher
from stratus.compute_api import app as compute_app
from stratus.conf.database import DATABASES
from stratus.identity import app as identity_app
from stratus.identity import bootstrap, catalog, store
from stratus.identity.passwords import Passwords
from stratus.imagesvc import app as image_app
from stratus.imagesvc import default_image
from stratus.netsvc import app as network_app
from stratus.netsvc import bootstrap as network_bootstrap
from stratus.netsvc import ip_pools
from stratus.network import neutron
from stratus.placement import app as placement_app
from stratus.scheduler import report

DEMO_USER = "demo"
DEMO_PROJECT = "demo"
SERVICE_USER = "stratus"
SERVICE_PROJECT = "service"
SERVICE_CLOUD = "stratus-service"
_OPENRC_SUFFIX = {"stratus": "", "stratus-demo": "-demo", SERVICE_CLOUD: "-service"}

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class CloudEntry:
    """One entry of clouds.yaml / one openrc file."""

    name: str
    username: str
    password: str
    project_name: str


class AllInOne:
    """Assembles the services of one process into a single WSGI app."""

    def __init__(self, conf: cfg.ConfigOpts, fake_hosts: int | None = None):
        self.conf = conf
        self.state_dir = conf.state_dir
        self.databases = Databases(conf)
        self.base_url = bootstrap.public_base_url(conf)
        self.fake_hosts = fake_hosts
        # The compute API's RPC: with in-process services, those services' own clients.
        self.rpc_clients: RPCClients | None = None
        self.rpc_services: InProcessServices | None = None
        self.service_account: CloudEntry | None = None  # set by prepare()
        self.ip_pools: ip_pools.Publisher | None = None  # set by wsgi_app()

    def prepare(self) -> list[CloudEntry] | None:
        """Sync schemas, bootstrap on first start, refresh the catalog and client files."""
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        for name in DATABASES:
            engine = self.databases.engine(name)
            if not migration.at_head(name, engine):
                migration.sync(name, engine)
        cells_setup.ensure_numbered_cells(self.conf, self.databases.engine("api"),
                                          self.conf.cells.all_in_one_cells)
        entries = self._load_cloud_entries()
        first_start = entries is None
        if first_start:
            entries = [CloudEntry("stratus", "admin", _password(), "admin"),
                       CloudEntry("stratus-demo", DEMO_USER, _password(), DEMO_PROJECT)]
        self._bootstrap(entries, reset_passwords=first_start)
        self.service_account = self._ensure_service_account()
        self._prepare_images(entries[0], first_start)
        if first_start and self.conf.network.create_default_topology:
            network_bootstrap.create_defaults(self.conf, self.databases.engine("network"),
                                              self._admin_project_id(entries[0]))
        self._write_client_files([*entries, self.service_account])
        return entries if first_start else None

    def _bootstrap(self, entries: list[CloudEntry], reset_passwords: bool) -> None:
        engine = self.databases.engine("identity")
        admin, demo = entries
        if reset_passwords:
            bootstrap.bootstrap(self.conf, engine, admin_password=admin.password,
                                admin_user=admin.username, admin_project=admin.project_name,
                                public_url=f"{self.base_url}/identity")
            with engine.begin() as conn:
                bootstrap.ensure_account(conn, Passwords(self.conf), user_name=demo.username,
                                         password=demo.password,
                                         project_name=demo.project_name, role="member")
        self._refresh_catalog(engine)

    def _ensure_service_account(self) -> CloudEntry:
        """The services' own account; its password is kept in clouds.yaml."""
        known = self._load_cloud_entries(names=(SERVICE_CLOUD,))
        entry = known[0] if known else CloudEntry(SERVICE_CLOUD, SERVICE_USER, _password(),
                                                  SERVICE_PROJECT)
        with self.databases.engine("identity").begin() as conn:
            account = bootstrap.ensure_account(
                conn, Passwords(self.conf), user_name=entry.username, password=entry.password,
                project_name=entry.project_name, role="admin")
            store.grant(conn, account.user_id, account.project_id,
                        store.ensure_role(conn, "service")["id"])
        return entry

    def _refresh_catalog(self, engine: sa.Engine) -> None:
        """Endpoints follow the address we serve on; only working services are listed."""
        with engine.begin() as conn:
            store.ensure_default_domain(conn)
            for service_type, name, prefix in self.services():
                catalog.ensure_service_endpoints(conn, type=service_type, name=name,
                                                 url=f"{self.base_url}{prefix}",
                                                 region_id=self.conf.identity.region)

    def _prepare_images(self, admin: CloudEntry, first_start: bool) -> None:
        """Undo uploads a crash cut short; on first start, upload the default image."""
        images = self._image_service(Policy(self.conf))
        images.recover_interrupted_uploads()
        if first_start and self.conf.image.create_default_image:
            default_image.create_default_image(images, self._admin_project_id(admin))

    def _admin_project_id(self, admin: CloudEntry) -> str:
        with self.databases.engine("identity").connect() as conn:
            return store.find_project(conn, admin.project_name, store.DEFAULT_DOMAIN_ID)["id"]

    def _image_service(self, policy: Policy):
        return image_app.make_service(self.conf, self.databases.engine("image"), policy)

    @staticmethod
    def services() -> list[tuple[str, str, str]]:
        """(service type, name, path prefix) of every API this process serves."""
        return [("identity", "keystone", "/identity"),
                ("compute", "nova", "/compute/v2.1"),
                ("image", "glance", "/image"),
                ("placement", "placement", "/placement"),
                ("network", "neutron", "/network")]

    # Route table of each mounted API, by path prefix; tests walk these.
    ROUTE_TABLES = {"/identity": identity_app.ROUTES, "/compute": compute_app.ROUTES,
                    "/image": image_app.ROUTES, "/placement": placement_app.ROUTES,
                    "/network": network_app.ROUTES}

    def wsgi_app(self):
        policy = Policy(self.conf)
        identity = identity_app.make_service(self.conf, self.databases.engine("identity"),
                                             policy)
        self.compute = self._compute_service(policy)
        images = self._image_service(policy)
        self.network = network_app.make_service(self.conf, self.databases.engine("network"),
                                                policy)
        self.ip_pools = self._ip_pool_publisher()
        placement = placement_app.make_service(self.conf, self.databases.engine("placement"),
                                               policy)
        return PrefixDispatcher({
            "/identity": identity_app.make_app(self.conf, identity),
            "/compute": compute_app.make_app(self.conf, self.compute, identity.validate_identity),
            "/image": image_app.make_app(self.conf, images, identity.validate_identity),
            "/placement": placement_app.make_app(self.conf, placement,
                                                 identity.validate_identity),
            "/network": network_app.make_app(self.conf, self.network,
                                             identity.validate_identity),
        })

    def _compute_service(self, policy: Policy):
        """The compute API; with RPC services (here or elsewhere) it hands servers to the
        conductor."""
        api_engine = self.databases.engine("api")
        with self.databases.engine("identity").connect() as conn:
            service_catalog = catalog.token_catalog(conn)
        # The compute API finds the image service in the catalog and calls it over HTTP.
        in_process = self.conf.all_in_one_rpc_services
        if self.fake_hosts is None and in_process:
            return compute_app.make_service(self.conf, api_engine, policy,
                                            catalog=service_catalog)
        self._configure_placement_client()
        self._configure_neutron_client()
        cells = CellDatabases.from_conf(self.conf, api_engine)
        if in_process:
            self.rpc_services = InProcessServices(self.conf, self.databases, cells,
                                                 self.fake_hosts, catalog=service_catalog)
            self.rpc_clients = self.rpc_services
        else:
            self.rpc_clients = RPCClients(self.conf)
        return compute_app.make_service(
            self.conf, api_engine, policy, cells=cells,
            compute_task_api=self.rpc_clients.compute_task_api,
            compute_rpc=self.rpc_clients.compute_rpc, placement=self.rpc_clients.placement,
            catalog=service_catalog)

    def _configure_placement_client(self) -> bool:
        """The service account talks to our own Placement, unless a config file says else.

        False when there is neither a ``[placement] auth_type`` nor an all-in-one service
        account in the state directory (``prepare`` has never run there).
        """
        if self.conf.placement.auth_type:
            return True
        account = self.service_account
        if account is None:
            known = self._load_cloud_entries(names=(SERVICE_CLOUD,))
            if not known:
                return False
            account = known[0]
        report.configure_auth(
            self.conf, "password", auth_url=f"{self.base_url}/identity",
            username=account.username, password=account.password,
            project_name=account.project_name, user_domain_name="Default",
            project_domain_name="Default")
        return True

    def _configure_neutron_client(self) -> None:
        """The service account binds ports to hosts in our own network service, unless a
        config file names other ``[neutron]`` credentials."""
        account = self.service_account
        if self.conf.neutron.auth_type or account is None:
            return
        neutron.configure_auth(
            self.conf, "password", auth_url=f"{self.base_url}/identity",
            username=account.username, password=account.password,
            project_name=account.project_name, user_domain_name="Default",
            project_domain_name="Default")

    def _ip_pool_publisher(self) -> ip_pools.Publisher | None:
        """Subnets' pools go to Placement as the service account, after each change."""
        options = self.conf.network
        if not (options.publish_ip_pools and options.fabric_aggregate) \
                or not self._configure_placement_client():
            return None
        publisher = ip_pools.Publisher(self.databases.engine("network"),
                                       report.PlacementClient.from_conf(self.conf),
                                       options.fabric_aggregate)
        self.network.on_change.append(publisher.networks_changed)
        return publisher

    def start_services(self) -> None:
        """Publish the IP pools, start the conductor, scheduler and agents; call once the
        HTTP server listens."""
        if self.ip_pools is not None:
            try:
                self.ip_pools.sync_all()
            except Exception:  # Placement elsewhere and down: the next change mends it
                LOG.exception("Publishing the IP pools to Placement failed")
        if self.rpc_clients is not None:
            self.rpc_clients.start()

    def stop_services(self) -> None:
        if self.rpc_clients is not None:
            self.rpc_clients.stop()

    # --- client files ---------------------------------------------------------------

    @property
    def clouds_yaml(self) -> str:
        return os.path.join(self.state_dir, "clouds.yaml")

    def _load_cloud_entries(self, names: tuple[str, ...] = ("stratus", "stratus-demo")
                            ) -> list[CloudEntry] | None:
        if not os.path.exists(self.clouds_yaml):
            return None
        with open(self.clouds_yaml) as fh:
            clouds = yaml.safe_load(fh)["clouds"]
        return [CloudEntry(name, c["auth"]["username"], c["auth"]["password"],
                           c["auth"]["project_name"])
                for name, c in clouds.items() if name in names]

    def _write_client_files(self, entries: list[CloudEntry]) -> None:
        auth_url = f"{self.base_url}/identity"
        region = self.conf.identity.region
        clouds = {"clouds": {e.name: {
            "auth": {"auth_url": auth_url, "username": e.username, "password": e.password,
                     "project_name": e.project_name, "user_domain_name": "Default",
                     "project_domain_name": "Default"},
            "region_name": region, "interface": "public", "identity_api_version": 3,
        } for e in entries}}
        _write_private(self.clouds_yaml, yaml.safe_dump(clouds, sort_keys=False))
        for entry in entries:
            suffix = _OPENRC_SUFFIX[entry.name]
            _write_private(os.path.join(self.state_dir, f"openrc{suffix}"), "".join(
                f"export {k}={v}\n" for k, v in (
                    ("OS_AUTH_URL", auth_url), ("OS_USERNAME", entry.username),
                    ("OS_PASSWORD", entry.password), ("OS_PROJECT_NAME", entry.project_name),
                    ("OS_USER_DOMAIN_NAME", "Default"), ("OS_PROJECT_DOMAIN_NAME", "Default"),
                    ("OS_IDENTITY_API_VERSION", "3"), ("OS_REGION_NAME", region))))

    def usage(self) -> str:
        return (f"Stratus is serving at {self.base_url}\n"
                f"  export OS_CLIENT_CONFIG_FILE={self.clouds_yaml}\n"
                f"  openstack --os-cloud stratus token issue        # admin\n"
                f"  openstack --os-cloud stratus-demo token issue   # demo member\n"
                f"  or: source {os.path.join(self.state_dir, 'openrc')}")


def _password() -> str:
    return secrets.token_urlsafe(18)


def _write_private(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def placement_client(conf: cfg.ConfigOpts) -> report.PlacementClient:
    """A Placement client for commands: ``[placement]`` credentials when configured, else
    the all-in-one's service account from the state directory's clouds.yaml."""
    AllInOne(conf)._configure_placement_client()
    return report.PlacementClient.from_conf(conf)
