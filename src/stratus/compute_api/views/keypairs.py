"""Key pair bodies; ``type`` appears from 2.2."""

from __future__ import annotations

from stratus.common.wsgi.microversion import Version
from stratus.compute_api.views import isotime_micro


def _base(row: dict, version: Version) -> dict:
    body = {"name": row["name"], "public_key": row["public_key"],
            "fingerprint": row["fingerprint"]}
    if version.matches((2, 2)):
        body["type"] = row["type"]
    return body


def summary(row: dict, version: Version) -> dict:
    return {"keypair": _base(row, version)}


def created(row: dict, version: Version, private_key: str | None) -> dict:
    body = {**_base(row, version), "user_id": row["user_id"]}
    if private_key is not None:
        body["private_key"] = private_key
    return {"keypair": body}


def detail(row: dict, version: Version) -> dict:
    return {"keypair": {**_base(row, version), "user_id": row["user_id"], "id": row["id"],
                        "created_at": isotime_micro(row["created_at"]),
                        "updated_at": isotime_micro(row["updated_at"]),
                        "deleted": False, "deleted_at": None}}
