"""Network list paging in the store: every filter applies before the page is cut, in
both directions, and the links follow Neutron's ``get_pagination_links``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stratus.common.wsgi.errors import APIError
from stratus.netsvc import listing, resources
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, networks, ports, subnets

ALICE = Viewer("alice", False)
URL = "http://controller/network/v2.0/subnets"


@pytest.fixture
def thirty_subnets(engine) -> list[str]:
    """Thirty subnets of alice on one network; every third has DNS server 10.0.0.53.
    Returns the ids of those, oldest first."""
    marked = []
    with engine.begin() as conn:
        net = networks.create(conn, {"project_id": "alice", "name": "n"})
        for i in range(30):
            row = subnets.create(conn, net, {
                "project_id": "alice", "ip_version": 4, "cidr": f"10.{i}.0.0/24",
                "dns_nameservers": ["10.0.0.53"] if i % 3 == 0 else []}, ALICE)
            if i % 3 == 0:
                marked.append(row["id"])
    return marked


def _page(engine, query_string: str, batch: int) -> dict:
    query = listing.parse(query_string, resources.SUBNET, max_limit=-1)
    with engine.connect() as conn:
        docs = listing.collect(conn, resources.SUBNET, query, subnets.visible(ALICE),
                               lambda rows: subnets.render(conn, rows), batch=batch)
    return listing.page(resources.SUBNET, query, docs, URL)


def _links(body: dict) -> dict[str, str]:
    return {link["rel"]: link["href"].partition("?")[2] for link in body["subnets_links"]}


@pytest.mark.parametrize("batch", [1, 4, 100])
def test_a_filter_on_rendered_documents_pages_exactly_forward(engine, thirty_subnets,
                                                              batch):
    """dns_nameservers is JSON text, so it is matched on documents: reading them in
    batches until the page is full gives full pages of matches, whatever the batch."""
    seen, qs = [], "dns_nameservers=10.0.0.53&limit=4"
    while True:
        body = _page(engine, qs, batch)
        page = [d["id"] for d in body["subnets"]]
        links = _links(body)
        assert "previous" in links  # forward, Neutron always offers the way back
        seen.append(page)
        if "next" not in links:
            break
        qs = links["next"]
    assert [len(p) for p in seen] == [4, 4, 2]
    assert sum(seen, []) == thirty_subnets


@pytest.mark.parametrize("batch", [1, 4, 100])
def test_a_filter_on_rendered_documents_pages_exactly_in_reverse(engine, thirty_subnets,
                                                                 batch):
    seen, qs = [], "dns_nameservers=10.0.0.53&limit=4&page_reverse=True"
    while True:
        body = _page(engine, qs, batch)
        links = _links(body)
        assert "next" in links  # in reverse, Neutron always offers the way forward
        seen.insert(0, [d["id"] for d in body["subnets"]])
        if "previous" not in links:
            break
        qs = links["previous"]
    assert [len(p) for p in seen] == [2, 4, 4]
    assert sum(seen, []) == thirty_subnets


def test_a_full_last_page_still_links_next_and_the_next_page_is_empty(engine,
                                                                      thirty_subnets):
    """Neutron does not look ahead: a page of exactly ``limit`` items links ``next``."""
    body = _page(engine, "dns_nameservers=10.0.0.53&limit=10", 4)
    assert [d["id"] for d in body["subnets"]] == thirty_subnets
    after = _page(engine, _links(body)["next"], 4)
    assert after["subnets"] == []
    assert _links(after) == {"previous": "dns_nameservers=10.0.0.53&limit=10"
                                         "&page_reverse=True"}


def test_previous_of_a_page_is_the_items_before_its_first(engine, thirty_subnets):
    second = _page(engine, f"dns_nameservers=10.0.0.53&limit=3&marker={thirty_subnets[2]}",
                   100)
    assert [d["id"] for d in second["subnets"]] == thirty_subnets[3:6]
    back = _page(engine, _links(second)["previous"], 100)
    assert [d["id"] for d in back["subnets"]] == thirty_subnets[0:3]
    assert _links(second)["previous"] == (f"dns_nameservers=10.0.0.53&limit=3&marker="
                                          f"{thirty_subnets[3]}&page_reverse=True")


def test_an_unknown_marker_is_the_resources_not_found(engine, thirty_subnets):
    with pytest.raises(APIError) as raised:
        _page(engine, "limit=2&marker=0f0e7f9c-0000-4000-8000-000000000000", 100)
    assert raised.value.status == 404 and raised.value.code == "SubnetNotFound"


def test_a_marker_another_project_cannot_see_is_not_found(engine, thirty_subnets):
    query = listing.parse(f"limit=2&marker={thirty_subnets[0]}", resources.SUBNET,
                          max_limit=-1)
    with engine.connect() as conn, pytest.raises(APIError) as raised:
        listing.collect(conn, resources.SUBNET, query, subnets.visible(Viewer("bob", False)),
                        lambda rows: subnets.render(conn, rows))
    assert raised.value.code == "SubnetNotFound"


def test_without_a_limit_marker_and_page_reverse_are_ignored(engine, thirty_subnets):
    body = _page(engine, f"dns_nameservers=10.0.0.53&marker={thirty_subnets[5]}"
                         "&page_reverse=True", 100)
    assert [d["id"] for d in body["subnets"]] == thirty_subnets
    assert "subnets_links" not in body


def test_pagination_max_limit_pages_a_list_that_asks_for_no_limit(engine, thirty_subnets):
    query = listing.parse("dns_nameservers=10.0.0.53", resources.SUBNET, max_limit=7)
    assert query.limit == 7
    assert listing.parse("limit=0", resources.SUBNET, max_limit=7).limit == 7
    assert listing.parse("limit=50", resources.SUBNET, max_limit=7).limit == 7
    assert listing.parse("limit=0", resources.SUBNET, max_limit=-1).limit is None


def test_mac_generation_failure_is_service_unavailable(engine, monkeypatch):
    """Neutron's MacAddressGenerationFailure is a ServiceUnavailable: 503, not 409."""
    with engine.begin() as conn:
        net = networks.create(conn, {"project_id": "alice"})
        ports.create(conn, net, {"project_id": "alice", "mac_address": "fa:16:3e:00:00:01"},
                     base_mac="fa:16:3e:00:00:00", mac_retries=3)
    monkeypatch.setattr(ports, "random_mac", lambda base: "fa:16:3e:00:00:01")
    with engine.begin() as conn, pytest.raises(APIError) as raised:
        ports.create(conn, net, {"project_id": "alice"}, base_mac="fa:16:3e:00:00:00",
                     mac_retries=3)
    assert raised.value.status == 503
    assert raised.value.code == "MacAddressGenerationFailure"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s.ports)).scalar_one() == 1
