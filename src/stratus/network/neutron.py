"""A Neutron v2.0 client for the compute side, over keystoneauth1 sessions.

Two kinds of client, as Nova uses them: one acting as the user of a request (the token
its context carries; networks it may see, ports created in its project) and one acting
as the service account of ``[neutron]`` (admin-only port attributes: ``binding:host_id``,
and teardown of ports whatever project they are in). The endpoint is
``[neutron] endpoint_override``, else the ``network`` endpoint of the service catalog.
HTTP failures become the exceptions below, one per case the compute side handles
differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint
from oslo_config import cfg

from stratus.common.catalog import endpoint as catalog_endpoint

GROUP = "neutron"


class NeutronError(Exception):
    """A network service request failed; ``reason`` is Neutron's own message."""

    def __init__(self, message: str, status: int | None = None, reason: str | None = None,
                 error_type: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason or message
        self.error_type = error_type  # NeutronError.type: PortNotFound, IpAddressInUse...


class NeutronNotAuthorized(NeutronError):
    """401: the token was refused."""


class NeutronForbidden(NeutronError):
    """403: the caller may not do this."""


class NeutronNotFound(NeutronError):
    """404: no such resource, or not visible to the caller."""


class NeutronConflict(NeutronError):
    """409: in use, or the request cannot be met as the resource stands."""


class NeutronBadRequest(NeutronError):
    """400 (and other 4xx): the network service refused the request as made."""


class NeutronUnavailable(NeutronError):
    """5xx, no answer, no endpoint or no credentials: the network service cannot be used."""


def _body_error(exc: ksa_exc.HttpError) -> tuple[str | None, str | None]:
    """(type, message) of Neutron's ``{"NeutronError": {"type", "message", "detail"}}``."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("NeutronError")
    if isinstance(error, dict):
        return error.get("type"), error.get("message")
    if isinstance(error, str):
        return None, error
    if isinstance(body.get("error"), dict):  # Keystone's shape (a refused token)
        return None, body["error"].get("message")
    return None, body.get("message") if isinstance(body.get("message"), str) else None


def _mapped(exc: ksa_exc.HttpError, what: str) -> NeutronError:
    status = getattr(exc, "http_status", None)
    error_type, reason = _body_error(exc)
    detail = f"{what}: {reason or exc}"
    classes = {401: NeutronNotAuthorized, 403: NeutronForbidden, 404: NeutronNotFound,
               409: NeutronConflict}
    if status in classes:
        return classes[status](detail, status, reason, error_type)
    if status is not None and 400 <= status < 500:
        return NeutronBadRequest(detail, status, reason, error_type)
    return NeutronUnavailable(detail, status, reason, error_type)


def _params(filters: dict[str, Any]) -> list[tuple[str, Any]]:
    """Query parameters; a list value repeats its key (Neutron's OR of values)."""
    params = []
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set):
            params += [(key, _text(item)) for item in value]
        else:
            params.append((key, _text(value)))
    return params


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class NeutronClient:
    """The Neutron v2.0 calls Stratus makes, each a method named after what it does."""

    def __init__(self, session: ksa_session.Session, endpoint: str | None = None, *,
                 interface: str = "public", region_name: str | None = None):
        self._session = session
        if endpoint is None:
            try:
                endpoint = session.get_endpoint(service_type="network", interface=interface,
                                                region_name=region_name)
            except (ksa_exc.EndpointNotFound, ksa_exc.ClientException) as exc:
                raise NeutronUnavailable(f"No network endpoint: {exc}") from exc
            if endpoint is None:
                raise NeutronUnavailable("No network endpoint in the service catalog")
        self.endpoint = endpoint.rstrip("/")

    # --- transport ----------------------------------------------------------------------

    def _request(self, method: str, path: str, what: str, **kwargs):
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        try:
            return self._session.request(f"{self.endpoint}/v2.0{path}", method,
                                         headers=headers, **kwargs)
        except ksa_exc.HttpError as exc:
            raise _mapped(exc, what) from exc
        except (ksa_exc.ConnectionError, ksa_exc.RetriableConnectionFailure,
                ksa_exc.EndpointNotFound, ksa_exc.DiscoveryFailure) as exc:
            raise NeutronUnavailable(f"{what}: {exc}") from exc

    def _get(self, path: str, what: str, **filters: Any) -> dict:
        return self._request("GET", path, what, params=_params(filters)).json()

    # --- networks and subnets ------------------------------------------------------------

    def list_networks(self, **filters: Any) -> list[dict]:
        return self._get("/networks", "list networks", **filters)["networks"]

    def show_network(self, network_id: str) -> dict:
        return self._get(f"/networks/{network_id}", f"show network {network_id}")["network"]

    def list_subnets(self, **filters: Any) -> list[dict]:
        return self._get("/subnets", "list subnets", **filters)["subnets"]

    # --- ports ---------------------------------------------------------------------------

    def list_ports(self, **filters: Any) -> list[dict]:
        return self._get("/ports", "list ports", **filters)["ports"]

    def show_port(self, port_id: str) -> dict:
        return self._get(f"/ports/{port_id}", f"show port {port_id}")["port"]

    def create_port(self, **attributes: Any) -> dict:
        return self._request("POST", "/ports", "create port",
                             json={"port": attributes}).json()["port"]

    def update_port(self, port_id: str, **attributes: Any) -> dict:
        return self._request("PUT", f"/ports/{port_id}", f"update port {port_id}",
                             json={"port": attributes}).json()["port"]

    def delete_port(self, port_id: str) -> None:
        self._request("DELETE", f"/ports/{port_id}", f"delete port {port_id}")

    # --- get me a network ----------------------------------------------------------------

    def get_auto_allocated_topology(self, project_id: str) -> dict:
        """The project's auto-allocated topology (``{"id": network id, ...}``), made now
        if it has none yet."""
        return self._get(f"/auto-allocated-topology/{project_id}",
                         "auto-allocate a network")["auto_allocated_topology"]

    def validate_auto_allocated_topology(self, project_id: str) -> None:
        """The dry run: NeutronConflict (or another error) when auto-allocation would fail."""
        self._get(f"/auto-allocated-topology/{project_id}",
                  "check network auto-allocation", fields="dry-run")


def unbind_attributes() -> dict[str, Any]:
    """What a port keeps when it leaves an instance: no device, owner or host binding."""
    return {"device_id": "", "device_owner": "", "binding:host_id": None}


class NeutronClients:
    """Neutron clients for one process: ``for_user(context)`` acts with the request's token,
    ``admin()`` with the ``[neutron]`` service account (built once, when first needed).

    The endpoint is ``[neutron] endpoint_override``, else the network endpoint of
    ``catalog`` (the service catalog this process was given; the all-in-one passes its
    own) for the user, and of the service account's own token for the admin client.
    """

    def __init__(self, conf: cfg.ConfigOpts, catalog: list[dict] | None = None):
        self._conf = conf
        self._catalog = catalog or []
        self._admin: NeutronClient | None = None

    @property
    def _opts(self):
        return self._conf[GROUP]

    def _interface(self) -> str:
        interfaces = self._opts.valid_interfaces or ["public"]
        return interfaces[0]

    def endpoint(self) -> str | None:
        """Where the network API is for user calls; None when nothing says."""
        if self._opts.endpoint_override:
            return self._opts.endpoint_override
        interfaces = self._opts.valid_interfaces or ["public"]
        for interface in interfaces:
            url = endpoint_from_catalog(self._catalog, interface, self._opts.region_name)
            if url is not None:
                return url
        return None

    def available(self) -> bool:
        """Whether this process knows of a network service at all."""
        return self.endpoint() is not None

    def for_user(self, context) -> NeutronClient:
        endpoint = self.endpoint()
        if endpoint is None:
            raise NeutronUnavailable("No network endpoint configured or in the catalog")
        session = ksa_session.Session(auth=token_endpoint.Token(endpoint, context.auth_token),
                                      timeout=self._opts.timeout)
        return NeutronClient(session, endpoint)

    def admin(self) -> NeutronClient:
        if self._admin is None:
            auth = ks_loading.load_auth_from_conf_options(self._conf, GROUP)
            if auth is None:
                raise NeutronUnavailable("[neutron] auth_type is not set: no service "
                                         "credentials to bind ports to hosts with")
            session = ks_loading.load_session_from_conf_options(self._conf, GROUP, auth=auth)
            # The catalog this process was given when it has the endpoint, else the
            # service account's own catalog.
            self._admin = NeutronClient(session, self.endpoint(), interface=self._interface(),
                                        region_name=self._opts.region_name)
        return self._admin


def configure_auth(conf: cfg.ConfigOpts, auth_type: str, **options: Any) -> None:
    """Give the ``[neutron]`` service account credentials without a file (all-in-one)."""
    conf.set_override("auth_type", auth_type, group=GROUP)
    conf.register_opts(ks_loading.get_auth_plugin_conf_options(auth_type), group=GROUP)
    for name, value in options.items():
        conf.set_override(name, value, group=GROUP)


def endpoint_from_catalog(catalog: Iterable[dict], interface: str,
                          region: str | None) -> str | None:
    """The network endpoint of a Keystone v3 token's catalog for ``interface``/``region``."""
    return catalog_endpoint(catalog, "network", interface, region)
