"""Password hashes: Argon2id from argon2-cffi, parameters from [identity]."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from oslo_config import cfg


class Passwords:
    def __init__(self, conf: cfg.ConfigOpts):
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
