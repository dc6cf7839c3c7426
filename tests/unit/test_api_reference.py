"""The API reference cannot drift from the code: every route documented, nothing invented.

For every API in ``AllInOne.ROUTE_TABLES``, ``doc/api-ref/source/<api>/index.rst`` must
document each route method exactly once, with the path parameters of its path, the
query and body parameters of its JSON Schemas (types, required, and the microversions
each exists in), the headers it reads, and the microversions the method is served in.
The second half proves the checker catches each kind of drift on a made-up API.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import apiref
from coverage_pending import REFERENCE, pending
from stratus.common.wsgi.app import Route
from stratus.common.wsgi.body import Schema
from stratus.common.wsgi.spec import Spec, Versioned

APIS = apiref.apis()
# APIs whose page is still to be written are listed, with why, in tests/coverage_pending.py.
WRITTEN = sorted(api for api in APIS if not pending(api, REFERENCE))


def test_pending_reference_pages_are_really_missing():
    """An API on the pending list has no page yet: once it has one, take it off the list.
    (One test over the list, so an empty list is a pass and not a skipped parameter set.)"""
    arrived = sorted(api for api in APIS
                     if pending(api, REFERENCE) and (apiref.SOURCE / api).exists())
    assert not arrived, f"doc/api-ref/source/<api>/ exists for {arrived}: remove their " \
        "reference entries from tests/coverage_pending.py"


@pytest.mark.parametrize("api", WRITTEN)
def test_every_api_has_a_reference_page(api):
    assert (apiref.SOURCE / api / "index.rst").exists(), \
        f"no doc/api-ref/source/{api}/index.rst; start one with: " \
        f"python tests/apiref.py skeleton {api}"
    assert f"   {api}/index" in (apiref.SOURCE / "index.rst").read_text(), \
        f"{api}/index is not in the toctree of doc/api-ref/source/index.rst"


@pytest.mark.parametrize("api", WRITTEN)
def test_reference_matches_routes_schemas_and_microversions(api):
    found = apiref.problems(api, APIS[api], apiref.load_page(api),
                            apiref.SOURCE / api / "samples")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("api", WRITTEN)
def test_every_parameter_definition_is_used(api):
    used = set(re.findall(r"^\s+- \S+: (\S+)\s*$",
                          (apiref.SOURCE / api / "index.rst").read_text(), re.M))
    unused = sorted(set(apiref.load_parameters(api)) - used)
    assert not unused, f"{api}/parameters.yaml defines unused parameters: {unused}"


# --- the checker itself, on a made-up microversioned API -----------------------------

_V1 = Schema({"type": "object", "required": ["widget"], "properties": {"widget": {
    "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}})
_V2 = Schema({"type": "object", "required": ["widget"], "properties": {"widget": {
    "type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "size": {"type": "integer"}}}}})
ROUTES = [
    Route("/widgets/{widget_id}", {"PUT": print}, rules={"PUT": "w:update"},
          specs={"PUT": Spec(body=(Versioned(_V1, None, "1.4"), Versioned(_V2, "1.5")),
                             query=Schema({"type": "object", "properties": {
                                 "dry_run": {"type": "boolean"}}}),
                             min_version="1.2")}),
]


def section(**changes) -> apiref.Section:
    params = [
        apiref.Param("X-Auth-Token", "header", "string", True),
        apiref.Param("widget_id", "path", "string", True),
        apiref.Param("dry_run", "query", "boolean", False),
        apiref.Param("widget", "body", "object", True),
        apiref.Param("widget.name", "body", "string", True),
        apiref.Param("widget.size", "body", "integer", False, min_version="1.5"),
    ]
    drop = changes.pop("drop", None)
    params = [p for p in params if p.name != drop] + changes.pop("extra", [])
    for name, attrs in changes.pop("edit", {}).items():
        for param in params:
            if param.name == name:
                for key, value in attrs.items():
                    setattr(param, key, value)
    fields = {"method": "PUT", "path": "/widgets/{widget_id}", "line": 1,
              "min_version": "1.2", "request": params, "status_codes": ["200"],
              "rule": "w:update", **changes}
    return apiref.Section(**fields)


def test_checker_accepts_an_exact_page():
    assert apiref.problems("w", ROUTES, [section()]) == []


@pytest.mark.parametrize("page,expected", [
    ([], "has no section"),
    ([section(), section(method="DELETE")], "no such route"),
    ([section(drop="widget.size")], "body parameter widget.size is in the schema"),
    ([section(extra=[apiref.Param("widget.colour", "body", "string", False)])],
     "widget.colour is documented but not in the schema"),
    ([section(edit={"widget.size": {"min_version": None}})],
     "widget.size documented for versions None-None, schema has 1.5-None"),
    ([section(edit={"widget.name": {"required": False}})], "documented required=False"),
    ([section(edit={"widget.size": {"type": "string"}})], "documented as string"),
    ([section(min_version=None)], "code serves 1.2-None"),
    ([section(drop="widget_id")], "path parameters documented"),
    ([section(drop="X-Auth-Token")], "request headers not documented"),
    ([section(drop="dry_run")], "query parameter dry_run is in the schema"),
    ([section(status_codes=[])], "no rest_status_code"),
    ([section(rule="w:show")], "documents policy rule w:show, the route table names w:update"),
])
def test_checker_reports_each_kind_of_drift(page, expected):
    found = apiref.problems("w", ROUTES, page)
    assert any(expected in problem for problem in found), found


def test_checker_wants_captured_samples_that_exist_and_are_used(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    found = apiref.problems("w", ROUTES, [section()], samples)
    assert any("includes no captured request sample" in p for p in found), found
    found = apiref.problems("w", ROUTES, [section(samples=["samples/update-req.json"])],
                            samples)
    assert any("includes missing samples" in p for p in found), found
    (samples / "update-req.json").write_text("{}")
    (samples / "stale-resp.json").write_text("{}")
    found = apiref.problems("w", ROUTES, [section(samples=["samples/update-req.json"])],
                            samples)
    assert found == ["w: sample stale-resp.json is included by no section"]


def test_checker_wants_the_response_table_to_match_the_response_sample(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "update-req.json").write_text("{}")
    (samples / "update-resp.json").write_text(
        '{"widget": {"id": "w1", "size": 3, "tags": [{"name": "a"}]}}')
    table = [apiref.Param(n, "body", t, True) for n, t in (
        ("widget", "object"), ("widget.id", "string"), ("widget.size", "integer"),
        ("widget.tags", "array"), ("widget.tags.name", "string"))]
    included = ["samples/update-req.json", "samples/update-resp.json"]
    assert apiref.problems("w", ROUTES, [section(samples=included, response=table)],
                           samples) == []
    found = apiref.problems("w", ROUTES, [section(samples=included, response=table[:-1] + [
        apiref.Param("widget.colour", "body", "string", True)])], samples)
    assert any("widget.tags.name is in the sample but not documented" in p for p in found)
    assert any("widget.colour is documented but in no response sample" in p for p in found)
    table[2].type = "string"
    found = apiref.problems("w", ROUTES, [section(samples=included, response=table)], samples)
    assert any("widget.size documented as string, the sample has integer" in p for p in found)


@pytest.mark.slow
def test_skeleton_of_a_microversioned_api_is_drift_free_and_builds_with_versions_shown(
        tmp_path, monkeypatch):
    """The path a new API takes: skeleton -> clean drift check -> sphinx -W shows versions."""
    pytest.importorskip("os_api_ref")
    source = tmp_path / "source"
    (source / "w").mkdir(parents=True)
    for name in ("conf.py", "status.yaml"):
        (source / name).write_text((apiref.SOURCE / name).read_text())
    (source / "index.rst").write_text("Widgets\n=======\n\n.. toctree::\n\n   w/index\n")
    monkeypatch.setattr(apiref, "SOURCE", source)
    monkeypatch.setattr(apiref, "apis", lambda: {"w": ROUTES})
    (source / "w" / "index.rst").write_text(apiref.skeleton("w"))
    (source / "w" / "parameters.yaml").write_text(apiref.parameters_skeleton("w"))
    assert apiref.problems("w", ROUTES, apiref.load_page("w")) == []
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
                            str(source), str(tmp_path / "html")],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    html = (tmp_path / "html" / "w" / "index.html").read_text()
    assert "New in version 1.2" in html and "New in version 1.5" in html


def test_compute_reference_names_only_versions_of_its_version_history():
    """Every microversion the compute page cites is one the API serves and changes here.

    The history (``stratus.compute_api.versions.HISTORY``, and its prose twin
    ``doc/compute-version-history.md``) says what each version changes; a version the
    reference cites must be in it and not be one marked "not served here".
    """
    from stratus.compute_api import versions

    history = dict(versions.HISTORY)
    cited = {(f"parameters.yaml {ref}", entry[k])
             for ref, entry in apiref.load_parameters("compute").items()
             for k in ("min_version", "max_version") if entry.get(k)}
    cited |= {(f"index.rst:{s.line}", v) for s in apiref.load_page("compute")
              for v in (s.min_version, s.max_version) if v}
    wrong = sorted((where, v) for where, v in cited
                   if v not in history or "not served here" in history[v])
    assert not wrong, f"versions not in the history, or not served: {wrong}"
