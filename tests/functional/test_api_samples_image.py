"""Image API samples for doc/api-ref: one conversation, every body checked against its file.

The demo project's member owns the image and shares it; the cloud admin answers for
the project it is shared with, as a member of that project would.
"""

from __future__ import annotations

import requests
from samples import Samples

PATCH = "application/openstack-images-v2.1-json-patch"


def test_image_api_samples(cloud):
    samples = Samples("image", cloud.url)
    base = f"{cloud.url}/image"
    member, admin = cloud.demo_token(), cloud.admin_token()
    admin_project = requests.get(f"{cloud.identity}/v3/auth/tokens", headers={
        "X-Auth-Token": admin, "X-Subject-Token": admin}).json()["token"]["project"]["id"]

    def call(method: str, path: str, name: str | None = None, body=None, status: int = 200,
             token: str = member, headers: dict | None = None, data: bytes | None = None
             ) -> requests.Response:
        if name and body is not None:
            samples.check(f"{name}-req", body)
        resp = requests.request(method, f"{base}{path}", json=body, data=data, headers={
            "X-Auth-Token": token, **(headers or {})})
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
        if name and resp.content:
            samples.check(f"{name}-resp", resp.json())
        return resp

    call("GET", "/", "get", status=300)
    call("GET", "/versions", "get-versions")
    call("GET", "/v2/schemas/member", "get-v2-schemas-name")

    image = call("POST", "/v2/images", "add-image", {
        "name": "cirros-0.6.2", "disk_format": "qcow2", "container_format": "bare",
        "visibility": "shared", "min_disk": 1, "min_ram": 64, "tags": ["cirros"],
        "os_distro": "cirros"}, status=201).json()["id"]
    call("PUT", f"/v2/images/{image}/file", status=204, data=b"not really a disk image",
         headers={"Content-Type": "application/octet-stream"})
    got = requests.get(f"{base}/v2/images/{image}/file", headers={"X-Auth-Token": member})
    assert got.status_code == 200 and got.content == b"not really a disk image"
    call("GET", "/v2/images?name=cirros-0.6.2", "get-images")
    call("GET", f"/v2/images/{image}", "get-image")
    call("PATCH", f"/v2/images/{image}", "modify-image", [
        {"op": "replace", "path": "/name", "value": "cirros"},
        {"op": "add", "path": "/hw_disk_bus", "value": "virtio"}],
        headers={"Content-Type": PATCH})
    call("PUT", f"/v2/images/{image}/tags/tiny", status=204)
    call("DELETE", f"/v2/images/{image}/tags/tiny", status=204)

    call("POST", f"/v2/images/{image}/members", "add-member", {"member": admin_project})
    call("GET", f"/v2/images/{image}/members", "get-members")
    call("PUT", f"/v2/images/{image}/members/{admin_project}", "modify-member",
         {"status": "accepted"}, token=admin)
    call("GET", f"/v2/images/{image}/members/{admin_project}", "get-member")
    call("DELETE", f"/v2/images/{image}/members/{admin_project}", status=204)

    call("POST", f"/v2/images/{image}/actions/deactivate", status=204, token=admin)
    call("POST", f"/v2/images/{image}/actions/reactivate", status=204, token=admin)
    call("DELETE", f"/v2/images/{image}", status=204)
    samples.assert_all_checked()
