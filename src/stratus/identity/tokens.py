"""Fernet tokens: signed and encrypted, carrying their own expiry; keys live on disk.

A token's payload names the user, the scope, the auth methods, the issue and expiry
instants and an audit id. Validation re-reads the user, project and roles, so a
disabled user, a deleted project or a removed role takes effect at once; a revoked
token's audit id is recorded until the token would have expired anyway.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from dataclasses import dataclass

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class TokenPayload:
    user_id: str
    project_id: str | None
    methods: tuple[str, ...]
    issued_at: dt.datetime
    expires_at: dt.datetime
    audit_id: str

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()


class MalformedToken(Exception):
    """The token was not made by us, was tampered with, or is not a token at all."""


def utcnow() -> dt.datetime:
    """Naive UTC, as the database stores instants."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def isotime(value: dt.datetime) -> str:
    """Keystone's timestamp format: 2026-11-25T06:00:00.000000Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class KeyRepository:
    """A directory of Fernet keys named 0, 1, 2...; the highest number signs new tokens."""

    def __init__(self, path: str):
        self.path = path

    def ensure(self) -> None:
        """Create the directory and a first key if there is none (idempotent)."""
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        if not self._key_files():
            self._write_key(0)

    def fernet(self) -> MultiFernet:
        files = self._key_files()
        if not files:
            raise RuntimeError(f"no Fernet keys in {self.path}; run stratus-manage bootstrap")
        keys = []
        for index in sorted(files, reverse=True):
            with open(os.path.join(self.path, str(index)), "rb") as fh:
                keys.append(Fernet(fh.read().strip()))
        return MultiFernet(keys)

    def _key_files(self) -> list[int]:
        if not os.path.isdir(self.path):
            return []
        return [int(name) for name in os.listdir(self.path) if name.isdigit()]

    def _write_key(self, index: int) -> None:
        target = os.path.join(self.path, str(index))
        tmp = f"{target}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
        os.replace(tmp, target)


class TokenFormatter:
    """Packs and unpacks token payloads with the repository's keys."""

    def __init__(self, keys: KeyRepository, lifetime_seconds: int):
        self._fernet = keys.fernet()
        self._lifetime = dt.timedelta(seconds=lifetime_seconds)

    def issue(self, user_id: str, project_id: str | None, methods: list[str],
              expires_at: dt.datetime | None = None) -> tuple[str, TokenPayload]:
        now = utcnow()
        payload = TokenPayload(user_id=user_id, project_id=project_id, methods=tuple(methods),
                               issued_at=now, expires_at=expires_at or now + self._lifetime,
                               audit_id=_audit_id())
        packed = orjson.dumps([PAYLOAD_VERSION, payload.user_id, payload.project_id,
                               list(payload.methods), payload.issued_at.timestamp(),
                               payload.expires_at.timestamp(), payload.audit_id])
        token = self._fernet.encrypt(packed).decode().rstrip("=")
        return token, payload

    def unpack(self, token: str) -> TokenPayload:
        padded = token + "=" * (-len(token) % 4)
        try:
            data = orjson.loads(self._fernet.decrypt(padded.encode()))
            version, user_id, project_id, methods, issued, expires, audit_id = data
        except (InvalidToken, ValueError, TypeError, orjson.JSONDecodeError):
            raise MalformedToken() from None
        if version != PAYLOAD_VERSION:
            raise MalformedToken()
        return TokenPayload(user_id=user_id, project_id=project_id, methods=tuple(methods),
                            issued_at=_from_ts(issued), expires_at=_from_ts(expires),
                            audit_id=audit_id)


def _from_ts(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)


def _audit_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
