"""/os-aggregates: create, list, show, update, delete; add_host, remove_host, set_metadata.

An aggregate's ``availability_zone`` is its metadata key of that name; a host may be in
only one zone, so a change that would put a host in two zones is refused.
Adding or removing a host also puts its compute node providers in (or out of) the
aggregate of the same uuid in Placement, which the scheduler's ``member_of`` queries read.
As in Nova, a Placement failure does not fail the request: it is logged, and
``stratus-manage placement sync_aggregates`` catches the providers up.
"""

from __future__ import annotations

import logging

from stratus.cells import mappings
from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.body import json_body
from stratus.common.wsgi.errors import BadRequest, Conflict, NotFound
from stratus.compute_api.handlers import authorize, service
from stratus.compute_api.schemas import aggregates as schemas
from stratus.compute_api.store import Duplicate, NoSuchRow
from stratus.compute_api.store import aggregates as store
from stratus.compute_api.store.availability_zones import KEY as AZ_KEY
from stratus.compute_api.views import aggregates as views
from stratus.scheduler.aggregate_sync import mirror_host_membership
from stratus.scheduler.report import PlacementError

LOG = logging.getLogger(__name__)

INTERNAL_ZONE = "internal"


def _id(aggregate_id: str) -> int:
    if not aggregate_id.isdigit():
        raise BadRequest(f"Invalid aggregate id {aggregate_id}")
    return int(aggregate_id)


def _get(conn, aggregate_id: str) -> dict:
    try:
        return store.get(conn, _id(aggregate_id))
    except NoSuchRow:
        raise NotFound(f"Aggregate {aggregate_id} could not be found.") from None


def _check_zone(conn, aggregate: dict, zone: str | None, action: str) -> None:
    """A zone change must not put any of the aggregate's hosts in two zones."""
    if zone is None:
        return
    if zone == INTERNAL_ZONE:
        raise BadRequest(f"Cannot {action} aggregate {aggregate['id']}. Reason: "
                         f"{INTERNAL_ZONE} is reserved for internal services.")
    others = store.zones_of_hosts(conn, aggregate["hosts"], excluding=aggregate["id"])
    if others - {zone}:
        raise BadRequest(f"Cannot {action} aggregate {aggregate['id']}. Reason: One or more "
                         f"hosts already in availability zone(s) {sorted(others)}.")


def list_aggregates(req: Request, resp) -> None:
    authorize(req)
    with service(req).api_engine.connect() as conn:
        rows = store.list_aggregates(conn)
    send(resp, {"aggregates": [views.aggregate(row) for row in rows]})


def create_aggregate(req: Request, resp) -> None:
    authorize(req)
    body = json_body(req, schemas.create)["aggregate"]
    zone = body.get("availability_zone")
    if zone == INTERNAL_ZONE:
        raise BadRequest(f"Aggregates cannot use the {INTERNAL_ZONE} availability zone.")
    with service(req).api_engine.begin() as conn:
        try:
            aggregate_id = store.create(conn, body["name"])
        except Duplicate:
            raise Conflict(f"Aggregate {body['name']} already exists.") from None
        if zone is not None:
            store.set_metadata(conn, aggregate_id, {AZ_KEY: zone})
        row = store.get(conn, aggregate_id)
    send(resp, {"aggregate": views.aggregate(row, full=False)})


def show_aggregate(req: Request, resp, aggregate_id: str) -> None:
    authorize(req)
    with service(req).api_engine.connect() as conn:
        row = _get(conn, aggregate_id)
    send(resp, {"aggregate": views.aggregate(row)})


def update_aggregate(req: Request, resp, aggregate_id: str) -> None:
    authorize(req)
    body = json_body(req, schemas.update)["aggregate"]
    with service(req).api_engine.begin() as conn:
        row = _get(conn, aggregate_id)
        if "availability_zone" in body:
            _check_zone(conn, row, body["availability_zone"], "update")
            store.set_metadata(conn, row["id"], {AZ_KEY: body["availability_zone"]})
        if "name" in body:
            try:
                store.rename(conn, row["id"], body["name"])
            except Duplicate:
                raise Conflict(f"Aggregate {body['name']} already exists.") from None
        row = store.get(conn, row["id"])
    send(resp, {"aggregate": views.aggregate(row)})


def delete_aggregate(req: Request, resp, aggregate_id: str) -> None:
    authorize(req)
    with service(req).api_engine.begin() as conn:
        row = _get(conn, aggregate_id)
        if row["hosts"]:
            raise BadRequest(f"Cannot remove aggregate {aggregate_id}. Reason: Host aggregate "
                             "is not empty.")
        store.delete(conn, row["id"])
    send(resp, status=200)


def aggregate_action(req: Request, resp, aggregate_id: str) -> None:
    body = json_body(req, schemas.action)
    action = next(iter(body))
    authorize(req, action=action)
    with service(req).api_engine.begin() as conn:
        row = _get(conn, aggregate_id)
        if action == "add_host":
            _add_host(conn, row, body[action]["host"])
        elif action == "remove_host":
            host = body[action]["host"]
            try:
                store.remove_host(conn, row["id"], host)
            except NoSuchRow:
                raise NotFound(f"Cannot remove host {host} in aggregate {aggregate_id}: not "
                               "found.") from None
        else:
            changes = body[action]["metadata"]
            if AZ_KEY in changes:
                _check_zone(conn, row, changes[AZ_KEY], "update metadata of")
            store.set_metadata(conn, row["id"], changes)
        row = store.get(conn, row["id"])
    if action in ("add_host", "remove_host"):
        _mirror(req, row, body[action]["host"], member=action == "add_host")
    send(resp, {"aggregate": views.aggregate(row)})


def _mirror(req: Request, row: dict, host: str, *, member: bool) -> None:
    compute = service(req)
    if compute.placement is None:
        return
    try:
        mirror_host_membership(compute.api_engine, compute.cells, compute.placement, host,
                               row["uuid"], member=member)
    except PlacementError as exc:
        LOG.warning("Host %s was %s aggregate %s in the API database but not in Placement "
                    "(%s); run 'stratus-manage placement sync_aggregates'.", host,
                    "added to" if member else "removed from", row["uuid"], exc)


def _add_host(conn, row: dict, host: str) -> None:
    try:
        mappings.get_host_mapping(conn, host)
    except mappings.MappingNotFound:
        raise NotFound(f"Compute host {host} could not be found.") from None
    zone = row["metadata"].get(AZ_KEY)
    others = store.zones_of_hosts(conn, [host], excluding=row["id"])
    if zone is not None and others - {zone}:
        raise Conflict(f"Cannot add host to aggregate {row['id']}. Reason: One or more hosts "
                       f"already in availability zone(s) {sorted(others)}.")
    try:
        store.add_host(conn, row["id"], host)
    except Duplicate:
        raise Conflict(f"Aggregate {row['id']} already has host {host}.") from None
