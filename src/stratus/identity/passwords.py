"""Password hashes: Argon2id from argon2-cffi, parameters from [identity]."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from oslo_config import cfg

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


@functools.cache
def _return_hash_buffers_to_os() -> None:
    """Keep Argon2's multi-MiB work buffers out of glibc's per-thread arenas.

    glibc raises its mmap threshold after the first large free, so later 19 MiB hash
    buffers come from arenas that are never trimmed: 64 concurrent logins grew an idle
    all-in-one from 82 MB to 400 MB RSS. Pinning the threshold at 1 MiB keeps it at 90 MB.
    """
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    libc = ctypes.CDLL(libc_name)
    if hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, 1024 * 1024)


class Passwords:
    def __init__(self, conf: cfg.ConfigOpts):
        _return_hash_buffers_to_os()
        self._hasher = PasswordHasher(time_cost=conf.identity.password_hash_time_cost,
                                      memory_cost=conf.identity.password_hash_memory_kib,
                                      parallelism=1)
        # Verifying against this when a user does not exist keeps the time of a failed
        # login the same whether or not the name is known.
        self._dummy = self._hasher.hash("stratus-no-such-user")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False
