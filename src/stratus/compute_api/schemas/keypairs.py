"""Request bodies of /os-keypairs per microversion (type from 2.2, user_id from 2.10)."""

from stratus.common.wsgi.body import Schema
from stratus.compute_api.schemas import body

_NAME = {"type": "string", "minLength": 1, "maxLength": 255,
         "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"}
_PUBLIC_KEY = {"type": "string"}
_TYPE = {"type": "string", "enum": ["ssh", "x509"]}
_USER_ID = {"type": "string", "minLength": 1, "maxLength": 255}

create_v21 = Schema(body("keypair", {"name": _NAME, "public_key": _PUBLIC_KEY},
                         required=["name"]))
create_v22 = Schema(body("keypair", {"name": _NAME, "public_key": _PUBLIC_KEY, "type": _TYPE},
                         required=["name"]))
create_v210 = Schema(body("keypair", {"name": _NAME, "public_key": _PUBLIC_KEY, "type": _TYPE,
                                      "user_id": _USER_ID}, required=["name"]))

create = [("2.1", create_v21), ("2.2", create_v22), ("2.10", create_v210)]
