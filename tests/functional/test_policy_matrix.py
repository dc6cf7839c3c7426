"""Persona matrix: every action answers each persona with the status its defaults promise.

Rows come from policy_matrix/<api>.yaml for every API in ``AllInOne.ROUTE_TABLES``; each
runs as a real request through the all-in-one, which runs one fake compute host. An API
without a matrix, or a rule of an API's route table without a row, fails
``test_every_rule_of_every_api_has_matrix_rows``.
"""

from __future__ import annotations

import pytest
from harness import stop_cloud
from matrix import (
    MATRIX_DIR,
    all_factories,
    all_rows,
    apis,
    revealed,
    route_for,
    run,
    start_matrix_cloud,
)
from personas import PERSONAS, make_world

from coverage_pending import MATRIX, pending
from stratus.allinone import AllInOne

ROWS = all_rows()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    running = start_matrix_cloud(tmp_path_factory.mktemp("matrix"))
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def world(cloud):
    made = make_world(cloud)
    made.factories.update(all_factories())
    return made


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_persona_gets_the_status_the_defaults_promise(world, row, persona):
    resp = run(world, row, persona)
    assert resp.status_code == row.expect[persona], \
        f"{row.id} as {persona}: {resp.status_code} {resp.text[:300]}"
    if row.reveals and resp.status_code < 300:
        assert revealed(resp, row.reveals) == (persona in row.revealed_to), \
            f"{row.id} as {persona}: {row.reveals} shown only to {row.revealed_to}"


def _route_rules(route, method: str | None = None) -> set[str]:
    """Every rule of a route (of one method): its own, its body actions', its checks'."""
    methods = [method] if method else list(route.methods)
    return {rule for m in methods for rule, _path in route.guards(m)}


@pytest.mark.parametrize("api", sorted(api for api in apis() if not pending(api, MATRIX)))
def test_every_rule_of_every_api_has_matrix_rows(api):
    """Every rule a route, body action or handler check names has a row, for every API."""
    covered = {(row.api, row.rule) for row in ROWS}
    assert (MATRIX_DIR / f"{api}.yaml").exists(), \
        f"no persona matrix for {api} (and it is not in tests/coverage_pending.py)"
    rules = {rule for route in AllInOne.ROUTE_TABLES[apis()[api]]
             for rule in _route_rules(route)}
    missing = sorted(rule for rule in rules if (api, rule) not in covered)
    assert not missing, f"{api}: rules without persona matrix rows: {missing}"


def test_pending_matrices_are_really_missing():
    """An API on the pending list has no matrix yet: once it has one, take it off the list.
    (One test over the list, so an empty list is a pass and not a skipped parameter set.)"""
    arrived = sorted(api for api in apis()
                     if pending(api, MATRIX) and (MATRIX_DIR / f"{api}.yaml").exists())
    assert not arrived, f"policy_matrix/<api>.yaml exists for {arrived}: remove their " \
        "matrix entries from tests/coverage_pending.py"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_each_row_names_the_rule_its_route_names(row):
    """A row's rule is its route's for the method, its body action's, or a declared check."""
    route = route_for(row)
    assert route is not None, f"{row.id}: no route of {row.prefix} matches"
    actions = route.actions.get(row.method)
    if actions:
        action = next(iter(row.body or {}), None)
        checks = set(route.checks.get(row.method, {}).values())
        assert actions.get(action) == row.rule or row.rule in checks, \
            f"{row.id}: the route table says {action!r} is guarded by {actions.get(action)}" \
            f" (and checks {sorted(checks)})"
        return
    assert row.rule in _route_rules(route, row.method), \
        f"{row.id}: the route table names {sorted(_route_rules(route, row.method))}"
