"""The compute API's route table and WSGI app (mounted at /compute)."""

from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from stratus.cells.mappings import CellDatabases
from stratus.common import auth
from stratus.common.policy import Policy
from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Route, build_app
from stratus.common.wsgi.body import Schema
from stratus.common.wsgi.spec import Spec, Versioned
from stratus.compute_api import conductor_api, image_api, versions
from stratus.compute_api.handlers import (
    aggregates,
    availability_zones,
    flavors,
    hypervisors,
    images,
    instance_actions,
    keypairs,
    migrations,
    quotas,
    server_actions,
    server_details,
    server_groups,
    server_networks,
    servers,
    services,
)
from stratus.compute_api.handlers import versions as versions_h
from stratus.compute_api.schemas import aggregates as aggregate_schemas
from stratus.compute_api.schemas import flavors as flavor_schemas
from stratus.compute_api.schemas import interfaces as interface_schemas
from stratus.compute_api.schemas import keypairs as keypair_schemas
from stratus.compute_api.schemas import migrations as migration_schemas
from stratus.compute_api.schemas import quotas as quota_schemas
from stratus.compute_api.schemas import server_actions as server_action_schemas
from stratus.compute_api.schemas import server_groups as group_schemas
from stratus.compute_api.schemas import servers as server_schemas
from stratus.compute_api.schemas import services as service_schemas
from stratus.compute_api.service import ComputeService
from stratus.network import neutron

V = "/v2.1"
P = "os_compute_api"
FLAVOR = f"{V}/flavors/{{flavor_id}}"
SERVER = f"{V}/servers/{{server_id}}"
IMAGE = f"{V}/images/{{image_id}}"
# The image proxy: /images up to 2.35, its metadata up to 2.38 (handlers/images.py).
IMAGES = Spec(max_version="2.35")
IMAGE_METADATA = Spec(max_version="2.38")
IMAGE_METADATA_BODY = Spec(body=server_schemas.metadata, max_version="2.38")


def _spans(table: list[tuple[str, Schema]]) -> tuple[Versioned, ...]:
    """A ``for_version`` table (oldest first) as the version spans the API reference reads."""
    names = [version for version, _ in versions.HISTORY]
    spans = []
    for index, (since, schema) in enumerate(table):
        until = table[index + 1][0] if index + 1 < len(table) else None
        spans.append(Versioned(schema, None if since == names[0] else since,
                               names[names.index(until) - 1] if until else None))
    return tuple(spans)


def _any_service_action(names: list[str]) -> Schema:
    """What PUT /os-services/{action} accepts over the ``names`` actions, for the reference.

    The handler validates with the one schema of the action in the path.
    """
    branches = [service_schemas.ACTIONS[name].schema for name in names]
    return Schema({"type": "object", "required": ["host", "binary"], "anyOf": branches})


_SERVICE_UPDATE = (
    Versioned(_any_service_action(["enable", "disable", "disable-log-reason"]), None, "2.10"),
    Versioned(_any_service_action(list(service_schemas.ACTIONS)), "2.11"))
_TAGS = Spec(min_version="2.26")
# What a server's detail view shows is policy too (Nova's rules), not the admin flag.
_SERVER_VIEW_CHECKS = {"extended_attributes": f"{P}:os-extended-server-attributes",
                       "host_status": f"{P}:servers:show:host_status"}

ROUTES = [
    Route("/", {"GET": versions_h.root}, public=True),
    Route(V, {"GET": versions_h.v21}, public=True),
    # --- flavors
    Route(f"{V}/flavors", {"GET": flavors.list_flavors, "POST": flavors.create_flavor},
          rules={"GET": f"{P}:flavors:index", "POST": f"{P}:os-flavor-manage:create"},
          specs={"POST": Spec(body=flavor_schemas.create)}),
    Route(f"{V}/flavors/detail", {"GET": flavors.list_flavors_detail},
          rules={"GET": f"{P}:flavors:index"}),
    Route(FLAVOR, {"GET": flavors.show_flavor, "DELETE": flavors.delete_flavor},
          rules={"GET": f"{P}:flavors:show", "DELETE": f"{P}:os-flavor-manage:delete"}),
    Route(f"{FLAVOR}/action", {"POST": flavors.flavor_action},
          actions={"POST": {
              "addTenantAccess": f"{P}:os-flavor-access:add_tenant_access",
              "removeTenantAccess": f"{P}:os-flavor-access:remove_tenant_access"}},
          specs={"POST": Spec(body=flavor_schemas.access_action)}),
    Route(f"{FLAVOR}/os-flavor-access", {"GET": flavors.list_access},
          rules={"GET": f"{P}:os-flavor-access"}),
    Route(f"{FLAVOR}/os-extra_specs",
          {"GET": flavors.list_extra_specs, "POST": flavors.create_extra_specs},
          rules={"GET": f"{P}:os-flavor-extra-specs:index",
                 "POST": f"{P}:os-flavor-extra-specs:create"},
          specs={"POST": Spec(body=flavor_schemas.extra_specs)}),
    Route(f"{FLAVOR}/os-extra_specs/{{key}}",
          {"GET": flavors.show_extra_spec, "PUT": flavors.update_extra_spec,
           "DELETE": flavors.delete_extra_spec},
          rules={"GET": f"{P}:os-flavor-extra-specs:show",
                 "PUT": f"{P}:os-flavor-extra-specs:update",
                 "DELETE": f"{P}:os-flavor-extra-specs:delete"},
          specs={"PUT": Spec(body=flavor_schemas.extra_spec_item)}),
    # --- key pairs
    Route(f"{V}/os-keypairs", {"GET": keypairs.list_keypairs, "POST": keypairs.create_keypair},
          rules={"GET": f"{P}:os-keypairs:index", "POST": f"{P}:os-keypairs:create"},
          specs={"POST": Spec(body=_spans(keypair_schemas.create))}),
    Route(f"{V}/os-keypairs/{{name}}",
          {"GET": keypairs.show_keypair, "DELETE": keypairs.delete_keypair},
          rules={"GET": f"{P}:os-keypairs:show", "DELETE": f"{P}:os-keypairs:delete"}),
    # --- servers
    Route(f"{V}/servers", {"GET": servers.list_servers, "POST": servers.create_server},
          rules={"GET": f"{P}:servers:index", "POST": f"{P}:servers:create"},
          checks={"GET": {"all_tenants": f"{P}:servers:index:get_all_tenants"}},
          specs={"POST": Spec(body=_spans(server_schemas.create))}),
    Route(f"{V}/servers/detail", {"GET": servers.list_servers_detail},
          rules={"GET": f"{P}:servers:detail"},
          checks={"GET": {"all_tenants": f"{P}:servers:detail:get_all_tenants",
                          **_SERVER_VIEW_CHECKS}}),
    Route(SERVER, {"GET": servers.show_server, "PUT": servers.update_server,
                   "DELETE": servers.delete_server},
          rules={"GET": f"{P}:servers:show", "PUT": f"{P}:servers:update",
                 "DELETE": f"{P}:servers:delete"},
          checks={"GET": _SERVER_VIEW_CHECKS},
          specs={"PUT": Spec(body=_spans(server_schemas.update))}),
    Route(f"{SERVER}/action", {"POST": server_actions.server_action},
          actions={"POST": {
              "reboot": f"{P}:servers:reboot", "os-stop": f"{P}:servers:stop",
              "os-start": f"{P}:servers:start", "pause": f"{P}:os-pause-server:pause",
              "unpause": f"{P}:os-pause-server:unpause",
              "suspend": f"{P}:os-suspend-server:suspend",
              "resume": f"{P}:os-suspend-server:resume",
              "lock": f"{P}:os-lock-server:lock", "unlock": f"{P}:os-lock-server:unlock",
              "os-resetState": f"{P}:os-admin-actions:reset_state",
              "os-getConsoleOutput": f"{P}:os-console-output",
              "createImage": f"{P}:servers:create_image",
              "resize": f"{P}:servers:resize",
              "confirmResize": f"{P}:servers:confirm_resize",
              "revertResize": f"{P}:servers:revert_resize",
              "migrate": f"{P}:os-migrate-server:migrate",
              "rebuild": f"{P}:servers:rebuild", "evacuate": f"{P}:os-evacuate"}},
          # The rebuild answer is the server's view, which these checks shape.
          checks={"POST": {"unlock_override": f"{P}:os-lock-server:unlock:unlock_override",
                           **_SERVER_VIEW_CHECKS}},
          specs={"POST": Spec(body=server_action_schemas.ACTION)}),
    Route(f"{SERVER}/metadata",
          {"GET": server_details.list_metadata, "POST": server_details.create_metadata,
           "PUT": server_details.replace_metadata},
          rules={"GET": f"{P}:server-metadata:index", "POST": f"{P}:server-metadata:create",
                 "PUT": f"{P}:server-metadata:update_all"},
          specs={"POST": Spec(body=server_schemas.metadata),
                 "PUT": Spec(body=server_schemas.metadata)}),
    Route(f"{SERVER}/metadata/{{key}}",
          {"GET": server_details.show_metadata_item, "PUT": server_details.update_metadata_item,
           "DELETE": server_details.delete_metadata_item},
          rules={"GET": f"{P}:server-metadata:show", "PUT": f"{P}:server-metadata:update",
                 "DELETE": f"{P}:server-metadata:delete"},
          specs={"PUT": Spec(body=server_schemas.metadata_item)}),
    Route(f"{SERVER}/tags",
          {"GET": server_details.list_tags, "PUT": server_details.replace_tags,
           "DELETE": server_details.delete_tags},
          rules={"GET": f"{P}:os-server-tags:index", "PUT": f"{P}:os-server-tags:update_all",
                 "DELETE": f"{P}:os-server-tags:delete_all"},
          specs={"GET": _TAGS, "PUT": Spec(body=server_schemas.tags, min_version="2.26"),
                 "DELETE": _TAGS}),
    Route(f"{SERVER}/tags/{{tag}}",
          {"GET": server_details.check_tag, "PUT": server_details.add_tag,
           "DELETE": server_details.delete_tag},
          rules={"GET": f"{P}:os-server-tags:show", "PUT": f"{P}:os-server-tags:update",
                 "DELETE": f"{P}:os-server-tags:delete"},
          specs={"GET": _TAGS, "PUT": _TAGS, "DELETE": _TAGS}),
    # --- a server's addresses and ports
    Route(f"{SERVER}/ips", {"GET": server_networks.list_ips},
          rules={"GET": f"{P}:ips:index"}),
    Route(f"{SERVER}/ips/{{network_label}}", {"GET": server_networks.show_ips},
          rules={"GET": f"{P}:ips:show"}),
    Route(f"{SERVER}/os-interface",
          {"GET": server_networks.list_interfaces, "POST": server_networks.attach_interface},
          rules={"GET": f"{P}:os-attach-interfaces:list",
                 "POST": f"{P}:os-attach-interfaces:create"},
          specs={"POST": Spec(body=interface_schemas.create)}),
    Route(f"{SERVER}/os-interface/{{port_id}}",
          {"GET": server_networks.show_interface,
           "DELETE": server_networks.detach_interface},
          rules={"GET": f"{P}:os-attach-interfaces:show",
                 "DELETE": f"{P}:os-attach-interfaces:delete"}),
    # --- images (proxy to the image service)
    Route(f"{V}/images", {"GET": images.list_images},
          rules={"GET": f"{P}:images:index"}, specs={"GET": IMAGES}),
    Route(f"{V}/images/detail", {"GET": images.list_images_detail},
          rules={"GET": f"{P}:images:detail"}, specs={"GET": IMAGES}),
    Route(IMAGE, {"GET": images.show_image, "DELETE": images.delete_image},
          rules={"GET": f"{P}:images:show", "DELETE": f"{P}:images:delete"},
          specs={"GET": IMAGES, "DELETE": IMAGES}),
    Route(f"{IMAGE}/metadata",
          {"GET": images.list_metadata, "POST": images.create_metadata,
           "PUT": images.replace_metadata},
          rules={"GET": f"{P}:image-metadata:index", "POST": f"{P}:image-metadata:create",
                 "PUT": f"{P}:image-metadata:update_all"},
          specs={"GET": IMAGE_METADATA, "POST": IMAGE_METADATA_BODY,
                 "PUT": IMAGE_METADATA_BODY}),
    Route(f"{IMAGE}/metadata/{{key}}",
          {"GET": images.show_metadata_item, "PUT": images.update_metadata_item,
           "DELETE": images.delete_metadata_item},
          rules={"GET": f"{P}:image-metadata:show", "PUT": f"{P}:image-metadata:update",
                 "DELETE": f"{P}:image-metadata:delete"},
          specs={"GET": IMAGE_METADATA, "DELETE": IMAGE_METADATA,
                 "PUT": Spec(body=server_schemas.metadata_item, max_version="2.38")}),
    # --- quotas and limits
    Route(f"{V}/limits", {"GET": quotas.limits}, rules={"GET": f"{P}:limits"},
          checks={"GET": {"other_project": f"{P}:limits:other_project"}}),
    Route(f"{V}/os-quota-sets/{{project_id}}",
          {"GET": quotas.show, "PUT": quotas.update, "DELETE": quotas.delete},
          rules={"GET": f"{P}:os-quota-sets:show", "PUT": f"{P}:os-quota-sets:update",
                 "DELETE": f"{P}:os-quota-sets:delete"},
          specs={"PUT": Spec(body=_spans(quota_schemas.update))}),
    Route(f"{V}/os-quota-sets/{{project_id}}/defaults", {"GET": quotas.defaults},
          rules={"GET": f"{P}:os-quota-sets:defaults"}),
    Route(f"{V}/os-quota-sets/{{project_id}}/detail", {"GET": quotas.detail},
          rules={"GET": f"{P}:os-quota-sets:detail"}),
    # --- hosts: hypervisors, services, availability zones
    Route(f"{V}/os-hypervisors", {"GET": hypervisors.list_hypervisors},
          rules={"GET": f"{P}:os-hypervisors:list"}),
    Route(f"{V}/os-hypervisors/detail", {"GET": hypervisors.list_hypervisors_detail},
          rules={"GET": f"{P}:os-hypervisors:list-detail"}),
    Route(f"{V}/os-hypervisors/statistics", {"GET": hypervisors.statistics},
          rules={"GET": f"{P}:os-hypervisors:statistics"}),
    Route(f"{V}/os-hypervisors/{{hypervisor_ref}}", {"GET": hypervisors.show_hypervisor},
          rules={"GET": f"{P}:os-hypervisors:show"}),
    Route(f"{V}/os-hypervisors/{{hypervisor_ref}}/search", {"GET": hypervisors.search},
          rules={"GET": f"{P}:os-hypervisors:search"}),
    Route(f"{V}/os-hypervisors/{{hypervisor_ref}}/servers", {"GET": hypervisors.servers},
          rules={"GET": f"{P}:os-hypervisors:servers"}),
    Route(f"{V}/os-services", {"GET": services.list_services},
          rules={"GET": f"{P}:os-services:list"}),
    Route(f"{V}/os-services/{{service_ref}}",
          {"PUT": services.update_service, "DELETE": services.delete_service},
          rules={"PUT": f"{P}:os-services:update", "DELETE": f"{P}:os-services:delete"},
          specs={"PUT": Spec(body=_SERVICE_UPDATE)}),
    Route(f"{V}/os-availability-zone", {"GET": availability_zones.list_zones},
          rules={"GET": f"{P}:os-availability-zone:list"}),
    Route(f"{V}/os-availability-zone/detail", {"GET": availability_zones.list_zones_detail},
          rules={"GET": f"{P}:os-availability-zone:detail"}),
    Route(f"{SERVER}/os-instance-actions", {"GET": instance_actions.list_actions},
          rules={"GET": f"{P}:os-instance-actions:list"}),
    Route(f"{SERVER}/os-instance-actions/{{request_id}}", {"GET": instance_actions.show_action},
          rules={"GET": f"{P}:os-instance-actions:show"},
          checks={"GET": {"events": f"{P}:os-instance-actions:events"}}),
    # --- migrations: every cell's records (admins), a server's live migrations (2.23)
    Route(f"{V}/os-migrations", {"GET": migrations.list_migrations},
          rules={"GET": f"{P}:os-migrations:index"},
          specs={"GET": Spec(query=migration_schemas.list_query)}),
    Route(f"{SERVER}/migrations", {"GET": migrations.list_server_migrations},
          rules={"GET": f"{P}:servers:migrations:index"},
          specs={"GET": Spec(min_version="2.23")}),
    Route(f"{SERVER}/migrations/{{migration_id}}", {"GET": migrations.show_server_migration},
          rules={"GET": f"{P}:servers:migrations:show"},
          specs={"GET": Spec(min_version="2.23")}),
    # --- server groups
    Route(f"{V}/os-server-groups",
          {"GET": server_groups.list_groups, "POST": server_groups.create_group},
          rules={"GET": f"{P}:os-server-groups:index", "POST": f"{P}:os-server-groups:create"},
          checks={"GET": {"all_projects": f"{P}:os-server-groups:index:all_projects"}},
          specs={"POST": Spec(body=_spans(group_schemas.create))}),
    Route(f"{V}/os-server-groups/{{group_id}}",
          {"GET": server_groups.show_group, "DELETE": server_groups.delete_group},
          rules={"GET": f"{P}:os-server-groups:show", "DELETE": f"{P}:os-server-groups:delete"}),
    # --- aggregates
    Route(f"{V}/os-aggregates",
          {"GET": aggregates.list_aggregates, "POST": aggregates.create_aggregate},
          rules={"GET": f"{P}:os-aggregates:index", "POST": f"{P}:os-aggregates:create"},
          specs={"POST": Spec(body=aggregate_schemas.create)}),
    Route(f"{V}/os-aggregates/{{aggregate_id}}",
          {"GET": aggregates.show_aggregate, "PUT": aggregates.update_aggregate,
           "DELETE": aggregates.delete_aggregate},
          rules={"GET": f"{P}:os-aggregates:show", "PUT": f"{P}:os-aggregates:update",
                 "DELETE": f"{P}:os-aggregates:delete"},
          specs={"PUT": Spec(body=aggregate_schemas.update)}),
    Route(f"{V}/os-aggregates/{{aggregate_id}}/action", {"POST": aggregates.aggregate_action},
          actions={"POST": {"add_host": f"{P}:os-aggregates:add_host",
                            "remove_host": f"{P}:os-aggregates:remove_host",
                            "set_metadata": f"{P}:os-aggregates:set_metadata"}},
          specs={"POST": Spec(body=aggregate_schemas.action)}),
]


def make_service(conf: cfg.ConfigOpts, api_engine: sa.Engine, policy: Policy,
                 cells: CellDatabases | None = None,
                 compute_task_api: conductor_api.ComputeTaskAPI | None = None,
                 compute_rpc: object | None = None, placement: object | None = None,
                 catalog: list[dict] | None = None) -> ComputeService:
    """``catalog``: the service catalog the image and network endpoints are taken from (see
    image_api and network.neutron)."""
    cells = cells or CellDatabases(api_engine, cell_timeout_s=conf.cells.cell_timeout)
    return ComputeService(api_engine=api_engine, cells=cells, policy=policy,
                          compute_task_api=compute_task_api or conductor_api.NotYetScheduled(),
                          image_api=image_api.ImageAPI(conf, catalog),
                          compute_rpc=compute_rpc, placement=placement,
                          network_api=neutron.NeutronClients(conf, catalog),
                          service_down_time=conf.service_down_time,
                          allow_resize_to_same_host=conf.allow_resize_to_same_host)


def make_app(conf: cfg.ConfigOpts, compute: ComputeService, token_validator=None):
    """The compute WSGI app; tokens are checked in-process when ``token_validator`` is given."""
    authenticator = auth.authenticator_for(conf, token_validator)
    app = build_app(routes=ROUTES, error_format=errors.NOVA, authenticator=authenticator,
                    service=compute, versions=versions.RANGE,
                    request_id_headers=("x-openstack-request-id", "x-compute-request-id"))
    return auth.wrap_keystonemiddleware(app, conf)
