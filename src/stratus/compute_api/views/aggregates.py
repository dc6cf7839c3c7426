"""Aggregate bodies (integer ids, as before 2.41)."""

from __future__ import annotations

from stratus.compute_api.store.availability_zones import KEY as AZ_KEY
from stratus.compute_api.views import isotime_micro


def aggregate(row: dict, *, full: bool = True) -> dict:
    body = {"id": row["id"], "name": row["name"],
            "availability_zone": row["metadata"].get(AZ_KEY),
            "created_at": isotime_micro(row["created_at"]),
            "updated_at": isotime_micro(row["updated_at"]),
            "deleted_at": None, "deleted": False}
    if full:
        body["hosts"] = row["hosts"]
        body["metadata"] = row["metadata"]
    return body
