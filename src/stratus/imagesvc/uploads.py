"""Finishing an upload: staged data becomes the image's and the image active, or nothing.

Shared by the upload handler and the all-in-one's default image.
"""

from __future__ import annotations

from stratus.common.wsgi.errors import NotFound, PayloadTooLarge, for_status
from stratus.imagesvc import files, store
from stratus.imagesvc.service import ImageService


def back_to_queued(svc: ImageService, image_id: str) -> None:
    with svc.writer.begin() as conn:
        store.change_status(conn, image_id, ("saving",), "queued")


def activate(svc: ImageService, image: dict, staged: files.StagedData) -> None:
    """Make the staged data the image's and the image active, or leave no trace of it.

    The owner's usage is re-read under lock here: another upload of the same project may
    have finished while this one streamed.
    """
    image_id = image["id"]
    try:
        with svc.writer.begin() as conn:
            quota = svc.options.user_storage_quota
            if quota and store.storage_used(conn, image["owner"]) + staged.size > quota:
                raise PayloadTooLarge("Image exceeds the storage quota: the project's "
                                      f"quota is {quota} bytes.")
            if not store.change_status(conn, image_id, ("saving",), "active",
                                       size=staged.size, checksum=staged.checksum,
                                       os_hash_algo=files.HASH_ALGO,
                                       os_hash_value=staged.os_hash_value):
                raise for_status(410, f"Image {image_id} could not be found after upload. "
                                      "The image may have been deleted during the upload.")
            svc.files.commit(staged, image_id)
    except BaseException:
        svc.files.discard(staged)
        # Renamed but not committed: the data must not outlive the failed transaction.
        if not _has_data(svc, image_id):
            svc.files.delete(image_id)
        back_to_queued(svc, image_id)
        raise


def _has_data(svc: ImageService, image_id: str) -> bool:
    with svc.engine.connect() as conn:
        try:
            image = store.get_image(conn, image_id, store.Viewer(None, True))
        except NotFound:
            return False
    return image["status"] in ("active", "deactivated")
