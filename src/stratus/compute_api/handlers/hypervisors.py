"""/os-hypervisors: compute nodes of every cell (list, detail, show, statistics, search)."""

from __future__ import annotations

from stratus.common.wsgi.app import Request, send
from stratus.common.wsgi.errors import BadRequest, NotFound
from stratus.compute_api.handlers import authorize, int_param, service, want
from stratus.compute_api.store import hosts
from stratus.compute_api.views import hosts as views
from stratus.compute_api.views import paged


def _nodes(req: Request) -> list[hosts.CellRow]:
    return hosts.list_nodes(service(req).cells, service(req).service_down_time)


def _page(req: Request, nodes: list[hosts.CellRow]) -> tuple[list[hosts.CellRow], int | None]:
    """Paging with limit and marker (an id) from 2.33."""
    if not want(req, "2.33"):
        return nodes, None
    limit = int_param(req, "limit")
    marker = req.get_param("marker")
    if marker is not None:
        ids = [str(n.row["id"]) for n in nodes]
        if marker not in ids:
            raise BadRequest(f"marker [{marker}] not found")
        nodes = nodes[ids.index(marker) + 1:]
    if limit is not None:
        nodes = nodes[:limit]
    return nodes, limit


def _list(req: Request, resp, render, path: str) -> None:
    authorize(req)
    nodes, limit = _page(req, _nodes(req))
    send(resp, paged("hypervisors", [render(node.row) for node in nodes], base=req.prefix,
                     path=path, params=req.params, limit=limit))


def list_hypervisors(req: Request, resp) -> None:
    _list(req, resp, views.hypervisor, "os-hypervisors")


def list_hypervisors_detail(req: Request, resp) -> None:
    _list(req, resp, lambda row: views.hypervisor_detail(row, req.version),
          "os-hypervisors/detail")


def show_hypervisor(req: Request, resp, hypervisor_ref: str) -> None:
    authorize(req)
    for node in _nodes(req):
        if str(node.row["id"]) == hypervisor_ref:
            send(resp, {"hypervisor": views.hypervisor_detail(node.row, req.version)})
            return
    raise NotFound(f"Hypervisor with ID '{hypervisor_ref}' could not be found.")


def statistics(req: Request, resp) -> None:
    authorize(req)
    details = [views.hypervisor_detail(node.row, req.version)
               for node in _nodes(req)]
    send(resp, views.statistics(details))


def _matching(req: Request, pattern: str) -> list[hosts.CellRow]:
    found = [node for node in _nodes(req)
             if pattern in node.row["hypervisor_hostname"]]
    if not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return found


def search(req: Request, resp, hypervisor_ref: str) -> None:
    authorize(req)
    send(resp, {"hypervisors": [views.hypervisor(n.row) for n in _matching(req, hypervisor_ref)]})


def servers(req: Request, resp, hypervisor_ref: str) -> None:
    authorize(req)
    cells = service(req).cells
    body = []
    for node in _matching(req, hypervisor_ref):
        item = views.hypervisor(node.row)
        on_node = hosts.servers_on_node(cells, node)
        if on_node:
            item["servers"] = on_node
        body.append(item)
    send(resp, {"hypervisors": body})
