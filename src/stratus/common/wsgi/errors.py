"""API errors: each class knows its HTTP status; one renderer per API turns it into a body.

Handlers raise these; ``stratus.common.wsgi.app`` catches them and calls the owning
API's :class:`ErrorFormat`, so every API answers in its own OpenStack error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import webob
import webob.exc


class APIError(Exception):
    """An error with an HTTP status, a human message and an optional machine code."""

    status: int = 500
    default_message = "An unexpected error occurred."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 headers: dict[str, str] | None = None, **extra):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.code = code
        self.headers = headers or {}
        self.extra = extra

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


class BadRequest(APIError):
    status = 400
    default_message = "The request is malformed."


class Unauthorized(APIError):
    status = 401
    default_message = "The request you have made requires authentication."


class Forbidden(APIError):
    status = 403
    default_message = "You are not authorized to perform the requested action."


class NotFound(APIError):
    status = 404
    default_message = "The resource could not be found."


class MethodNotAllowed(APIError):
    status = 405
    default_message = "The method is not allowed for this resource."


class NotAcceptable(APIError):
    status = 406
    default_message = "The requested version is not supported."


class Conflict(APIError):
    status = 409
    default_message = "The request conflicts with the current state of the resource."


class PayloadTooLarge(APIError):
    status = 413
    default_message = "The request body is too large."


class UnsupportedMediaType(APIError):
    status = 415
    default_message = "The request media type is not supported."


class ServiceUnavailable(APIError):
    status = 503
    default_message = "The service is unavailable."


_BY_STATUS = {cls.status: cls for cls in (BadRequest, Unauthorized, Forbidden, NotFound,
                                          MethodNotAllowed, NotAcceptable, Conflict,
                                          PayloadTooLarge, UnsupportedMediaType,
                                          ServiceUnavailable)}


def for_status(status: int, message: str | None = None, **kwargs) -> APIError:
    """An APIError of the class for ``status`` (APIError itself if none is specific)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        err = APIError(message, **kwargs)
        err.status = status
        return err
    return cls(message, **kwargs)


@dataclass(frozen=True)
class ErrorFormat:
    """How one API renders an error: a function (error, request_id) -> JSON body.

    ``negotiate``, when set, renders instead from the request's WSGI environ (its Accept
    header) and returns (content type, body bytes): for APIs whose errors are not always
    JSON (Glance).
    """

    render: Callable[[APIError, str], dict]
    negotiate: Callable[[APIError, dict], tuple[str, bytes]] | None = None


def _keystone(err: APIError, request_id: str) -> dict:
    return {"error": {"code": err.status, "message": err.message, "title": err.title}}


# Nova names its fault bodies by status; anything unnamed is a computeFault.
_NOVA_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
                     404: "itemNotFound", 405: "badMethod", 409: "conflictingRequest",
                     413: "overLimit", 415: "badMediaType", 429: "overLimit",
                     501: "notImplemented", 503: "serviceUnavailable"}


def _nova(err: APIError, request_id: str) -> dict:
    name = _NOVA_FAULT_NAMES.get(err.status, "computeFault")
    return {name: {"code": err.status, "message": err.message}}


def _placement(err: APIError, request_id: str) -> dict:
    body = {"status": err.status, "title": err.title, "detail": err.message,
            "request_id": request_id, "code": err.code or "placement.undefined_code"}
    body.update(err.extra)
    return {"errors": [body]}


KEYSTONE = ErrorFormat(_keystone)
NOVA = ErrorFormat(_nova)
PLACEMENT = ErrorFormat(_placement)


def _glance_negotiate(err: APIError, environ: dict) -> tuple[str, bytes]:
    """Glance answers with webob's error pages: HTML, JSON or text by the Accept header."""
    cls = webob.exc.status_map.get(err.status, webob.exc.HTTPInternalServerError)
    # Statuses with their own page template (415, 405) show the message as the detail.
    own_template = cls.body_template_obj is not webob.exc.WSGIHTTPException.body_template_obj
    page = cls(detail=err.message) if own_template else cls(explanation=err.message)
    request_env = {k: v for k, v in environ.items() if isinstance(v, str)}
    response = webob.Request(request_env).get_response(page)
    return response.content_type, response.body


def _glance(err: APIError, request_id: str) -> dict:
    return {"message": err.message, "code": f"{err.status} {err.title}", "title": err.title}


GLANCE = ErrorFormat(_glance, _glance_negotiate)


# Neutron names an error by its exception class; a generic one by webob's class name.
_NEUTRON_TYPES = {400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "HTTPForbidden",
                  404: "HTTPNotFound", 405: "HTTPMethodNotAllowed", 406: "HTTPNotAcceptable",
                  409: "HTTPConflict", 413: "HTTPRequestEntityTooLarge",
                  415: "HTTPUnsupportedMediaType", 503: "HTTPServiceUnavailable"}


def _neutron(err: APIError, request_id: str) -> dict:
    kind = err.code or _NEUTRON_TYPES.get(err.status, "HTTPInternalServerError")
    return {"NeutronError": {"type": kind, "message": err.message, "detail": ""}}


NEUTRON = ErrorFormat(_neutron)
