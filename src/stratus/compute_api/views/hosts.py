"""Bodies of os-services and os-hypervisors (integer ids, as before 2.53)."""

from __future__ import annotations

import orjson

from stratus.common.wsgi.microversion import Version
from stratus.compute_api.views import isotime_micro


def service(row: dict, zone: str, version: Version) -> dict:
    body = {"id": row["id"], "binary": row["binary"], "host": row["host"], "zone": zone,
            "status": "disabled" if row["disabled"] else "enabled",
            "state": "up" if row["up"] else "down",
            "updated_at": isotime_micro(row["updated_at"] or row["created_at"]),
            "disabled_reason": row["disabled_reason"]}
    if version.matches((2, 11)):
        body["forced_down"] = bool(row["forced_down"])
    return body


def hypervisor(row: dict) -> dict:
    svc = row.get("service")
    return {"id": row["id"], "hypervisor_hostname": row["hypervisor_hostname"],
            "state": "up" if svc and svc["up"] else "down",
            "status": "disabled" if svc and svc["disabled"] else "enabled"}


def _cpu_info(text: str | None, version: Version):
    if not version.matches((2, 28)):
        return text or ""
    try:
        return orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}


def hypervisor_detail(row: dict, version: Version) -> dict:
    svc = row.get("service") or {}
    free_ram = row["free_ram_mb"] if row["free_ram_mb"] is not None else \
        row["memory_mb"] - row["memory_mb_used"]
    free_disk = row["free_disk_gb"] if row["free_disk_gb"] is not None else \
        row["local_gb"] - row["local_gb_used"]
    return {**hypervisor(row),
            "vcpus": row["vcpus"], "memory_mb": row["memory_mb"], "local_gb": row["local_gb"],
            "vcpus_used": row["vcpus_used"], "memory_mb_used": row["memory_mb_used"],
            "local_gb_used": row["local_gb_used"], "hypervisor_type": row["hypervisor_type"],
            "hypervisor_version": row["hypervisor_version"], "free_ram_mb": free_ram,
            "free_disk_gb": free_disk, "current_workload": row["current_workload"] or 0,
            "running_vms": row["running_vms"] or 0,
            "cpu_info": _cpu_info(row["cpu_info"], version),
            "disk_available_least": row["disk_available_least"], "host_ip": row["host_ip"],
            "service": {"id": svc.get("id"), "host": row["host"],
                        "disabled_reason": svc.get("disabled_reason")}}


STAT_FIELDS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
               "local_gb_used", "free_ram_mb", "free_disk_gb", "current_workload",
               "running_vms", "disk_available_least")


def statistics(details: list[dict]) -> dict:
    stats = {"count": len(details)}
    for name in STAT_FIELDS:
        stats[name] = sum(d[name] or 0 for d in details)
    return {"hypervisor_statistics": stats}
