"""/os-quota-sets (show, detail, defaults, update, delete) and /limits."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest
from stratus.compute_api import quota_usage
from stratus.compute_api.handlers import authorize, service, want
from stratus.compute_api.schemas import as_bool, for_version
from stratus.compute_api.schemas import quotas as schemas
from stratus.compute_api.store import quotas


def _shown(req: Request, limits: dict[str, int]) -> dict[str, int]:
    """The resources this microversion shows (network ones only before 2.36)."""
    body = dict(limits)
    if not want(req, "2.36"):
        body.update(quotas.NETWORK_DEFAULTS)
    return body


def _limits(req: Request, project_id: str, user_id: str | None) -> dict[str, int]:
    with service(req).api_engine.connect() as conn:
        if user_id is None:
            return quotas.project_limits(conn, project_id)
        return quotas.user_limits(conn, project_id, user_id)


def show(req: Request, resp, project_id: str) -> None:
    user_id = req.get_param("user_id")
    authorize(req, {"project_id": project_id, "user_id": user_id or req.auth.user_id})
    send(resp, {"quota_set": {"id": project_id,
                              **_shown(req, _limits(req, project_id, user_id))}})


def detail(req: Request, resp, project_id: str) -> None:
    user_id = req.get_param("user_id")
    authorize(req, {"project_id": project_id, "user_id": user_id or req.auth.user_id})
    limits = _shown(req, _limits(req, project_id, user_id))
    used = quota_usage.usage(service(req), project_id, user_id)
    send(resp, {"quota_set": {"id": project_id, **{
        name: {"limit": limit, "in_use": used.get(name, 0), "reserved": 0}
        for name, limit in limits.items()}}})


def defaults(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id})
    with service(req).api_engine.connect() as conn:
        limits = quotas.defaults(conn)
    send(resp, {"quota_set": {"id": project_id, **_shown(req, limits)}})


def update(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id})
    user_id = req.get_param("user_id")
    body = dict(json_body(req, for_version(schemas.update, req.version))["quota_set"])
    force = as_bool(body.pop("force", False))
    changes = {name: int(value) for name, value in body.items()
               if name in quotas.RESOURCES}
    if not force and changes:
        used = quota_usage.usage(service(req), project_id, user_id)
        for name, limit in changes.items():
            if 0 <= limit < used[name]:
                raise BadRequest(f"Quota limit {limit} for {name} must be greater than or "
                                 f"equal to already used and reserved {used[name]}.")
    with service(req).api_engine.begin() as conn:
        quotas.set_limits(conn, project_id, user_id, changes)
    send(resp, {"quota_set": _shown(req, _limits(req, project_id, user_id))})


def delete(req: Request, resp, project_id: str) -> None:
    authorize(req, {"project_id": project_id})
    with service(req).api_engine.begin() as conn:
        quotas.delete_limits(conn, project_id, req.get_param("user_id"))
    send(resp, status=202)


_ABSOLUTE = {"metadata_items": "maxServerMeta", "injected_files": "maxPersonality",
             "injected_file_content_bytes": "maxPersonalitySize", "key_pairs": "maxTotalKeypairs",
             "server_groups": "maxServerGroups", "server_group_members": "maxServerGroupMembers",
             "cores": "maxTotalCores", "instances": "maxTotalInstances", "ram": "maxTotalRAMSize"}
_USED = {"cores": "totalCoresUsed", "instances": "totalInstancesUsed", "ram": "totalRAMUsed",
         "server_groups": "totalServerGroupsUsed"}
_NETWORK_ABSOLUTE = {"maxSecurityGroups": 10, "maxSecurityGroupRules": 20,
                     "maxTotalFloatingIps": 10, "totalFloatingIpsUsed": 0,
                     "totalSecurityGroupsUsed": 0, "maxImageMeta": 128}


def limits(req: Request, resp) -> None:
    authorize(req)
    project_id = req.auth.project_id
    other = req.get_param("tenant_id")
    if other and other != project_id:
        authorize(req, {"project_id": other}, check="other_project")
        project_id = other
    with service(req).api_engine.connect() as conn:
        hard = quotas.project_limits(conn, project_id)
    used = quota_usage.usage(service(req), project_id)
    absolute = {name: hard[resource] for resource, name in _ABSOLUTE.items()}
    absolute.update({name: used[resource] for resource, name in _USED.items()})
    if not want(req, "2.36"):
        absolute.update(_NETWORK_ABSOLUTE)
    send(resp, {"limits": {"rate": [], "absolute": absolute}})
