"""POST /servers in Cells v2 fashion: checks, quota, build requests, hand-off to the conductor.

Nothing is written to a cell here. Each server becomes a build request, a request spec and
an instance mapping with no cell, in one API-database transaction; the conductor
(``ComputeTaskAPI``) schedules them later.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid as uuidlib
from dataclasses import dataclass

from stratus.cells.schema_api import utcnow
from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import BadRequest, Forbidden
from stratus.compute_api import block_devices as block_device
from stratus.compute_api import (
    conductor_api,
    quota_usage,
    requested_image,
    requested_networks,
)
from stratus.compute_api.service import ComputeService
from stratus.compute_api.store import NoSuchRow, quotas
from stratus.compute_api.store import availability_zones as az_store
from stratus.compute_api.store import build_requests as build_store
from stratus.compute_api.store import flavors as flavor_store
from stratus.compute_api.store import keypairs as keypair_store
from stratus.compute_api.store import server_groups as group_store


@dataclass(frozen=True)
class ServerRequest:
    """A validated create request (body already checked against its schema)."""

    name: str
    image_ref: str
    flavor_ref: str
    description: str | None
    metadata: dict[str, str]
    key_name: str | None
    user_data: str | None
    availability_zone: str | None
    config_drive: bool
    min_count: int
    max_count: int
    networks: object  # list of dicts, "auto", "none" or None (not given)
    security_groups: list[str]
    scheduler_hints: dict
    access_ip_v4: str | None
    access_ip_v6: str | None
    auto_disk_config: bool
    block_devices: list[dict]


@dataclass(frozen=True)
class Created:
    servers: list[dict]
    reservation_id: str
    admin_pass: str


def _check_user_data(user_data: str | None) -> None:
    if user_data is None:
        return
    try:
        base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("User data needs to be valid base 64.") from None


def create(compute: ComputeService, context: RequestContext, request: ServerRequest
           ) -> Created:
    """Check and write the build requests; raise the API error Nova would on bad input."""
    if request.min_count > request.max_count:
        raise BadRequest("min_count must be <= max_count")
    image_id, block_devices = block_device.boot_image(request.image_ref, request.block_devices)
    _check_user_data(request.user_data)
    project, user = context.project_id, context.user_id
    with compute.api_engine.connect() as conn:
        try:
            flavor = flavor_store.get(conn, request.flavor_ref,
                                      project_id=None if context.is_admin else project)
        except NoSuchRow:
            raise BadRequest("Invalid flavorRef provided.") from None
        if flavor["disabled"]:
            raise BadRequest("Flavor is disabled.")
        keypair = None
        if request.key_name is not None:
            try:
                keypair = keypair_store.get(conn, user, request.key_name)
            except NoSuchRow:
                raise BadRequest("Invalid key_name provided.") from None
        zone = request.availability_zone
        if zone is not None and zone not in az_store.known_zones(conn):
            raise BadRequest("The requested availability zone is not available")
        limits = quotas.user_limits(conn, project, user)
        extra_specs = flavor_store.extra_specs(conn, flavor["id"])
        group = _server_group(conn, context, request.scheduler_hints.get("group"))
    image = requested_image.fetch(compute.image_api.client(context), image_id)
    requested_image.check_for_flavor(image, flavor)
    if len(request.metadata) > limits["metadata_items"] >= 0:
        raise Forbidden(f"Quota exceeded for metadata_items: Requested "
                        f"{len(request.metadata)}, but already used 0 of "
                        f"{limits['metadata_items']} metadata_items")
    count = _count_within_quota(_usage(compute, project), flavor, request, limits)
    networks = requested_networks.resolve(compute.network_api, context, request.networks,
                                          request.max_count)

    reservation_id = f"r-{secrets.token_hex(4)}"
    admin_pass = secrets.token_urlsafe(9)
    instances, specs = [], []
    for index in range(count):
        instance = _instance(context, request, flavor, extra_specs, keypair, reservation_id,
                             index, count, image_id)
        instances.append(instance)
        specs.append({**_request_spec(context, request, flavor, extra_specs, instance),
                      "requested_networks": networks,
                      "image": requested_image.for_request_spec(image),
                      "block_device_mappings": block_devices})
    with compute.api_engine.begin() as conn:
        build_store.create(conn, instances, specs)
        if group is not None:
            group_store.add_members(conn, group["id"], [i["uuid"] for i in instances])
            members = quotas.group_members(conn, group["id"])
            if 0 <= limits["server_group_members"] < members:
                raise Forbidden("Quota exceeded, too many servers in group")
    # Nova's recheck: of creates racing past the first check, none may stay over quota.
    ours = _wanted(flavor, count)
    used = {key: value - ours.get(key, 0) for key, value in _usage(compute, project).items()}
    try:
        _check_quota(used, ours, limits)
    except Forbidden:
        with compute.api_engine.begin() as conn:
            build_store.delete_many(conn, [i["uuid"] for i in instances])
        raise
    compute.compute_task_api.schedule_and_build_instances(
        context, [conductor_api.BuildHandoff(i["uuid"], reservation_id) for i in instances])
    return Created(instances, reservation_id, admin_pass)


def _server_group(conn, context: RequestContext, group_uuid: str | None) -> dict | None:
    """The server group named by the ``group`` hint, which must be the caller's project's."""
    if group_uuid is None:
        return None
    try:
        group = group_store.get(conn, group_uuid)
    except NoSuchRow:
        group = None
    if group is None or (group["project_id"] != context.project_id and not context.is_admin):
        raise BadRequest(f"Instance group {group_uuid} could not be found.")
    return group


def _usage(compute: ComputeService, project: str) -> dict[str, int]:
    """instances, cores and ram of the project: cell instances plus build requests."""
    return quota_usage.usage(compute, project)


def _wanted(flavor: dict, count: int) -> dict[str, int]:
    return {"instances": count, "cores": count * flavor["vcpus"],
            "ram": count * flavor["memory_mb"]}


def _check_quota(used: dict[str, int], wanted: dict[str, int], limits: dict[str, int]) -> None:
    """Forbidden in Nova's words when ``wanted`` on top of ``used`` exceeds a limit."""
    for resource in ("instances", "cores", "ram"):
        limit = limits[resource]
        if 0 <= limit < used[resource] + wanted[resource]:
            raise Forbidden(f"Quota exceeded for {resource}: Requested {wanted[resource]}, "
                            f"but already used {used[resource]} of {limit} {resource}")


def _count_within_quota(used: dict[str, int], flavor: dict, request: ServerRequest,
                        limits: dict[str, int]) -> int:
    """max_count if it fits, else the most that fit if at least min_count (as Nova)."""
    for count in range(request.max_count, request.min_count, -1):
        try:
            _check_quota(used, _wanted(flavor, count), limits)
            return count
        except Forbidden:
            continue
    _check_quota(used, _wanted(flavor, request.min_count), limits)
    return request.min_count


def _embedded_flavor(flavor: dict, extra_specs: dict) -> dict:
    keys = ("id", "flavorid", "name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap",
            "rxtx_factor", "vcpu_weight", "is_public", "disabled")
    return {**{key: flavor[key] for key in keys}, "extra_specs": extra_specs}


def _instance(context: RequestContext, request: ServerRequest, flavor: dict, extra_specs: dict,
              keypair: dict | None, reservation_id: str, index: int, count: int,
              image_id: str) -> dict:
    name = request.name if count == 1 else f"{request.name}-{index + 1}"
    now = utcnow()
    return {
        "uuid": str(uuidlib.uuid4()), "display_name": name,
        "display_description": request.description, "hostname": _hostname(name),
        "project_id": context.project_id, "user_id": context.user_id,
        "reservation_id": reservation_id, "launch_index": index,
        "host": None, "node": None, "availability_zone": request.availability_zone,
        "vm_state": "building", "task_state": "scheduling", "power_state": 0, "progress": 0,
        "flavor": _embedded_flavor(flavor, extra_specs), "instance_type_id": flavor["id"],
        "memory_mb": flavor["memory_mb"], "vcpus": flavor["vcpus"],
        "root_gb": flavor["root_gb"], "ephemeral_gb": flavor["ephemeral_gb"],
        "image_ref": image_id,
        "key_name": request.key_name, "key_data": keypair["public_key"] if keypair else None,
        "user_data": request.user_data,
        "config_drive": "True" if request.config_drive else "",
        "access_ip_v4": request.access_ip_v4, "access_ip_v6": request.access_ip_v6,
        "auto_disk_config": request.auto_disk_config, "locked": False,
        "metadata": request.metadata, "security_groups": request.security_groups,
        "created_at": now, "updated_at": None, "launched_at": None, "terminated_at": None,
        "deleted": 0,
    }


def _hostname(name: str) -> str:
    """A DNS-safe host name from the display name, as Nova derives it."""
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower())
    return cleaned.strip("-")[:63] or "server"


def _request_spec(context: RequestContext, request: ServerRequest, flavor: dict,
                  extra_specs: dict, instance: dict) -> dict:
    """What the scheduler needs to place the server (Nova's RequestSpec fields)."""
    return {
        "instance_uuid": instance["uuid"], "project_id": context.project_id,
        "user_id": context.user_id, "flavor": _embedded_flavor(flavor, extra_specs),
        "num_instances": request.max_count,
        "availability_zone": request.availability_zone,
        "scheduler_hints": request.scheduler_hints,
        "security_groups": request.security_groups,
        "instance_group": request.scheduler_hints.get("group"),
        "ignore_hosts": [], "force_hosts": [], "force_nodes": [],
    }
