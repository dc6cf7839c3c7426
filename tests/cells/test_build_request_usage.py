"""Quota usage of build requests: summed in SQL, rows from before api_0005 read from JSON."""

from __future__ import annotations

import uuid

import orjson
import sqlalchemy as sa

from stratus.cells import schema_api as api
from stratus.compute_api.store import build_requests as build_store


def _instance(project: str, user: str, vcpus: int, memory_mb: int) -> dict:
    return {"uuid": str(uuid.uuid4()), "project_id": project, "user_id": user,
            "vcpus": vcpus, "memory_mb": memory_mb}


def test_usage_sums_build_requests_per_project_and_user(cells_env):
    servers = [_instance("p1", "alice", 2, 512), _instance("p1", "alice", 4, 1024),
               _instance("p1", "bob", 1, 256), _instance("p2", "alice", 8, 8192)]
    with cells_env.api.begin() as conn:
        build_store.create(conn, servers, [{} for _ in servers])
        # A build request written before api_0005: sizes only in its instance JSON.
        old = _instance("p1", "bob", 3, 300)
        conn.execute(sa.insert(api.build_requests).values(
            instance_uuid=old["uuid"], project_id="p1", user_id="bob",
            instance=orjson.dumps(old).decode(), created_at=api.utcnow()))
    with cells_env.api.connect() as conn:
        assert build_store.usage(conn, "p1") == {"instances": 4, "cores": 10, "ram": 2092}
        assert build_store.usage(conn, "p1", "alice") == {"instances": 2, "cores": 6,
                                                          "ram": 1536}
        assert build_store.usage(conn, "p1", "bob") == {"instances": 2, "cores": 4, "ram": 556}
        assert build_store.usage(conn, "p3") == {"instances": 0, "cores": 0, "ram": 0}
    with cells_env.api.begin() as conn:
        build_store.delete(conn, servers[0]["uuid"])
    with cells_env.api.connect() as conn:
        assert build_store.usage(conn, "p1", "alice") == {"instances": 1, "cores": 4,
                                                          "ram": 1024}
