"""The scheduler's RPC endpoint: allocation candidates → filters → weighers → claim.

``select_destinations`` asks Placement once per request for hosts that can hold the
flavor, drops the hosts a filter refuses, orders the rest by weight and claims the best
one for each instance by writing its allocation. A claim Placement refuses (another
scheduler got there first) moves on to the next host. Alternates are the next best
hosts in the same cell, not claimed. When any instance of the request finds no host,
every claim made for the request is removed and NoValidHost says why.

A request for several instances first chooses all their hosts and claims them in one
``POST /allocations`` (one write, where one per instance queued behind every other
scheduler's writes); only if Placement refuses that does it go one instance at a time.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass

import os_traits
import sqlalchemy as sa
from oslo_config import cfg

from stratus.cells.mappings import CellDatabases
from stratus.cells.schema_api import instance_group_policy
from stratus.common.context import RequestContext
from stratus.compute_api.store import NoSuchRow
from stratus.compute_api.store import server_groups as group_store
from stratus.scheduler import filters, host_state, weights
from stratus.scheduler.errors import NoValidHost
from stratus.scheduler.report import API_VERSION, PlacementClient, PlacementError
from stratus.scheduler.request import (
    InvalidRequest,
    Scheduling,
    addresses_by_network,
    allocation_candidates_query,
)

LOG = logging.getLogger(__name__)

TOPIC = "scheduler"


@dataclass
class _Placed:
    host: host_state.HostState
    allocation_request: dict


def selection(host: host_state.HostState, allocation_request: dict) -> dict:
    """A selection as the conductor and compute agent read it."""
    return {"service_host": host.host, "nodename": host.nodename,
            "compute_node_uuid": host.uuid, "cell_uuid": host.cell.uuid,
            "allocation_request": allocation_request,
            "allocation_request_version": API_VERSION}


def _consume(host: host_state.HostState, allocation_request: dict) -> None:
    """Count a claim against the host's usage, so later instances of the request see it."""
    for entry in allocation_request["allocations"].values():
        for rc, amount in entry["resources"].items():
            host.used[rc] = host.used.get(rc, 0) + amount


def _count_member(scheduling: Scheduling, host: host_state.HostState) -> None:
    """One more instance of the request (and so of its server group) on ``host``."""
    scheduling.group_hosts[host.host] = scheduling.group_hosts.get(host.host, 0) + 1


def _fits(host: host_state.HostState, allocation_request: dict) -> bool:
    """Whether the host's own provider still has room for its part of the request, as far
    as this scheduler has counted (Placement has the last word when claiming)."""
    own = allocation_request["allocations"].get(host.uuid, {}).get("resources", {})
    return all(host.free(rc) >= amount for rc, amount in own.items() if rc in host.capacity)


class SchedulerManager:
    """Serves topic ``scheduler``."""

    def __init__(self, conf: cfg.ConfigOpts, placement: PlacementClient,
                 api_engine: sa.Engine, cells: CellDatabases):
        self.conf = conf
        self.placement = placement
        self.api_engine = api_engine
        self.cells = cells
        self.filters = filters.load_filters(conf.filter_scheduler.enabled_filters)

    # --- RPC ------------------------------------------------------------------------------

    def select_destinations(self, context: RequestContext | dict, request_spec: dict,
                            instance_uuids: list[str], return_alternates: bool = True
                            ) -> list[list[dict]]:
        """One list per instance: the claimed host first, then alternates (same cell)."""
        scheduling = self._scheduling(request_spec, instance_uuids)
        hosts = self._candidates(request_spec)
        if len(instance_uuids) > 1:
            together = self._claim_together(request_spec, instance_uuids, scheduling, hosts)
            if together is not None:
                return [self._picks(placed, alternates, return_alternates)
                        for placed, alternates in together]
            hosts = self._candidates(request_spec)  # Placement moved on; look again
        claimed: list[str] = []
        chosen: list[list[dict]] = []
        try:
            for instance_uuid in instance_uuids:
                placed, alternates = self._place(instance_uuid, request_spec, scheduling,
                                                 hosts)
                claimed.append(instance_uuid)
                _count_member(scheduling, placed.host)
                chosen.append(self._picks(placed, alternates, return_alternates))
        except PlacementError as exc:
            self._roll_back(claimed)
            raise NoValidHost(f"Placement failed while claiming: {exc}") from None
        except BaseException:
            self._roll_back(claimed)
            raise
        return chosen

    # --- steps ----------------------------------------------------------------------------

    @staticmethod
    def _picks(placed: _Placed, alternates: list[host_state.HostState],
               return_alternates: bool) -> list[dict]:
        picks = [selection(placed.host, placed.allocation_request)]
        if return_alternates:
            picks += [selection(h, h.allocation_requests[0]) for h in alternates]
        return picks

    def _claim_together(self, request_spec: dict, instance_uuids: list[str],
                        scheduling: Scheduling, hosts: list[host_state.HostState]
                        ) -> list[tuple[_Placed, list[host_state.HostState]]] | None:
        """Choose a host for every instance, then claim them all in one Placement write.

        The choices are the ones the one-by-one path would make when no other scheduler
        interferes (each instance sees the ones before it on its host). None, with the
        hosts and the request as they were, when an instance finds no room here or
        Placement refuses the claims (another request got there first): the caller then
        goes one instance at a time, which also says why when it fails.
        """
        used = {id(host): dict(host.used) for host in hosts}
        group_hosts = dict(scheduling.group_hosts)
        planned = self._plan(request_spec, instance_uuids, scheduling, hosts)
        if planned is not None and self.placement.claim_many(
                {uuid: placed.allocation_request
                 for uuid, (placed, _alternates) in zip(instance_uuids, planned, strict=True)},
                request_spec["project_id"], request_spec["user_id"]):
            return planned
        for host in hosts:
            host.used = used[id(host)]
        scheduling.group_hosts = group_hosts
        return None

    def _plan(self, request_spec: dict, instance_uuids: list[str], scheduling: Scheduling,
              hosts: list[host_state.HostState]
              ) -> list[tuple[_Placed, list[host_state.HostState]]] | None:
        planned = []
        for _uuid in instance_uuids:
            try:
                ranked = self._ranked(request_spec, scheduling, hosts)
            except NoValidHost:
                return None
            index = next((i for i, host in enumerate(ranked)
                          if _fits(host, host.allocation_requests[0])), None)
            if index is None:
                return None
            host = ranked[index]
            allocation_request = host.allocation_requests[0]
            _consume(host, allocation_request)
            _count_member(scheduling, host)
            planned.append((_Placed(host, allocation_request), self._alternates(ranked, index)))
        return planned

    def _scheduling(self, request_spec: dict, instance_uuids: list[str]) -> Scheduling:
        scheduling = Scheduling(request_spec)
        group_uuid = request_spec.get("instance_group")
        if not group_uuid:
            return scheduling
        with self.api_engine.connect() as conn:
            try:
                group = group_store.get(conn, group_uuid)
            except NoSuchRow:
                raise NoValidHost(f"server group {group_uuid} does not exist") from None
            rules = conn.execute(sa.select(instance_group_policy.c.rules).where(
                instance_group_policy.c.group_id == group["id"])).scalar()
        scheduling.group_policy = group["policies"][0] if group["policies"] else None
        scheduling.group_rules = _rules(rules)
        others = [m for m in group["members"] if m not in set(instance_uuids)]
        scheduling.group_hosts = host_state.group_member_hosts(self.api_engine, self.cells,
                                                               others)
        return scheduling

    def _candidates(self, request_spec: dict) -> list[host_state.HostState]:
        zone = request_spec.get("availability_zone")
        zone_aggregates = None
        if zone and self.conf.scheduler.query_placement_for_availability_zone:
            zone_aggregates = host_state.zone_aggregates(self.api_engine, zone)
        try:
            query = allocation_candidates_query(
                request_spec, limit=self.conf.scheduler.max_placement_results,
                zone_aggregates=zone_aggregates, ip_pools=self._ip_pools(request_spec))
            body = self.placement.get_allocation_candidates(query)
        except InvalidRequest as exc:
            raise NoValidHost(str(exc)) from None
        except PlacementError as exc:
            raise NoValidHost(f"Placement could not answer for allocation candidates: "
                              f"{exc}") from None
        if not body.get("allocation_requests"):
            wanted = dict(query).get("resources", "")
            raise NoValidHost(f"Placement found no host with room for {wanted or 'it'} "
                              "and the requested traits and aggregates.")
        hosts = host_state.host_states(body, self.api_engine, self.cells,
                                       self.conf.service_down_time)
        if not hosts:
            raise NoValidHost("None of the providers Placement offered is the compute node "
                              "of a host in a reachable cell.")
        return _restricted(hosts, request_spec)

    def _ip_pools(self, request_spec: dict) -> dict[str, int]:
        """The requested networks whose addresses Placement knows (a shared provider of
        IPV4_ADDRESS in the network's aggregate), with the addresses wanted of each."""
        wanted = addresses_by_network(request_spec)
        return {network_id: count for network_id, count in wanted.items()
                if self.placement.list_providers(member_of=network_id,
                                                 required=os_traits.MISC_SHARES_VIA_AGGREGATE)}

    def _passing(self, hosts: list[host_state.HostState], scheduling: Scheduling
                 ) -> list[host_state.HostState]:
        for host_filter in self.filters:
            hosts = [host for host in hosts if host_filter.host_passes(host, scheduling)]
            if not hosts:
                raise NoValidHost(f"There are not enough hosts available: filter "
                                  f"{type(host_filter).__name__} returned 0 hosts.")
        return hosts

    def _ordered(self, hosts: list[host_state.HostState], scheduling: Scheduling
                 ) -> list[host_state.HostState]:
        ranked = [host for _, host in weights.weigh(hosts, scheduling, self.conf)]
        subset = min(self.conf.filter_scheduler.host_subset_size, len(ranked))
        if subset > 1:
            first = ranked.pop(random.randrange(subset))
            ranked.insert(0, first)
        return ranked

    def _ranked(self, request_spec: dict, scheduling: Scheduling,
                hosts: list[host_state.HostState]) -> list[host_state.HostState]:
        """The hosts that pass the filters, best first (NoValidHost if none passes)."""
        # A forced host (evacuate with force) is not judged by the filters, as in Nova;
        # Placement still has to find room on it.
        if not request_spec.get("skip_filters"):
            hosts = self._passing(hosts, scheduling)
        return self._ordered(hosts, scheduling)

    def _alternates(self, ranked: list[host_state.HostState], index: int
                    ) -> list[host_state.HostState]:
        """The hosts after ``ranked[index]`` in its cell, as many as a reschedule may use."""
        chosen = ranked[index]
        alternates = [h for h in ranked[index + 1:] if h.cell.uuid == chosen.cell.uuid]
        return alternates[:self.conf.scheduler.max_attempts - 1]

    def _place(self, instance_uuid: str, request_spec: dict, scheduling: Scheduling,
               hosts: list[host_state.HostState]
               ) -> tuple[_Placed, list[host_state.HostState]]:
        ranked = self._ranked(request_spec, scheduling, hosts)
        refused = 0
        for index, host in enumerate(ranked):
            allocation_request = host.allocation_requests[0]
            if self.placement.claim(instance_uuid, allocation_request,
                                    request_spec["project_id"], request_spec["user_id"]):
                _consume(host, allocation_request)
                alternates = self._alternates(ranked, index)
                LOG.debug("Instance %s claimed on %s (%s); alternates %s", instance_uuid,
                          host.host, host.uuid, [h.host for h in alternates])
                return _Placed(host, allocation_request), alternates
            refused += 1
        raise NoValidHost(f"There are not enough hosts available: all {refused} hosts that "
                          "passed the filters were taken by other requests meanwhile.")

    def _roll_back(self, consumers: list[str]) -> None:
        for consumer in consumers:
            try:
                self.placement.delete_allocations(consumer)
            except PlacementError:
                LOG.exception("Could not remove the allocation of %s after a failed "
                              "request; it is left in Placement", consumer)


def _restricted(hosts: list[host_state.HostState], request_spec: dict
                ) -> list[host_state.HostState]:
    """A move's limits: not its source (``ignore_hosts``), only the host asked for
    (``force_hosts``), and only its own cell (``cell_uuid``)."""
    ignore = set(request_spec.get("ignore_hosts") or ())
    forced = set(request_spec.get("force_hosts") or ())
    cell_uuid = request_spec.get("cell_uuid")
    kept = [host for host in hosts if host.host not in ignore
            and (not forced or host.host in forced)
            and (cell_uuid is None or host.cell.uuid == cell_uuid)]
    if not kept:
        if forced:
            raise NoValidHost(f"Host {', '.join(sorted(forced))} cannot take the server.")
        raise NoValidHost("No host other than the server's own has room for it.")
    return kept


def _rules(raw: str | None) -> dict:
    try:
        rules = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return rules if isinstance(rules, dict) else {}
