"""Finding a service's endpoint in the catalog of a Keystone v3 token."""

from __future__ import annotations

from collections.abc import Iterable


def endpoint(catalog: Iterable[dict], service_type: str, interface: str,
             region: str | None) -> str | None:
    """The ``service_type`` endpoint for ``interface`` (and ``region``, when given)."""
    for service in catalog:
        if service.get("type") != service_type:
            continue
        for found in service.get("endpoints", []):
            if found.get("interface") == interface and (
                    region is None or found.get("region_id") == region
                    or found.get("region") == region):
                return found["url"]
    return None
