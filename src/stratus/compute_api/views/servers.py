"""Server bodies; build requests and cell instances render through the same functions.

A server here is a dict with the columns of ``schema_cell.instances`` plus ``metadata``,
``tags``, ``flavor`` (the embedded flavor), ``security_groups`` and ``network_info`` (its
info cache; none for a build request).
"""

from __future__ import annotations

import hashlib

from stratus.common.wsgi.microversion import Version
from stratus.compute_api import server_states
from stratus.compute_api.views import isotime, isotime_micro, links
from stratus.compute_api.views.addresses import addresses


def summary(base: str, server: dict) -> dict:
    return {"id": server["uuid"], "name": server["display_name"],
            "links": links(base, "servers", server["uuid"])}


def _host_id(server: dict) -> str:
    """Nova's hostId: a hash of host and project, so projects cannot compare hosts."""
    if not server.get("host"):
        return ""
    return hashlib.sha224((server["project_id"] + server["host"]).encode()).hexdigest()


def _image(base: str, server: dict):
    image = server.get("image_ref")
    if not image:
        return ""
    return {"id": image, "links": [{"rel": "bookmark", "href": f"{base}/images/{image}"}]}


def detail(base: str, server: dict, version: Version, *, extended: bool,
           host_status: bool, admin: bool) -> dict:
    return detail_renderer(base, version, extended=extended, host_status=host_status,
                           admin=admin)(server)


def detail_renderer(base: str, version: Version, *, extended: bool, host_status: bool,
                    admin: bool):
    """A function rendering one server's detail; version checks done once for a whole list.

    ``extended`` (the OS-EXT-SRV-ATTR:* fields) and ``host_status`` are what policy lets
    the caller see (os-extended-server-attributes, servers:show:host_status); ``admin``
    decides only whether a fault's details (a traceback) are shown, as in Nova.
    """
    since = {minor: version.matches((2, minor)) for minor in (3, 9, 16, 19, 26)}

    def render(server: dict) -> dict:
        return _detail(base, server, since, extended, host_status, admin)

    return render


# Fields Nova leaves out of the answer to PUT /servers/{id} before 2.75.
_NOT_IN_UPDATE = ("OS-EXT-AZ:availability_zone", "config_drive", "key_name",
                  "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at", "security_groups",
                  "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state",
                  "os-extended-volumes:volumes_attached")


def updated(base: str, server: dict, version: Version, *, admin: bool) -> dict:
    """The answer to an update: the detail view without what Nova adds only from 2.75
    (extended attributes, host_status, AZ, config drive, key, usage, security groups,
    extended status and volumes)."""
    body = detail(base, server, version, extended=False, host_status=False, admin=admin)
    for key in _NOT_IN_UPDATE:
        body.pop(key, None)
    return body


def _detail(base: str, server: dict, since: dict[int, bool], extended: bool,
            host_status: bool, admin: bool) -> dict:
    flavor_id = server["flavor"].get("flavorid", "")
    body = {
        **summary(base, server),
        "status": server_states.status(server["vm_state"], server.get("task_state")),
        "tenant_id": server["project_id"], "user_id": server["user_id"],
        "metadata": server.get("metadata", {}), "hostId": _host_id(server),
        "image": _image(base, server),
        "flavor": {"id": flavor_id,
                   "links": [{"rel": "bookmark", "href": f"{base}/flavors/{flavor_id}"}]},
        "created": isotime(server["created_at"]),
        "updated": isotime(server.get("updated_at") or server["created_at"]),
        "addresses": addresses(server.get("network_info") or []),
        "accessIPv4": server.get("access_ip_v4") or "",
        "accessIPv6": server.get("access_ip_v6") or "",
        "OS-DCF:diskConfig": "AUTO" if server.get("auto_disk_config") else "MANUAL",
        "progress": server.get("progress") or 0,
        "OS-EXT-AZ:availability_zone": server.get("availability_zone") or "",
        "config_drive": server.get("config_drive") or "",
        "key_name": server.get("key_name"),
        "OS-SRV-USG:launched_at": isotime_micro(server.get("launched_at")),
        "OS-SRV-USG:terminated_at": isotime_micro(server.get("terminated_at")),
        "OS-EXT-STS:task_state": server.get("task_state"),
        "OS-EXT-STS:vm_state": server["vm_state"],
        "OS-EXT-STS:power_state": server.get("power_state") or 0,
        "os-extended-volumes:volumes_attached": [],
        "security_groups": [{"name": name} for name in server.get("security_groups")
                            or ["default"]],
    }
    if server.get("fault"):
        body["fault"] = _fault(server["fault"], admin)
    if extended:
        body["OS-EXT-SRV-ATTR:host"] = server.get("host")
        body["OS-EXT-SRV-ATTR:instance_name"] = f"instance-{server.get('id') or 0:08x}"
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = server.get("node")
        if since[3]:
            body.update({
                "OS-EXT-SRV-ATTR:reservation_id": server.get("reservation_id"),
                "OS-EXT-SRV-ATTR:launch_index": server.get("launch_index"),
                "OS-EXT-SRV-ATTR:hostname": server.get("hostname"),
                "OS-EXT-SRV-ATTR:kernel_id": server.get("kernel_id") or "",
                "OS-EXT-SRV-ATTR:ramdisk_id": server.get("ramdisk_id") or "",
                "OS-EXT-SRV-ATTR:root_device_name": server.get("root_device_name"),
                "OS-EXT-SRV-ATTR:user_data": server.get("user_data")})
    if host_status and since[16]:
        body["host_status"] = "" if not server.get("host") else \
            server.get("host_status") or "UNKNOWN"
    if since[9]:
        body["locked"] = bool(server.get("locked"))
    if since[19]:
        body["description"] = server.get("display_description")
    if since[26]:
        body["tags"] = list(server.get("tags") or [])
    return body


def _fault(fault: dict, admin: bool) -> dict:
    """Nova hides the details (a traceback) of an internal error from non-admins."""
    body = {"code": fault["code"], "created": isotime(fault["created_at"]),
            "message": fault["message"]}
    if fault.get("details") and (admin or fault["code"] != 500):
        body["details"] = fault["details"]
    return body


def created(base: str, server: dict, admin_pass: str | None) -> dict:
    body = {"id": server["uuid"], "links": links(base, "servers", server["uuid"]),
            "OS-DCF:diskConfig": "AUTO" if server.get("auto_disk_config") else "MANUAL",
            "security_groups": [{"name": name} for name in server["security_groups"]]}
    if admin_pass is not None:
        body["adminPass"] = admin_pass
    return {"server": body}

