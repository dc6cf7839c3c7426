"""Flavor bodies: the summary in lists, the full view in detail and show."""

from __future__ import annotations

from stratus.compute_api.views import links


def summary(base: str, row: dict) -> dict:
    return {"id": row["flavorid"], "name": row["name"],
            "links": links(base, "flavors", row["flavorid"])}


def detail(base: str, row: dict) -> dict:
    return {**summary(base, row),
            "ram": row["memory_mb"], "disk": row["root_gb"], "vcpus": row["vcpus"],
            "OS-FLV-EXT-DATA:ephemeral": row["ephemeral_gb"],
            "OS-FLV-DISABLED:disabled": bool(row["disabled"]),
            # Nova shows a swap of 0 as an empty string.
            "swap": row["swap"] or "",
            "rxtx_factor": row["rxtx_factor"],
            "os-flavor-access:is_public": bool(row["is_public"])}


def access(flavorid: str, projects: list[str]) -> dict:
    return {"flavor_access": [{"flavor_id": flavorid, "tenant_id": project}
                              for project in projects]}
