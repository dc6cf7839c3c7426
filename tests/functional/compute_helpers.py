"""Helpers for compute API tests: an HTTP client per caller, and a stand-in for the conductor.

``land_in_cell`` puts a server into a cell with the store functions the conductor uses
(create the instance, drop the build request, point the mapping at the cell), so list/show/
delete of servers in cells can be tested through the API of a cloud with no compute hosts.
"""

from __future__ import annotations

import uuid as uuidlib

import requests
import sqlalchemy as sa

from stratus.cells import mappings
from stratus.cells.schema_api import utcnow
from stratus.cells.schema_cell import compute_nodes, services
from stratus.compute_api.store import build_requests as build_store
from stratus.compute_api.store import instances as instance_store

# A public, active image every server-creating test boots; ensure_flavor puts it in place.
IMAGE = "6b0e2f4e-5c1b-4c7e-9a51-0f6b0e2f4e5c"
IMAGE_BYTES = b"stratus test disk" * 64


class Compute:
    """Requests to /compute/v2.1 with one token, at one microversion."""

    def __init__(self, cloud, token: str, version: str | None = "2.38"):
        self.cloud = cloud
        self.base = f"{cloud.url}/compute/v2.1"
        self.token = token
        self.version = version

    def at(self, version: str | None) -> Compute:
        return Compute(self.cloud, self.token, version)

    def request(self, method: str, path: str, json=None, headers=None,
                **kwargs) -> requests.Response:
        all_headers = {"X-Auth-Token": self.token}
        if self.version:
            all_headers["OpenStack-API-Version"] = f"compute {self.version}"
        all_headers.update(headers or {})
        return requests.request(method, self.base + path, json=json, headers=all_headers,
                                **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def admin(cloud, version: str | None = "2.38") -> Compute:
    return Compute(cloud, cloud.admin_token(), version)


def demo(cloud, version: str | None = "2.38") -> Compute:
    return Compute(cloud, cloud.demo_token(), version)


def scoped_token_body(cloud, entry) -> dict:
    resp = requests.post(f"{cloud.identity}/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": entry.username, "domain": {"id": "default"}, "password": entry.password}}},
        "scope": {"project": {"name": entry.project_name, "domain": {"id": "default"}}}}})
    assert resp.status_code == 201, resp.text
    return resp.json()["token"]


def demo_project_id(cloud) -> str:
    return scoped_token_body(cloud, cloud.demo)["project"]["id"]


def admin_project_id(cloud) -> str:
    return scoped_token_body(cloud, cloud.admin)["project"]["id"]


def demo_user_id(cloud) -> str:
    return scoped_token_body(cloud, cloud.demo)["user"]["id"]


def fault(resp: requests.Response, status: int) -> str:
    """Assert a Nova-shaped error with ``status``; return its message."""
    names = {400: "badRequest", 403: "forbidden", 404: "itemNotFound",
             409: "conflictingRequest", 406: "computeFault"}
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert list(body) == [names[status]], body
    assert body[names[status]]["code"] == status
    return body[names[status]]["message"]


def ensure_image(cloud, image_id: str = IMAGE, data: bytes = IMAGE_BYTES, **attributes
                 ) -> dict:
    """An image uploaded as the admin through the image API (public, active by default)."""
    base = f"{cloud.url}/image/v2/images"
    headers = {"X-Auth-Token": cloud.admin_token()}
    shown = requests.get(f"{base}/{image_id}", headers=headers)
    if shown.status_code == 200:
        return shown.json()
    created = requests.post(base, headers=headers, json={
        "id": image_id, "name": f"test-{image_id[:8]}", "disk_format": "raw",
        "container_format": "bare", "visibility": "public", **attributes})
    assert created.status_code == 201, created.text
    if data is not None:
        uploaded = requests.put(f"{base}/{image_id}/file", data=data, headers={
            **headers, "Content-Type": "application/octet-stream"})
        assert uploaded.status_code == 204, uploaded.text
    return requests.get(f"{base}/{image_id}", headers=headers).json()


def ensure_flavor(compute: Compute, flavor_id: str = "tiny", ram: int = 512, vcpus: int = 1
                  ) -> str:
    """The flavor, and the test image IMAGE: what a server create needs besides a name."""
    ensure_image(compute.cloud)
    resp = compute.post("/flavors", {"flavor": {"name": f"flavor-{flavor_id}", "id": flavor_id,
                                                "ram": ram, "vcpus": vcpus, "disk": 1}})
    assert resp.status_code in (200, 409), resp.text
    return flavor_id


def create_server(compute: Compute, name: str, flavor: str = "tiny", **extra) -> str:
    body = {"server": {"name": name, "imageRef": IMAGE, "flavorRef": flavor,
                       "networks": "none", **extra}}
    resp = compute.post("/servers", body)
    assert resp.status_code == 202, resp.text
    return resp.json()["server"]["id"]


def cell(cloud, name: str = "cell1") -> mappings.CellMapping:
    return next(c for c in cloud.aio.compute.cells.cells(refresh=True) if c.name == name)


def cell_engine(cloud, name: str = "cell1") -> sa.Engine:
    return cloud.aio.compute.cells.engine(cell(cloud, name))


def land_in_cell(cloud, server_id: str, cell_name: str = "cell1", **changes) -> None:
    """Move a build request into a cell, ACTIVE, as the conductor and an agent would."""
    target = cell(cloud, cell_name)
    api = cloud.aio.compute.api_engine
    with api.connect() as conn:
        instance = build_store.get(conn, server_id)
    instance.update(created_at=utcnow(), updated_at=None, vm_state="active", task_state=None,
                    power_state=1)
    instance.update(changes)
    with cloud.aio.compute.cells.engine(target).begin() as conn:
        instance_store.create(conn, instance)
    with api.begin() as conn:
        assert build_store.take(conn, server_id, target.id)


def add_compute_host(cloud, host: str, cell_name: str = "cell1", vcpus: int = 8,
                     memory_mb: int = 16384) -> int:
    """The rows a compute agent writes when it starts: its service and its compute node."""
    with cell_engine(cloud, cell_name).begin() as conn:
        service_id = conn.execute(sa.insert(services).values(
            uuid=str(uuidlib.uuid4()), host=host, binary="nova-compute", topic="compute",
            report_count=1, last_seen_up=utcnow(), created_at=utcnow())).inserted_primary_key[0]
        conn.execute(sa.insert(compute_nodes).values(
            uuid=str(uuidlib.uuid4()), service_id=service_id, host=host,
            hypervisor_hostname=f"{host}.example.org", hypervisor_type="QEMU",
            hypervisor_version=8002000, host_ip="192.0.2.10",
            cpu_info='{"arch": "x86_64", "model": "qemu64"}', vcpus=vcpus,
            memory_mb=memory_mb, local_gb=100, vcpus_used=1, memory_mb_used=512,
            local_gb_used=1, free_ram_mb=memory_mb - 512, free_disk_gb=99,
            disk_available_least=90, current_workload=0, running_vms=1, created_at=utcnow()))
    return service_id
