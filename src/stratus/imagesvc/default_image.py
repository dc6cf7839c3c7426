"""The all-in-one's first-start image: small, made on this machine, never downloaded.

A qcow2 made by ``qemu-img`` when it is installed, otherwise a raw disk. It is public
so every project can boot it.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import uuid

from stratus.imagesvc import store, uploads
from stratus.imagesvc.service import ImageService

NAME = "stratus-tiny"
VIRTUAL_SIZE = 1024 * 1024


def make_disk() -> tuple[str, bytes]:
    """(disk_format, bytes) of a 1 MiB empty disk."""
    qemu_img = shutil.which("qemu-img")
    if qemu_img:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "disk.qcow2")
            subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", path, str(VIRTUAL_SIZE)],
                           check=True, capture_output=True)
            with open(path, "rb") as fh:
                return "qcow2", fh.read()
    return "raw", bytes(VIRTUAL_SIZE)


def create_default_image(svc: ImageService, owner: str) -> dict:
    """Create, upload and activate the default image; returns it."""
    disk_format, data = make_disk()
    image_id = str(uuid.uuid4())
    with svc.writer.begin() as conn:
        image = store.create_image(conn, {
            "id": image_id, "name": NAME, "disk_format": disk_format,
            "container_format": "bare", "visibility": "public", "owner": owner,
            "protected": False, "os_hidden": False, "min_disk": 0, "min_ram": 0,
            "virtual_size": VIRTUAL_SIZE}, {}, [])
        store.change_status(conn, image_id, ("queued",), "saving")
    staged = svc.files.stage(image_id, io.BytesIO(data).read, len(data), len(data))
    uploads.activate(svc, image, staged)
    with svc.engine.connect() as conn:
        return store.get_image(conn, image_id, store.Viewer(None, True))
