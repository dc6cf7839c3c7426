"""Request bodies: JSON only, size-limited, validated against a JSON Schema compiled once."""

from __future__ import annotations

from typing import Any

import falcon
import jsonschema
import orjson

from stratus.common.wsgi.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024


class Schema:
    """A JSON Schema compiled at import; ``validate`` raises BadRequest with the reason."""

    def __init__(self, schema: dict):
        self.schema = schema  # the document itself, read by the API reference checks
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        self._validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    def validate(self, instance: Any) -> Any:
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(instance))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "body"
            raise BadRequest(f"Invalid input for field/attribute {where}. "
                             f"Value: {_short(error.instance)}. {error.message}")
        return instance


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:197] + "..."


def is_json_type(content_type: str | None, extra_types: tuple[str, ...] = ()) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json") \
        or media_type in extra_types


def json_body(req: falcon.Request, schema: Schema | None = None, *,
              extra_types: tuple[str, ...] = ()) -> Any:
    """The request's JSON body, checked for type, size, syntax and (optionally) schema."""
    raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body is larger than {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON document is required.")
    if not is_json_type(req.content_type, extra_types):
        raise UnsupportedMediaType(
            f"The media type {req.content_type or '(none)'} is not supported; "
            "use application/json.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Malformed JSON in request body: {exc}") from None
    if schema is not None:
        schema.validate(body)
    return body
