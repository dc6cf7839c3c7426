"""Migration records as os-migrations and /servers/{id}/migrations show them (Nova's keys)."""

from __future__ import annotations

from stratus.common.wsgi.microversion import Version
from stratus.compute_api.store.migrations import LIVE_IN_PROGRESS, LIVE_MIGRATION
from stratus.compute_api.views import isotime_micro, links

_KEYS = ("id", "status", "instance_uuid", "source_compute", "source_node", "dest_compute",
         "dest_node", "dest_host", "old_instance_type_id", "new_instance_type_id")


def migration(base: str, row: dict, version: Version) -> dict:
    """One entry of GET /os-migrations.

    From 2.23 it names its ``migration_type``, and an in-progress live migration links to
    its /servers/{server_id}/migrations/{id} resource.
    """
    body = {key: row[key] for key in _KEYS}
    body["created_at"] = isotime_micro(row["created_at"])
    body["updated_at"] = isotime_micro(row["updated_at"])
    if version.matches((2, 23)):
        body["migration_type"] = row["migration_type"]
        if row["migration_type"] == LIVE_MIGRATION and row["status"] in LIVE_IN_PROGRESS:
            body["links"] = links(base, f"servers/{row['instance_uuid']}/migrations",
                                  str(row["id"]))
    return body


def server_migration(row: dict) -> dict:
    """One in-progress live migration of a server (2.23): Nova's keys, with the memory
    and disk progress Stratus does not track shown as null."""
    body = {key: row[key] for key in ("id", "status", "source_compute", "source_node",
                                      "dest_compute", "dest_node", "dest_host")}
    body["server_uuid"] = row["instance_uuid"]
    body["created_at"] = isotime_micro(row["created_at"])
    body["updated_at"] = isotime_micro(row["updated_at"])
    for kind in ("memory", "disk"):
        for part in ("total", "processed", "remaining"):
            body[f"{kind}_{part}_bytes"] = None
    return body
