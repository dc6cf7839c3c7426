"""A Glance v2 client for the compute side, over a keystoneauth1 session.

The endpoint comes from ``[glance] endpoint_override`` or the service catalog; the
caller's token is forwarded. HTTP failures become the exceptions below, one per case
the compute side handles differently (as Nova's image API does): 401 the token, 403
not allowed, 404 no such image (or not visible), 400/409 refused, 5xx or no answer the
service is unavailable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint
from oslo_config import cfg

from stratus.common.catalog import endpoint as catalog_endpoint

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
CHUNK = 65536


class ImageError(Exception):
    """An image service request failed."""

    def __init__(self, message: str, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason or message  # the image service's own words, when it gave some


class ImageNotAuthorized(ImageError):
    """401: the token was refused."""


class ImageForbidden(ImageError):
    """403: the caller may not do this to the image."""


class ImageNotFound(ImageError):
    """404: no such image, or not visible to the caller's project."""


class ImageBadRequest(ImageError):
    """400/409/413/415: the image service refused the request as made."""


class ImageServiceUnavailable(ImageError):
    """5xx, or the image service did not answer."""


class ImageDataCorrupt(ImageError):
    """Downloaded bytes do not match the image's recorded checksum or hash."""


def _reason(exc: ksa_exc.ClientException) -> str | None:
    """The message of an error body: Glance's (webob's) ``{"message": ...}`` or Keystone's
    ``{"error": {"message": ...}}`` shape; None when there is none."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    if message is None and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
    if not isinstance(message, str):
        return None
    # webob's page: "<explanation><br /><br />\n<detail>"; the last non-empty part says most.
    parts = [part.strip() for part in message.split("<br />") if part.strip()]
    return parts[-1] if parts else None


def _mapped(exc: ksa_exc.ClientException, what: str) -> ImageError:
    status = getattr(exc, "http_status", None)
    detail, reason = f"{what}: {exc}", _reason(exc)
    if status == 401:
        return ImageNotAuthorized(detail, status, reason)
    if status == 403:
        return ImageForbidden(detail, status, reason)
    if status == 404:
        return ImageNotFound(detail, status, reason)
    if status is not None and 400 <= status < 500:
        return ImageBadRequest(detail, status, reason)
    return ImageServiceUnavailable(detail, status, reason)


class GlanceClient:
    """Glance v2 calls the compute side makes: show, list, create, upload, download,
    update and delete images."""

    def __init__(self, session: ksa_session.Session, endpoint: str | None = None, *,
                 interface: str = "public", region_name: str | None = None):
        self._session = session
        if endpoint is None:
            endpoint = session.get_endpoint(service_type="image", interface=interface,
                                            region_name=region_name)
            if endpoint is None:
                raise ImageServiceUnavailable("No image endpoint in the service catalog")
        self.endpoint = endpoint.rstrip("/")

    @classmethod
    def for_user(cls, conf: cfg.ConfigOpts, token: str, catalog: list[dict] | None = None,
                 **session_kwargs) -> GlanceClient:
        """A client that acts with the user's ``token``; endpoint from config or catalog."""
        endpoint = conf.glance.endpoint_override or endpoint_from_catalog(
            catalog or [], conf.glance.valid_interface, conf.glance.region_name)
        if endpoint is None:
            raise ImageServiceUnavailable("No image endpoint configured or in the catalog")
        session = ksa_session.Session(auth=token_endpoint.Token(endpoint, token),
                                      **session_kwargs)
        return cls(session, endpoint)

    def _request(self, method: str, path: str, what: str, **kwargs):
        if not kwargs.get("stream"):
            # Errors then come as webob's JSON page, whose message _reason can read.
            kwargs["headers"] = {"Accept": "application/json", **kwargs.get("headers", {})}
        try:
            return self._session.request(f"{self.endpoint}/v2{path}", method, **kwargs)
        except ksa_exc.HttpError as exc:
            raise _mapped(exc, what) from exc
        except (ksa_exc.ConnectionError, ksa_exc.RetriableConnectionFailure) as exc:
            raise ImageServiceUnavailable(f"{what}: {exc}") from exc

    def show(self, image_id: str) -> dict:
        return self._request("GET", f"/images/{image_id}", f"show image {image_id}").json()

    def list(self, page_size: int = 100, **filters: Any) -> Iterator[dict]:
        """Every image matching ``filters``, following ``next`` links page by page."""
        params: dict[str, Any] = {"limit": page_size, **filters}
        path = "/images"
        while True:
            body = self._request("GET", path, "list images", params=params).json()
            yield from body["images"]
            next_link = body.get("next")
            if not next_link:
                return
            path, params = next_link.removeprefix("/v2"), None

    def create(self, **attributes: Any) -> dict:
        return self._request("POST", "/images", "create image", json=attributes).json()

    def update(self, image_id: str, set_: dict[str, Any] | None = None,
               remove: Iterable[str] = ()) -> dict:
        """Set attributes/properties (add or replace) and remove properties, in one PATCH."""
        current = self.show(image_id)
        ops = [{"op": "replace" if name in current else "add", "path": f"/{name}",
                "value": value} for name, value in (set_ or {}).items()]
        ops += [{"op": "remove", "path": f"/{name}"} for name in remove if name in current]
        return self._request("PATCH", f"/images/{image_id}", f"update image {image_id}",
                             json=ops, headers={"Content-Type": PATCH_TYPE}).json()

    def upload(self, image_id: str, data: Iterable[bytes] | bytes) -> None:
        self._request("PUT", f"/images/{image_id}/file", f"upload image {image_id}",
                      data=data, headers={"Content-Type": "application/octet-stream"})

    def download(self, image_id: str) -> Iterator[bytes]:
        """The image's data in chunks, checked against its md5 and multihash at the end."""
        image = self.show(image_id)
        resp = self._request("GET", f"/images/{image_id}/file",
                             f"download image {image_id}", stream=True)
        md5 = hashlib.md5(usedforsecurity=False)
        algo = image.get("os_hash_algo")
        multihash = hashlib.new(algo) if algo else None
        for chunk in resp.iter_content(CHUNK):
            md5.update(chunk)
            if multihash is not None:
                multihash.update(chunk)
            yield chunk
        if image.get("checksum") and md5.hexdigest() != image["checksum"]:
            raise ImageDataCorrupt(f"image {image_id}: md5 mismatch")
        if multihash is not None and multihash.hexdigest() != image.get("os_hash_value"):
            raise ImageDataCorrupt(f"image {image_id}: {algo} mismatch")

    def delete(self, image_id: str) -> None:
        self._request("DELETE", f"/images/{image_id}", f"delete image {image_id}")

    def add_member(self, image_id: str, member: str) -> dict:
        """Share a ``shared`` image with project ``member``."""
        return self._request("POST", f"/images/{image_id}/members",
                             f"share image {image_id}", json={"member": member}).json()


class UserImageClients:
    """Glance clients that act as the user of a request, with the token its context carries.

    The endpoint is ``[glance] endpoint_override``, else the image endpoint of ``catalog``
    (the service catalog this process was given; the all-in-one passes its own).
    """

    def __init__(self, conf: cfg.ConfigOpts, catalog: list[dict] | None = None):
        self._conf = conf
        self._catalog = catalog or []

    def client(self, context) -> GlanceClient:
        """A client for ``context.auth_token``; ImageServiceUnavailable without an endpoint."""
        return GlanceClient.for_user(self._conf, context.auth_token, self._catalog,
                                     timeout=self._conf.glance.timeout)


def endpoint_from_catalog(catalog: Iterable[dict], interface: str,
                          region: str | None) -> str | None:
    """The image endpoint of a Keystone v3 token's catalog for ``interface``/``region``."""
    return catalog_endpoint(catalog, "image", interface, region)
