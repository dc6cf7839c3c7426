"""GET /allocation_candidates: parse the request groups, search, render per microversion."""

from __future__ import annotations

from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Request, send
from stratus.placement import candidates, resource_classes, views
from stratus.placement.handlers import reading
from stratus.placement.request_groups import parse_candidate_request


def list_allocation_candidates(req: Request, resp) -> None:
    """Allocation requests that would fit now, and summaries of the providers involved."""
    options = req.service.conf.placement
    with reading(req) as conn:
        request = parse_candidate_request(req.params, req.version)
        try:
            found = candidates.find_candidates(conn, request,
                                               nested_aware=req.version.matches((1, 29)),
                                               randomize=options.randomize_allocation_candidates,
                                               max_candidates=options.max_allocation_candidates)
        except candidates.NoSuchResourceClass as exc:
            raise errors.BadRequest(
                f"Invalid resource class in resources parameter: {exc}") from None
        except candidates.NoSuchTrait as exc:
            raise errors.BadRequest(str(exc)) from None
        class_ids = {rc for p in found.summaries for rc in p.inventory}
        class_ids |= {rc for a in found.allocation_requests for _, rc in a.amounts}
        names = resource_classes.names_for(conn, class_ids)
    send(resp, render(found, names, req))
    views.cache_headers(req, resp, None)


def render(found: candidates.Candidates, names: dict[int, str], req: Request) -> dict:
    """The response body in the shape of the negotiated microversion."""
    version = req.version
    uuid_of = {pid: p.uuid for pid, p in found.forest.providers.items()}
    requests = []
    for areq in found.allocation_requests:
        by_provider: dict[str, dict[str, int]] = {}
        for (pid, rc), amount in areq.amounts.items():
            by_provider.setdefault(uuid_of[pid], {})[names[rc]] = amount
        if version.matches((1, 12)):
            body: dict = {"allocations": {u: {"resources": r} for u, r in by_provider.items()}}
            if version.matches((1, 34)):
                body["mappings"] = {suffix: sorted(uuid_of[p] for p in pids)
                                    for suffix, pids in areq.mappings.items()}
        else:
            body = {"allocations": [{"resource_provider": {"uuid": u}, "resources": r}
                                    for u, r in by_provider.items()]}
        requests.append(body)
    all_classes = version.matches((1, 27))
    summaries = {}
    for p in found.summaries:
        summary: dict = {"resources": {
            names[rc]: {"capacity": inv.capacity, "used": inv.used}
            for rc, inv in p.inventory.items()
            if all_classes or rc in found.requested_classes}}
        if version.matches((1, 17)):
            summary["traits"] = sorted(p.traits, key=p.trait_ids.__getitem__)
        if version.matches((1, 29)):
            summary["parent_provider_uuid"] = uuid_of.get(p.parent_id)
            summary["root_provider_uuid"] = uuid_of[p.root_id]
        summaries[p.uuid] = summary
    return {"allocation_requests": requests, "provider_summaries": summaries}
