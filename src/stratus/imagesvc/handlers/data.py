"""/v2/images/{image_id}/file: upload (queued -> saving -> active) and ranged download."""

from __future__ import annotations

import re

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    PayloadTooLarge,
    for_status,
)
from stratus.imagesvc import files, store, uploads
from stratus.imagesvc.handlers import load, service, viewer


def upload(req: Request, resp, image_id: str) -> None:
    svc = service(req)
    with svc.writer.begin() as conn:
        image = load(req, conn, image_id)
        if image["status"] == "deactivated":
            raise Forbidden("Not allowed to upload image data for image "
                            f"{image_id}: image is deactivated")
        limit = _upload_limit(svc, conn, image)
        if req.content_length is not None and req.content_length > limit:
            raise _too_large(svc, limit)
        if not store.change_status(conn, image_id, ("queued",), "saving"):
            raise Conflict(f"Image status transition from {image['status']} to saving is "
                           "not allowed")
    try:
        staged = svc.files.stage(image_id, req.stream.read, req.content_length, limit)
    except BaseException as exc:
        uploads.back_to_queued(svc, image_id)
        if isinstance(exc, files.TooLarge):
            raise _too_large(svc, exc.limit) from None
        if isinstance(exc, files.UploadInterrupted):
            raise BadRequest(f"Image upload was interrupted: {exc}") from None
        raise
    uploads.activate(svc, image, staged)
    send(resp, status=204)


def _upload_limit(svc, conn, image: dict) -> int:
    """Bytes this upload may write: the size cap, and what is left of the owner's quota."""
    limit = svc.options.image_size_cap
    quota = svc.options.user_storage_quota
    if quota:
        limit = min(limit, max(0, quota - store.storage_used(conn, image["owner"])))
    return limit


def _too_large(svc, limit: int) -> PayloadTooLarge:
    if limit < svc.options.image_size_cap:
        return PayloadTooLarge(f"Image exceeds the storage quota: {limit} bytes remain "
                               "for this project.")
    return PayloadTooLarge(f"The incoming image is too large: the limit is {limit} bytes.")


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def download(req: Request, resp, image_id: str) -> None:
    svc = service(req)
    with svc.engine.connect() as conn:
        image = load(req, conn, image_id)
    if image["status"] == "deactivated" and not viewer(req).is_admin:
        raise Forbidden("The requested image has been deactivated. Image data download is "
                        "forbidden.")
    if image["status"] not in ("active", "deactivated") or not svc.files.exists(image_id):
        send(resp, status=204)
        return
    size = image["size"]
    resp.content_type = "application/octet-stream"
    span = _parse_range(req.get_header("Range"), size)
    if span is None:
        resp.status = 200
        resp.set_header("Content-MD5", image["checksum"])
        resp.content_length = size
        # A file object: the server sends it with sendfile when it offers wsgi.file_wrapper.
        resp.stream = svc.files.open_data(image_id)
        return
    start, end = span
    resp.status = 206
    resp.set_header("Content-Range", f"bytes {start}-{end}/{size}")
    resp.content_length = end - start + 1
    resp.stream = svc.files.read(image_id, start, end - start + 1)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, None for the whole image; 416 if
    it lies outside the image."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        raise _unsatisfiable(size)
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> APIError:
    return for_status(416, "Requested range not satisfiable",
                      headers={"Content-Range": f"bytes */{size}"})
