"""Image data on the local filesystem: one file per image, written under a temporary name.

Data moves in fixed-size chunks, so memory use does not grow with the image. An upload
is written to ``.<id>.<random>.part`` and only renamed to ``<id>`` once complete; an
interrupted upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

HASH_ALGO = "sha512"


class UploadInterrupted(Exception):
    """The client sent fewer bytes than it announced."""


class TooLarge(Exception):
    """The data went past the byte limit the caller set."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


@dataclass(frozen=True)
class StagedData:
    """A complete upload under its temporary name, with its size and digests."""

    path: str
    size: int
    checksum: str
    os_hash_value: str


class _Hasher:
    """md5 and sha512 of a stream, each computed on its own worker thread while the caller
    writes.

    hashlib releases the GIL on large buffers, so the two digests run on two cores at once
    and overlap with reading the socket and writing the file (one thread doing both was
    the upload's limit: ~330 MiB/s on this machine's cores); bounded queues keep memory
    at a few chunks.
    """

    def __init__(self):
        self._digests = (hashlib.md5(usedforsecurity=False), hashlib.new(HASH_ALGO))
        self._queues: tuple[queue.Queue[bytes | None], ...] = tuple(
            queue.Queue(maxsize=4) for _ in self._digests)
        self._threads = [threading.Thread(target=self._run, args=(digest, chunks),
                                          name=f"image-{digest.name}", daemon=True)
                         for digest, chunks in zip(self._digests, self._queues, strict=True)]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _run(digest, chunks: queue.Queue[bytes | None]) -> None:
        while (chunk := chunks.get()) is not None:
            digest.update(chunk)

    def update(self, chunk: bytes) -> None:
        for chunks in self._queues:
            chunks.put(chunk)

    def finish(self) -> tuple[str, str]:
        for chunks in self._queues:
            chunks.put(None)
        for thread in self._threads:
            thread.join()
        md5, sha = self._digests
        return md5.hexdigest(), sha.hexdigest()


class ImageFiles:
    """The directory of image data files."""

    def __init__(self, datadir: str, chunk_size: int):
        self.datadir = datadir
        self.chunk_size = chunk_size
        os.makedirs(datadir, mode=0o700, exist_ok=True)

    def path(self, image_id: str) -> str:
        return os.path.join(self.datadir, image_id)

    def exists(self, image_id: str) -> bool:
        return os.path.exists(self.path(image_id))

    def stage(self, image_id: str, read: Callable[[int], bytes], expected: int | None,
              limit: int) -> StagedData:
        """Write a stream to a temporary file; raise (leaving nothing) if incomplete or over
        ``limit`` bytes. ``expected`` is the announced length, or None when chunked."""
        tmp = os.path.join(self.datadir, f".{image_id}.{uuid.uuid4().hex}.part")
        hasher = _Hasher()
        size = 0
        try:
            with open(tmp, "wb") as out:
                while expected is None or size < expected:
                    want = self.chunk_size if expected is None else \
                        min(self.chunk_size, expected - size)
                    chunk = read(want)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(limit)
                    hasher.update(chunk)
                    out.write(chunk)
            if expected is not None and size < expected:
                raise UploadInterrupted(f"received {size} of {expected} bytes")
        except BaseException:
            hasher.finish()
            _remove(tmp)
            raise
        checksum, hash_value = hasher.finish()
        return StagedData(tmp, size, checksum, hash_value)

    def commit(self, staged: StagedData, image_id: str) -> None:
        os.replace(staged.path, self.path(image_id))

    def discard(self, staged: StagedData) -> None:
        _remove(staged.path)

    def delete(self, image_id: str) -> None:
        _remove(self.path(image_id))

    def open_data(self, image_id: str) -> BinaryIO:
        """The whole image's data as an open file, which the server may ``sendfile``."""
        return open(self.path(image_id), "rb")

    def read(self, image_id: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Chunks of an image's data from ``start``, ``length`` bytes (or to the end)."""
        with open(self.path(image_id), "rb") as fh:
            fh.seek(start)
            remaining = length
            while remaining is None or remaining > 0:
                want = self.chunk_size if remaining is None else min(self.chunk_size,
                                                                     remaining)
                chunk = fh.read(want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def remove_partial_uploads(self) -> int:
        """Delete temporary files left by a process that died mid-upload."""
        removed = 0
        for name in os.listdir(self.datadir):
            if name.startswith(".") and name.endswith(".part"):
                _remove(os.path.join(self.datadir, name))
                removed += 1
        return removed


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
