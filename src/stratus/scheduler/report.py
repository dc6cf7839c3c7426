"""An HTTP client of the Placement API (ours or OpenStack's), over a keystoneauth1 session.

The compute side (scheduler, resource tracker, conductor) reaches Placement only through
this client; nothing here knows Placement's tables. Writes that carry a provider
generation re-read and retry when another writer got there first; a conflict that stays
(capacity used up, inventory in use, the consumer changed under us) is reported to the
caller instead.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from typing import Any

from keystoneauth1 import adapter as ksa_adapter
from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ksa_session
from oslo_config import cfg

LOG = logging.getLogger(__name__)

API_VERSION = "1.36"
GROUP = "placement"
# How often a write that lost a generation race is re-read and tried again.
GENERATION_RETRIES = 10
# Connections kept open to Placement by one client (the RPC servers' 64 worker threads).
CONNECTIONS = 64

CONCURRENT_UPDATE = "placement.concurrent_update"
INVENTORY_INUSE = "placement.inventory.inuse"


class PlacementError(Exception):
    """Placement refused a request, or answered in a way this client cannot use."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class PlacementUnavailable(PlacementError):
    """Placement did not answer, or answered 5xx."""


class InventoryInUse(PlacementError):
    """An inventory change would remove or shrink a class that has allocations."""


def _backoff(attempt: int) -> None:
    """A random pause before retrying a lost race, so two writers stepping in lockstep
    stop colliding. It doubles with each attempt (10 ms, 20 ms, ... at most 400 ms): a
    read-then-write round trip on a busy PostgreSQL or MySQL is longer than a few
    milliseconds, and a pause shorter than that left two writers colliding ten times."""
    time.sleep(random.uniform(0, min(0.4, 0.01 * 2 ** attempt)))


def configure_auth(conf: cfg.ConfigOpts, auth_type: str, **options: Any) -> None:
    """Give the ``[placement]`` client credentials without a file (all-in-one, tests).

    A config file names ``auth_type`` and the plugin's options directly; overrides need
    the plugin's options registered first, which this does.
    """
    conf.set_override("auth_type", auth_type, group=GROUP)
    conf.register_opts(ks_loading.get_auth_plugin_conf_options(auth_type), group=GROUP)
    for name, value in options.items():
        conf.set_override(name, value, group=GROUP)


def _error(resp) -> tuple[str | None, str]:
    """The first ``errors[]`` entry's code and detail of a Placement error response."""
    try:
        first = resp.json()["errors"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None, resp.text
    return first.get("code"), first.get("detail") or first.get("title") or resp.text


def _is_consumer_conflict(detail: str) -> bool:
    # Placement gives both races one code; only the wording tells a consumer generation
    # conflict (a real conflict) from a provider one (an internal race worth retrying).
    return "consumer generation conflict" in detail


def _consumer_body(allocations: dict, project_id: str, user_id: str,
                   consumer_generation: int | None) -> dict[str, Any]:
    """One consumer's allocations as PUT /allocations/{consumer} (and each entry of POST
    /allocations) take them, from ``{rp: {"resources"}}`` or a whole allocation request."""
    body: dict[str, Any] = {"project_id": project_id, "user_id": user_id,
                            "consumer_generation": consumer_generation}
    if "allocations" in allocations:
        body["allocations"] = allocations["allocations"]
        if allocations.get("mappings"):
            body["mappings"] = allocations["mappings"]
    else:
        body["allocations"] = allocations
    return body


class PlacementClient:
    """The Placement calls Stratus makes, each a method named after what it does."""

    def __init__(self, session: ksa_session.Session, endpoint: str | None = None, *,
                 interface: str | list[str] = ("internal", "public"),
                 region_name: str | None = None,
                 adapter: ksa_adapter.Adapter | None = None):
        if adapter is None:
            adapter = ksa_adapter.Adapter(
                session, service_type="placement", interface=list(interface)
                if not isinstance(interface, str) else interface,
                region_name=region_name, endpoint_override=endpoint)
        adapter.default_microversion = API_VERSION
        self._adapter = adapter
        # One client serves every scheduler worker (and, in the all-in-one, 200 agents):
        # requests' default of 10 pooled connections made the rest connect anew and be
        # thrown away ("Connection pool is full").
        pooled = ksa_session.TCPKeepAliveAdapter(pool_maxsize=CONNECTIONS)
        for scheme in ("http://", "https://"):
            adapter.session.session.mount(scheme, pooled)

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> PlacementClient:
        """A client whose auth, session and endpoint come from the ``[placement]`` group."""
        auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
        if auth is None:
            raise PlacementError("[placement] auth_type is not set: the Placement client "
                                 "has no credentials (e.g. auth_type = password)")
        session = ks_loading.load_session_from_conf_options(conf, GROUP, auth=auth)
        adapter = ks_loading.load_adapter_from_conf_options(conf, GROUP, session=session,
                                                            auth=auth)
        return cls(session, adapter=adapter)

    # --- transport ----------------------------------------------------------------------

    def _request(self, method: str, path: str, *, json: Any = None,
                 params: Any = None, version: str | None = None):
        kwargs: dict[str, Any] = {"raise_exc": False}
        if json is not None:
            kwargs["json"] = json
        if params is not None:
            kwargs["params"] = params
        if version is not None:
            kwargs["microversion"] = version
        try:
            resp = self._adapter.request(path, method, **kwargs)
        except (ksa_exc.ConnectFailure, ksa_exc.ConnectTimeout, ksa_exc.EndpointNotFound,
                ksa_exc.DiscoveryFailure, ksa_exc.RetriableConnectionFailure) as exc:
            raise PlacementUnavailable(f"{method} {path}: placement unreachable: {exc}") \
                from exc
        if resp.status_code >= 500:
            raise PlacementUnavailable(f"{method} {path}: {resp.status_code} {resp.text}",
                                       resp.status_code)
        return resp

    def _failed(self, resp, what: str) -> PlacementError:
        code, detail = _error(resp)
        return PlacementError(f"{what}: {resp.status_code} {detail}", resp.status_code, code)

    def _json(self, method: str, path: str, what: str, ok: tuple[int, ...] = (200,),
              **kwargs) -> dict:
        resp = self._request(method, path, **kwargs)
        if resp.status_code not in ok:
            raise self._failed(resp, what)
        return resp.json()

    def _write_with_generation(self, path: str, what: str, read, build) -> None:
        """PUT ``build(generation)`` to ``path`` until no other writer intervenes.

        ``read()`` returns (generation, current state) and ``build(generation, current)``
        the body, or None when the current state already is what we want.
        """
        for attempt in range(GENERATION_RETRIES):
            generation, current = read()
            body = build(generation, current)
            if body is None:
                return
            resp = self._request("PUT", path, json=body)
            if resp.status_code == 200:
                return
            code, detail = _error(resp)
            if resp.status_code == 409 and code == INVENTORY_INUSE:
                raise InventoryInUse(f"{what}: {detail}", 409, code)
            if resp.status_code == 409 and code == CONCURRENT_UPDATE:
                LOG.debug("%s: generation %s is stale, retrying", what, generation)
                _backoff(attempt)
                continue
            raise self._failed(resp, what)
        raise PlacementError(f"{what}: still conflicting after {GENERATION_RETRIES} tries",
                             409, CONCURRENT_UPDATE)

    # --- providers ----------------------------------------------------------------------

    def versions(self) -> list[dict]:
        """The root document's versions (each with ``min_version`` and ``max_version``)."""
        return self._json("GET", "/", "placement versions")["versions"]

    def get_provider(self, rp_uuid: str) -> dict | None:
        """The provider's body (uuid, name, generation, parent/root uuids), or None."""
        resp = self._request("GET", f"/resource_providers/{rp_uuid}")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._failed(resp, f"show provider {rp_uuid}")
        return resp.json()

    def list_providers(self, **params: str) -> list[dict]:
        """``GET /resource_providers`` with these query parameters (member_of, required,
        resources, ...)."""
        return self._json("GET", "/resource_providers", "list providers",
                          params=params)["resource_providers"]

    def ensure_provider(self, uuid: str, name: str, parent_uuid: str | None = None) -> int:
        """The provider's generation, creating it first when it does not exist."""
        found = self.get_provider(uuid)
        if found is not None:
            return found["generation"]
        body = {"uuid": uuid, "name": name}
        if parent_uuid:
            body["parent_provider_uuid"] = parent_uuid
        resp = self._request("POST", "/resource_providers", json=body)
        if resp.status_code == 200:
            return resp.json()["generation"]
        if resp.status_code == 409:
            # Created by a concurrent caller with the same uuid: fine. Otherwise the name
            # belongs to another provider, which is the caller's problem to solve.
            found = self.get_provider(uuid)
            if found is not None:
                return found["generation"]
        raise self._failed(resp, f"create provider {uuid} ({name})")

    def delete_provider(self, rp_uuid: str) -> None:
        """Delete the provider; a missing one is fine, one with allocations is an error."""
        resp = self._request("DELETE", f"/resource_providers/{rp_uuid}")
        if resp.status_code not in (204, 404):
            raise self._failed(resp, f"delete provider {rp_uuid}")

    def get_inventory(self, rp_uuid: str) -> dict[str, dict]:
        """{resource class: inventory record} of the provider."""
        return self._json("GET", f"/resource_providers/{rp_uuid}/inventories",
                          f"inventories of {rp_uuid}")["inventories"]

    def set_inventory(self, rp_uuid: str, inventories: dict[str, dict]) -> None:
        """Make the provider's inventory exactly ``inventories`` ({class: {total, ...}})."""
        path = f"/resource_providers/{rp_uuid}/inventories"

        def read():
            body = self._json("GET", path, f"inventories of {rp_uuid}")
            return body["resource_provider_generation"], body["inventories"]

        def build(generation, current):
            same = set(current) == set(inventories) and all(
                current[rc].get(field) == value
                for rc, record in inventories.items() for field, value in record.items())
            if same:
                return None
            return {"resource_provider_generation": generation, "inventories": inventories}

        self._write_with_generation(path, f"set inventory of {rp_uuid}", read, build)

    def get_traits(self, rp_uuid: str) -> set[str]:
        return set(self._json("GET", f"/resource_providers/{rp_uuid}/traits",
                              f"traits of {rp_uuid}")["traits"])

    def set_traits(self, rp_uuid: str, traits: Iterable[str]) -> None:
        """Make the provider's traits exactly ``traits``, creating CUSTOM_* ones first."""
        wanted = sorted(set(traits))
        for trait in wanted:
            if trait.startswith("CUSTOM_"):
                resp = self._request("PUT", f"/traits/{trait}")
                if resp.status_code not in (201, 204):
                    raise self._failed(resp, f"create trait {trait}")
        path = f"/resource_providers/{rp_uuid}/traits"

        def read():
            body = self._json("GET", path, f"traits of {rp_uuid}")
            return body["resource_provider_generation"], set(body["traits"])

        def build(generation, current):
            if current == set(wanted):
                return None
            return {"resource_provider_generation": generation, "traits": wanted}

        self._write_with_generation(path, f"set traits of {rp_uuid}", read, build)

    def get_aggregates(self, rp_uuid: str) -> set[str]:
        return set(self._json("GET", f"/resource_providers/{rp_uuid}/aggregates",
                              f"aggregates of {rp_uuid}")["aggregates"])

    def set_aggregates(self, rp_uuid: str, aggregate_uuids: Iterable[str]) -> None:
        """Make the provider a member of exactly ``aggregate_uuids``."""
        wanted = set(aggregate_uuids)
        self._change_aggregates(rp_uuid, lambda current: wanted, "set")

    def add_aggregates(self, rp_uuid: str, aggregate_uuids: Iterable[str]) -> None:
        """Add the provider to ``aggregate_uuids``, keeping the aggregates it is in."""
        extra = set(aggregate_uuids)
        self._change_aggregates(rp_uuid, lambda current: current | extra, "add")

    def remove_aggregates(self, rp_uuid: str, aggregate_uuids: Iterable[str]) -> None:
        """Take the provider out of ``aggregate_uuids``, keeping its other aggregates."""
        gone = set(aggregate_uuids)
        self._change_aggregates(rp_uuid, lambda current: current - gone, "remove")

    def _change_aggregates(self, rp_uuid: str, desired, verb: str) -> None:
        path = f"/resource_providers/{rp_uuid}/aggregates"

        def read():
            body = self._json("GET", path, f"aggregates of {rp_uuid}")
            return body["resource_provider_generation"], set(body["aggregates"])

        def build(generation, current):
            wanted = desired(current)
            if current == wanted:
                return None
            return {"resource_provider_generation": generation, "aggregates": sorted(wanted)}

        self._write_with_generation(path, f"{verb} aggregates of {rp_uuid}", read, build)

    def provider_usages(self, rp_uuid: str) -> dict[str, int]:
        return self._json("GET", f"/resource_providers/{rp_uuid}/usages",
                          f"usages of {rp_uuid}")["usages"]

    def provider_allocations(self, rp_uuid: str) -> dict[str, dict]:
        """{consumer uuid: {"resources": {...}, "consumer_generation"}} on the provider."""
        return self._json("GET", f"/resource_providers/{rp_uuid}/allocations",
                          f"allocations on {rp_uuid}")["allocations"]

    # --- scheduling and claims ----------------------------------------------------------

    def get_allocation_candidates(self, query: list[tuple[str, str]]) -> dict:
        """The raw body of ``GET /allocation_candidates`` for ``query``'s parameters."""
        return self._json("GET", "/allocation_candidates", "allocation candidates",
                          params=list(query))

    def get_allocations(self, consumer_uuid: str) -> dict:
        """The consumer's allocations, project, user and consumer_generation (if any)."""
        return self._json("GET", f"/allocations/{consumer_uuid}",
                          f"allocations of {consumer_uuid}")

    def claim(self, consumer_uuid: str, allocations: dict, project_id: str, user_id: str,
              consumer_generation: int | None = None) -> bool:
        """Write the consumer's allocations; False when the claim cannot be made.

        ``allocations`` is ``{rp_uuid: {"resources": {...}}}`` or a whole allocation
        request from ``GET /allocation_candidates`` (``{"allocations", "mappings"}``).
        Races between writers on the same providers are retried; capacity used up or a
        consumer changed by someone else (its generation differs) give False.
        """
        body = _consumer_body(allocations, project_id, user_id, consumer_generation)
        return self._put_allocations(f"/allocations/{consumer_uuid}", body,
                                     f"claim for {consumer_uuid}")

    def claim_many(self, claims: dict[str, dict], project_id: str, user_id: str) -> bool:
        """Write the allocations of several new consumers at once, all or none.

        ``claims`` maps each consumer to its allocation request (as :meth:`claim` takes
        one). False, and nothing written, when any of them cannot be made.
        """
        body = {consumer_uuid: _consumer_body(allocations, project_id, user_id, None)
                for consumer_uuid, allocations in claims.items()}
        return self._put_allocations("/allocations", body,
                                     f"claims for {len(claims)} consumers", method="POST")

    def _put_allocations(self, path: str, body: dict, what: str, method: str = "PUT") -> bool:
        for attempt in range(GENERATION_RETRIES):
            resp = self._request(method, path, json=body)
            if resp.status_code == 204:
                return True
            if resp.status_code != 409:
                raise self._failed(resp, what)
            code, detail = _error(resp)
            if code == CONCURRENT_UPDATE and not _is_consumer_conflict(detail):
                LOG.debug("%s: providers changed meanwhile, retrying", what)
                _backoff(attempt)
                continue
            LOG.info("%s refused: %s", what, detail)
            return False
        return False

    def delete_allocations(self, consumer_uuid: str) -> None:
        """Remove every allocation of the consumer (none is fine)."""
        resp = self._request("DELETE", f"/allocations/{consumer_uuid}")
        if resp.status_code not in (204, 404):
            raise self._failed(resp, f"delete allocations of {consumer_uuid}")

    def move_allocations(self, source_consumer: str, target_consumer: str) -> bool:
        """Give ``target_consumer`` the allocations of ``source_consumer`` in one write.

        Replaces whatever the target held and empties the source (as a resize or a
        migration hands an instance's allocation to its migration record). True when
        moved, or when the source held nothing; False when either consumer changed
        meanwhile.
        """
        source = self.get_allocations(source_consumer)
        if not source.get("allocations"):
            return True
        target = self.get_allocations(target_consumer)
        held = {rp: {"resources": entry["resources"]}
                for rp, entry in source["allocations"].items()}
        body = {
            target_consumer: {"allocations": held, "project_id": source["project_id"],
                              "user_id": source["user_id"],
                              "consumer_generation": target.get("consumer_generation")},
            source_consumer: {"allocations": {}, "project_id": source["project_id"],
                              "user_id": source["user_id"],
                              "consumer_generation": source["consumer_generation"]},
        }
        return self._put_allocations("/allocations", body,
                                     f"move {source_consumer} to {target_consumer}",
                                     method="POST")
