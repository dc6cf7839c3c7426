"""The image service on SQLite, PostgreSQL and MySQL: paging order and concurrent uploads."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
from harness import start_cloud, stop_cloud

QUOTA = 1000


@pytest.fixture
def image_cloud(backend_urls, tmp_path):
    running = start_cloud(tmp_path / "state", **{
        "image_database.connection": backend_urls["image"],
        "image.user_storage_quota": QUOTA, "image.create_default_image": False})
    yield running
    stop_cloud(running)


def _create(cloud, headers, **body) -> str:
    resp = requests.post(f"{cloud.url}/image/v2/images", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _upload_all(cloud, headers, image_ids: list[str], size: int) -> list[int]:
    """Upload to every image at once; the status of each answer."""
    statuses: list[int] = []
    start = threading.Barrier(len(image_ids))

    def put(image_id: str) -> None:
        start.wait()
        resp = requests.put(f"{cloud.url}/image/v2/images/{image_id}/file", data=b"x" * size,
                            headers={**headers, "Content-Type": "application/octet-stream"})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=put, args=(i,)) for i in image_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_paging_with_mixed_directions_and_ties_visits_every_image_once(image_cloud):
    headers = {"X-Auth-Token": image_cloud.demo_token()}
    tag = uuid.uuid4().hex[:6]
    made = {_create(image_cloud, headers, name=f"n{n % 2}", disk_format=fmt, batch=tag)
            for n in range(3) for fmt in ("raw", "qcow2")}
    seen: list[str] = []
    link = f"/v2/images?batch={tag}&limit=2&sort=name:asc,disk_format:desc"
    while link:
        body = requests.get(f"{image_cloud.url}/image{link}", headers=headers).json()
        seen += [(i["id"], i["name"], i["disk_format"]) for i in body["images"]]
        link = body.get("next")
    assert {s[0] for s in seen} == made and len(seen) == len(made)
    order = [(name, fmt) for _, name, fmt in seen]
    by_format_desc = sorted(order, key=lambda o: o[1], reverse=True)
    assert order == sorted(by_format_desc, key=lambda o: o[0])


def test_concurrent_uploads_never_exceed_the_project_quota(image_cloud):
    headers = {"X-Auth-Token": image_cloud.demo_token()}
    images = [_create(image_cloud, headers) for _ in range(4)]
    assert _upload_all(image_cloud, headers, images, 400) == [204, 204, 413, 413]
    listed = requests.get(f"{image_cloud.url}/image/v2/images", headers=headers).json()
    assert sum(i["size"] or 0 for i in listed["images"]) == 800
    assert sorted(i["status"] for i in listed["images"]) == ["active", "active", "queued",
                                                             "queued"]


def test_concurrent_uploads_to_one_image_let_exactly_one_win(image_cloud):
    headers = {"X-Auth-Token": image_cloud.demo_token()}
    image_id = _create(image_cloud, headers)
    statuses = _upload_all(image_cloud, headers, [image_id] * 3, 100)
    assert statuses == [204, 409, 409]
    image = requests.get(f"{image_cloud.url}/image/v2/images/{image_id}", headers=headers)
    assert image.json()["status"] == "active" and image.json()["size"] == 100
