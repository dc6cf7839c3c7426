"""Persona matrices: one YAML file per API in policy_matrix/, rows of action -> status.

``policy_matrix/<api>.yaml`` (``<api>`` is the first segment of the API's mount prefix,
e.g. ``identity`` for ``/identity``) lists rows::

    - rule: identity:get_project            # the rule the route table names
      request: GET /v3/projects/{project_id}  # path relative to the API's endpoint
      headers: {...}                        # optional; body: {...} optional
      expect: {admin: 200, member: 200, reader: 200, other_member: 403, no_role: 403}

A rule that decides what a response shows rather than whether it is allowed (Nova's
``os-instance-actions:events``) names the key it reveals and to whom::

      reveals: {key: instanceAction.events, to: [admin]}

``policy_matrix/<api>.py`` may define ``FACTORIES`` for ``{new_*}`` placeholders.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml
from fake_neutron import FakeNeutron
from harness import Cloud, start_cloud
from personas import PERSONAS, World

from stratus.allinone import AllInOne
from stratus.common.wsgi.app import Route

MATRIX_DIR = Path(__file__).parent / "policy_matrix"
# One fake host with room for every server the rows boot (a fresh one per persona and row).
FAKE_HOST = {"fake_driver.vcpus": 4096, "fake_driver.memory_mb": 1048576}


def start_matrix_cloud(state_dir) -> Cloud:
    """The all-in-one the matrices run against, with the conductor, the scheduler and two
    fake compute hosts: servers really boot, server actions reach an agent, and servers
    can move between hosts. Their ports are in a fake Neutron (``cloud.neutron``;
    stop_cloud stops it)."""
    neutron = FakeNeutron().start()
    cloud = start_cloud(state_dir, fake_hosts=2, **FAKE_HOST,
                        **{"neutron.endpoint_override": neutron.url})
    cloud.neutron = neutron
    return cloud


@dataclass(frozen=True)
class Row:
    api: str
    prefix: str
    rule: str
    method: str
    path: str
    expect: dict[str, int]
    headers: dict | None = None
    body: dict | None = None
    reveals: str | None = None  # dotted key shown only to ``revealed_to``
    revealed_to: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        headers = "".join(f" {k}={v}" for k, v in (self.headers or {}).items())
        return f"{self.method} {self.path}{headers} [{self.rule}]"


def api_name(prefix: str) -> str:
    return prefix.strip("/").split("/")[0]


def apis() -> dict[str, str]:
    """API name -> mount prefix, for every API the all-in-one serves."""
    return {api_name(prefix): prefix for prefix in AllInOne.ROUTE_TABLES}


def load_rows(api: str) -> list[Row]:
    prefix = apis()[api]
    rows = []
    for raw in yaml.safe_load((MATRIX_DIR / f"{api}.yaml").read_text()):
        method, path = raw["request"].split(" ", 1)
        assert set(raw["expect"]) == set(PERSONAS), f"{raw['request']}: expect every persona"
        reveals = raw.get("reveals") or {}
        rows.append(Row(api, prefix, raw["rule"], method, path, raw["expect"],
                        raw.get("headers"), raw.get("body"), reveals.get("key"),
                        tuple(reveals.get("to", ()))))
    return rows


def factories(api: str) -> dict:
    path = MATRIX_DIR / f"{api}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(f"policy_matrix_{api}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FACTORIES


def all_factories() -> dict:
    """Every API's ``{new_*}`` factories; two APIs may not define the same placeholder."""
    merged: dict = {}
    for api in apis():
        made = factories(api)
        clash = sorted(set(made) & set(merged))
        assert not clash, f"policy_matrix/{api}.py redefines placeholders {clash}"
        merged.update(made)
    return merged


def all_rows() -> list[Row]:
    rows = [row for api in apis() if (MATRIX_DIR / f"{api}.yaml").exists()
            for row in load_rows(api)]
    ids = [row.id for row in rows]
    assert len(ids) == len(set(ids)), f"duplicate matrix rows: {ids}"
    return rows


def run(world: World, row: Row, persona: str) -> requests.Response:
    """Send ``row``'s request as ``persona``; placeholders are filled for that persona."""
    headers = {"X-Auth-Token": world.tokens[persona], **world.fill(row.headers or {}, persona)}
    path = world.fill(row.path, persona)
    body = world.fill(row.body, persona) if row.body is not None else None
    return requests.request(row.method, f"{world.cloud.url}{row.prefix}{path}",
                            headers=headers, json=body)


def revealed(resp: requests.Response, key: str) -> bool:
    """Whether the JSON answer has the dotted ``key`` (``instanceAction.events``)."""
    document = resp.json()
    for part in key.split("."):
        if not isinstance(document, dict) or part not in document:
            return False
        document = document[part]
    return True


def _segments(path: str) -> list[str | None]:
    return [None if re.fullmatch(r"\{[a-z_0-9]+\}", part) else part
            for part in path.split("?", 1)[0].strip("/").split("/")]


def route_for(row: Row) -> Route | None:
    """The route of the row's API that its path template addresses.

    A placeholder matches any segment, so ``/flavors/{flavor_id}`` could be
    ``/flavors/detail``; the route whose placeholders and literals line up with the row's
    most closely wins.
    """
    wanted = _segments(row.path)
    best, best_score = None, -1
    for route in AllInOne.ROUTE_TABLES[row.prefix]:
        have = _segments(route.path)
        if len(have) == len(wanted) and all(
                a is None or b is None or a == b for a, b in zip(have, wanted, strict=True)):
            score = sum((a is None) == (b is None) for a, b in zip(have, wanted, strict=True))
            if score > best_score:
                best, best_score = route, score
    return best
