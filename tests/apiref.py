"""The API reference (doc/api-ref) read as data, and compared with the route tables.

Each API mounted in the all-in-one has a page ``doc/api-ref/source/<api>/index.rst``
(``<api>``: first segment of its mount prefix) and ``<api>/parameters.yaml``. Every
route method is a section opened by ``.. rest_method:: METHOD /path`` (path relative to
the API's endpoint, as clients see it in the catalog). Request parameter tables follow
a ``Request`` heading; body parameters are named by their dotted path in the JSON
document (``project.name``), so each can be matched to the route's JSON Schema.

``python tests/apiref.py skeleton <api>`` prints sections for the routes a page lacks.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from stratus.allinone import AllInOne  # noqa: E402
from stratus.common.wsgi.app import Route  # noqa: E402
from stratus.common.wsgi.spec import Spec, versioned  # noqa: E402

SOURCE = Path(__file__).resolve().parents[1] / "doc" / "api-ref" / "source"
MICROVERSION_HEADERS = {"OpenStack-API-Version", "X-OpenStack-Nova-API-Version"}


@dataclass
class Param:
    name: str
    where: str  # header, path, query, body
    type: str | None
    required: bool
    min_version: str | None = None
    max_version: str | None = None


@dataclass
class Section:
    """One ``rest_method`` section of a page."""

    method: str
    path: str
    line: int
    min_version: str | None = None
    max_version: str | None = None
    request: list[Param] = field(default_factory=list)
    response: list[Param] = field(default_factory=list)
    status_codes: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    rule: str | None = None


def api_name(prefix: str) -> str:
    return prefix.strip("/").split("/")[0]


def apis() -> dict[str, list[Route]]:
    return {api_name(prefix): routes for prefix, routes in AllInOne.ROUTE_TABLES.items()}


class _VersionsAsStrings(yaml.SafeLoader):
    """Versions stay strings, as os-api-ref reads them (2.10 is not 2.1)."""


_VersionsAsStrings.add_constructor("tag:yaml.org,2002:float",
                                   yaml.SafeLoader.construct_yaml_str)


def load_parameters(api: str) -> dict[str, dict]:
    path = SOURCE / api / "parameters.yaml"
    return (yaml.load(path.read_text(), _VersionsAsStrings) or {}) if path.exists() else {}


_REST_METHOD = re.compile(r"^\.\. rest_method:: ([A-Z]+) (\S+)\s*$")
_REST_PARAMS = re.compile(r"^\.\. rest_parameters:: (\S+)\s*$")
_STATUS = re.compile(r"^\.\. rest_status_code:: (success|error) (\S+)\s*$")
_INCLUDE = re.compile(r"^\.\. literalinclude:: (\S+)\s*$")
_ITEM = re.compile(r"^\s+- (\S+): (\S+)\s*$")
_CODE = re.compile(r"^\s+- (\d{3})\s*$")
_VERSION = re.compile(r"^\s+(min_version|max_version): (\S+)\s*$")
_RULE = re.compile(r"^Policy rule: ``([^`]+)``")


def load_page(api: str) -> list[Section]:
    """The sections of ``<api>/index.rst`` with their parameters resolved."""
    params = load_parameters(api)
    lines = (SOURCE / api / "index.rst").read_text().splitlines()
    sections: list[Section] = []
    heading = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and lines[i + 1][:1] in "=-~^\"'" and lines[i + 1] and \
                set(lines[i + 1]) == {lines[i + 1][0]} and line.strip():
            heading = line.strip()
        if m := _REST_METHOD.match(line):
            sections.append(Section(m.group(1), m.group(2), i + 1))
            while i + 1 < len(lines) and (v := _VERSION.match(lines[i + 1])):
                setattr(sections[-1], v.group(1), v.group(2))
                i += 1
        elif (m := _REST_PARAMS.match(line)) and sections:
            target = sections[-1].response if heading == "Response" else sections[-1].request
            i += 1
            while i + 1 < len(lines) and (not lines[i + 1].strip() or _ITEM.match(lines[i + 1])):
                i += 1
                if item := _ITEM.match(lines[i]):
                    name, ref = item.groups()
                    spec = params.get(ref)
                    if spec is None:
                        raise AssertionError(f"{api}/index.rst:{i + 1}: {ref} is not in "
                                             f"parameters.yaml")
                    target.append(Param(name, spec["in"], spec.get("type"),
                                        bool(spec.get("required", False)),
                                        spec.get("min_version"), spec.get("max_version")))
        elif (m := _STATUS.match(line)) and sections:
            while i + 1 < len(lines) and (not lines[i + 1].strip() or _CODE.match(lines[i + 1])):
                i += 1
                if code := _CODE.match(lines[i]):
                    sections[-1].status_codes.append(code.group(1))
        elif (m := _INCLUDE.match(line)) and sections:
            sections[-1].samples.append(m.group(1))
        elif (m := _RULE.match(line)) and sections:
            sections[-1].rule = m.group(1)
        i += 1
    return sections


# --- what the code says --------------------------------------------------------------


def path_params(path: str) -> set[str]:
    return set(re.findall(r"\{([a-zA-Z_0-9]+)\}", path))


def schema_fields(schema: dict, prefix: str = "", required: bool = True) -> dict[str, dict]:
    """Dotted field path -> {"type", "required"} for every property, recursively."""
    fields: dict[str, dict] = {}
    branches = [schema, *schema.get("anyOf", []), *schema.get("oneOf", []),
                *schema.get("allOf", [])]
    needed = set(schema.get("required", []))
    for branch in branches:
        for name, sub in branch.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            is_required = required and name in needed
            types = sub.get("type", [])
            types = [types] if isinstance(types, str) else list(types)
            fields[path] = {"types": [t for t in types if t != "null"],
                            "required": is_required or fields.get(path, {}).get("required",
                                                                                False)}
            fields.update(schema_fields(sub, path, is_required))
    return fields


def versioned_fields(schemas) -> dict[str, dict]:
    """Fields of (possibly microversioned) schemas with the versions each exists in."""
    merged: dict[str, dict] = {}
    for entry in versioned(schemas):
        for path, info in schema_fields(entry.schema.schema).items():
            field = merged.setdefault(path, {**info, "types": [], "spans": []})
            # A field may change type between versions (a list of allocations, then a
            # dict of them): the reference may name any type it has had.
            field["types"] += [t for t in info["types"] if t not in field["types"]]
            field["spans"].append((entry.min_version, entry.max_version))
    for info in merged.values():
        lows = [low for low, _ in info["spans"]]
        highs = [high for _, high in info["spans"]]
        info["min_version"] = None if None in lows else min(lows, key=_vkey)
        info["max_version"] = None if None in highs else max(highs, key=_vkey)
    return merged


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "float",
               dict: "object", list: "array"}


_UUID_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def sample_fields(document, prefix: str = "") -> dict[str, set[str]]:
    """Dotted path -> JSON types of every key in a response sample (list items merged).

    A key that is a UUID (placement keys allocations by provider) is named ``{uuid}``.
    """
    fields: dict[str, set[str]] = {}
    items = document if isinstance(document, list) else [document]
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            key = "{uuid}" if _UUID_KEY.match(key) else key
            path = f"{prefix}.{key}" if prefix else key
            kind = _JSON_TYPES.get(type(value))
            fields.setdefault(path, set()).update({kind} if kind else set())
            for inner, kinds in sample_fields(value, path).items():
                fields.setdefault(inner, set()).update(kinds)
    return fields


def response_problems(section: Section, sample_dir: Path) -> list[str]:
    """The response table must name exactly the keys of the section's response samples."""
    fields: dict[str, set[str]] = {}
    for sample in section.samples:
        path = sample_dir.parent / sample
        if sample.endswith("-resp.json") and path.exists():
            for name, kinds in sample_fields(json.loads(path.read_text())).items():
                fields.setdefault(name, set()).update(kinds)
    documented = {p.name: p for p in section.response if p.where == "body"}
    found = [f"response field {name} is in the sample but not documented"
             for name in sorted(set(fields) - set(documented))]
    found += [f"response field {name} is documented but in no response sample"
              for name in sorted(set(documented) - set(fields))]
    for name in sorted(set(fields) & set(documented)):
        if fields[name] and documented[name].type not in fields[name]:
            found.append(f"response field {name} documented as {documented[name].type}, "
                         f"the sample has {'/'.join(sorted(fields[name]))}")
    return found


def problems(api: str, routes: list[Route], sections: list[Section],
             sample_dir: Path | None = None) -> list[str]:
    """Every way the page and the route table disagree; empty when they match."""
    found: list[str] = []
    documented = {(s.method, s.path): s for s in sections}
    code = {(m, r.path): (r, m) for r in routes for m in r.methods}
    seen: set[tuple[str, str]] = set()
    for section in sections:
        key = (section.method, section.path)
        where = f"{api}/index.rst:{section.line} {section.method} {section.path}"
        if key in seen:
            found.append(f"{where}: documented twice")
        seen.add(key)
        if key not in code:
            found.append(f"{where}: documented, but the {api} API has no such route")
            continue
        route, method = code[key]
        found += [f"{where}: {p}" for p in _section_problems(route, method, section)]
    for key in code:
        if key not in documented:
            found.append(f"{api}: {key[0]} {key[1]} has no section in {api}/index.rst")
    if sample_dir is not None:
        for section in sections:
            key = (section.method, section.path)
            where = f"{api}/index.rst:{section.line} {section.method} {section.path}"
            missing = [s for s in section.samples if not (sample_dir.parent / s).exists()]
            if missing:
                found.append(f"{where}: includes missing samples {missing}")
            found += [f"{where}: {p}" for p in response_problems(section, sample_dir)]
            if key in code and code[key][0].specs.get(key[0], Spec()).body is not None and \
                    not any(s.endswith("-req.json") for s in section.samples):
                found.append(f"{where}: takes a body but includes no captured request sample")
    if sample_dir is not None and sample_dir.exists():
        used = {Path(s).name for section in sections for s in section.samples}
        for orphan in sorted(p.name for p in sample_dir.glob("*.json") if p.name not in used):
            found.append(f"{api}: sample {orphan} is included by no section")
    return found


def _section_problems(route: Route, method: str, section: Section) -> list[str]:
    spec = route.specs.get(method, Spec())
    found = []
    if (section.min_version, section.max_version) != (spec.min_version, spec.max_version):
        found.append(f"documented versions {section.min_version}-{section.max_version}, "
                     f"code serves {spec.min_version}-{spec.max_version}")
    if not section.status_codes:
        found.append("no rest_status_code list")
    if section.rule != route.rules.get(method):
        found.append(f"documents policy rule {section.rule}, the route table names "
                     f"{route.rules.get(method)}")
    by_place: dict[str, dict[str, Param]] = {"header": {}, "path": {}, "query": {}, "body": {}}
    for param in section.request:
        by_place.setdefault(param.where, {})[param.name] = param

    wanted_path = path_params(route.path)
    if set(by_place["path"]) != wanted_path:
        found.append(f"path parameters documented {sorted(by_place['path'])}, "
                     f"route has {sorted(wanted_path)}")

    headers = set(by_place["header"])
    needed = set(spec.headers) | (set() if route.is_public(method) else {"X-Auth-Token"})
    if missing := needed - headers:
        found.append(f"request headers not documented: {sorted(missing)}")
    if extra := headers - needed - MICROVERSION_HEADERS:
        found.append(f"request headers documented that the code does not read: {sorted(extra)}")

    for place, schemas in (("query", spec.query), ("body", spec.body)):
        fields = versioned_fields(schemas)
        documented = by_place[place]
        for name in sorted(set(fields) - set(documented)):
            found.append(f"{place} parameter {name} is in the schema but not documented")
        for name in sorted(set(documented) - set(fields)):
            found.append(f"{place} parameter {name} is documented but not in the schema")
        for name in sorted(set(fields) & set(documented)):
            doc, info = documented[name], fields[name]
            if info["types"] and doc.type not in info["types"]:
                found.append(f"{place} parameter {name} documented as {doc.type}, "
                             f"schema says {'/'.join(info['types'])}")
            if place == "body" and doc.required != info["required"]:
                found.append(f"body parameter {name} documented required={doc.required}, "
                             f"schema says {info['required']}")
            if (doc.min_version, doc.max_version) != (info["min_version"], info["max_version"]):
                found.append(f"{place} parameter {name} documented for versions "
                             f"{doc.min_version}-{doc.max_version}, schema has "
                             f"{info['min_version']}-{info['max_version']}")
    return found


# --- skeletons for new pages -----------------------------------------------------------

SUCCESS = {"GET": 200, "HEAD": 200, "POST": 201, "PUT": 204, "PATCH": 200, "DELETE": 204}


def sample_slug(route: Route, method: str) -> str:
    """Sample file stem of one route method: the rule's action, else method and path."""
    rule = route.rules.get(method)
    if rule:
        return rule.split(":", 1)[-1].replace(":", "-").replace("_", "-")
    parts = [p for p in re.sub(r"[{}]", "", route.path).split("/") if p]
    return "-".join([method.lower(), *parts])


def _param_plan(api: str) -> tuple[dict, dict[str, dict]]:
    """(method, path) -> [(name, ref)], and ref -> parameters.yaml entry, for every route.

    A parameter whose meaning differs between routes (required in a create, optional in
    an update) gets a ref qualified by the action.
    """
    plan: dict[tuple[str, str], list[tuple[str, str]]] = {}
    entries: dict[str, dict] = {}

    def add(key: tuple[str, str], name: str, ref: str, entry: dict, slug: str) -> None:
        if ref in entries and entries[ref] != entry:
            where = entry["in"]
            ref = f"{ref.removesuffix('_' + where)}_{slug.replace('-', '_')}_{where}"
        entries[ref] = entry
        plan[key].append((name, ref))

    for route in apis()[api]:
        for method in route.methods:
            key = (method, route.path)
            plan[key] = []
            spec = route.specs.get(method, Spec())
            slug = sample_slug(route, method)
            if not route.is_public(method):
                add(key, "X-Auth-Token", "x-auth-token", {
                    "in": "header", "type": "string", "required": True,
                    "description": "A valid token."}, slug)
            for h in spec.headers:
                add(key, h, h.lower(), {"in": "header", "type": "string", "required": True,
                                        "description": f"The {h} header."}, slug)
            for p in sorted(path_params(route.path)):
                add(key, p, f"{p}_path", {"in": "path", "type": "string", "required": True,
                                          "description": f"The {p.replace('_', ' ')}."}, slug)
            for place, schemas in (("query", spec.query), ("body", spec.body)):
                for name, info in versioned_fields(schemas).items():
                    entry = {"in": place, "type": (info["types"] or ["string"])[0],
                             "required": info["required"] if place == "body" else False,
                             "description": f"``{name}``."}
                    for k in ("min_version", "max_version"):
                        if info[k]:
                            entry[k] = info[k]
                    add(key, name, f"{_ref(name)}_{place}", entry, slug)
    return plan, entries


def _response_plan(api: str, entries: dict[str, dict]) -> dict:
    """(method, path) -> [(name, ref)] for the keys of each route's response sample."""
    plan: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for route in apis()[api]:
        for method in route.methods:
            slug = sample_slug(route, method)
            sample = SOURCE / api / "samples" / f"{slug}-resp.json"
            plan[(method, route.path)] = rows = []
            if not sample.exists():
                continue
            for name, kinds in sample_fields(json.loads(sample.read_text())).items():
                entry = {"in": "body", "type": sorted(kinds)[0] if kinds else "string",
                         "required": True, "description": f"``{name}``."}
                ref = f"{_ref(name)}_resp"
                if ref in entries and entries[ref]["type"] != entry["type"]:
                    ref = f"{_ref(name)}_{slug.replace('-', '_')}_resp"
                entries.setdefault(ref, entry)
                rows.append((name, ref))
    return plan


def skeleton(api: str) -> str:
    """RST sections for every route the page lacks, with their sample includes."""
    from stratus.policies import documented_rules

    descriptions = {rule.name: rule.description for rule in documented_rules()}
    page = SOURCE / api / "index.rst"
    have = {(s.method, s.path) for s in load_page(api)} if page.exists() else set()
    samples = SOURCE / api / "samples"
    plan, entries = _param_plan(api)
    responses = _response_plan(api, entries)
    title = f"{api.capitalize()} API"
    out = [] if have else [":tocdepth: 2", "", "=" * len(title), title, "=" * len(title), "",
                           ".. rest_expand_all::", "", "TODO: what this API is for.", ""]
    for route in apis()[api]:
        for method in route.methods:
            if (method, route.path) in have:
                continue
            spec = route.specs.get(method, Spec())
            rule = route.rules.get(method)
            title = (descriptions.get(rule) or f"{method} {route.path}").rstrip(".")
            slug = sample_slug(route, method)
            out += [title, "=" * len(title), "", f".. rest_method:: {method} {route.path}"]
            out += [f"   {k}: {v}" for k, v in (("min_version", spec.min_version),
                                                 ("max_version", spec.max_version)) if v]
            errors = set()
            if spec.body or spec.query:
                errors.add(400)
            if not route.is_public(method):
                errors |= {401, 403}
            if path_params(route.path):
                errors.add(404)
            out += ["", f"{title}.", ""]
            # os-api-ref turns rest_method versions into CSS classes only; say them too.
            if spec.min_version:
                out += [f"**New in version {spec.min_version}**", ""]
            if spec.max_version:
                out += [f"**Available until version {spec.max_version}**", ""]
            if rule:
                out += [f"Policy rule: ``{rule}``.", ""]
            out += [".. rest_status_code:: success ../status.yaml", "",
                    f"   - {SUCCESS[method]}", ""]
            if errors:
                out += [".. rest_status_code:: error ../status.yaml", ""]
                out += [f"   - {code}" for code in sorted(errors)] + [""]
            params = plan[(method, route.path)]
            if params:
                out += ["Request", "-------", "", ".. rest_parameters:: parameters.yaml", ""]
                out += [f"   - {name}: {ref}" for name, ref in params] + [""]
            if (samples / f"{slug}-req.json").exists():
                out += ["**Example request**", "",
                        f".. literalinclude:: samples/{slug}-req.json",
                        "   :language: javascript", ""]
            if (samples / f"{slug}-resp.json").exists():
                out += ["Response", "--------", "", ".. rest_parameters:: parameters.yaml", ""]
                out += [f"   - {name}: {ref}" for name, ref in responses[(method, route.path)]]
                out += ["", "**Example response**", "",
                        f".. literalinclude:: samples/{slug}-resp.json",
                        "   :language: javascript", ""]
    return "\n".join(out)


def _ref(name: str) -> str:
    return name.replace(".", "_").replace("{", "").replace("}", "")


def parameters_skeleton(api: str) -> str:
    """parameters.yaml entries for every reference the page's routes need, in order."""
    _, entries = _param_plan(api)
    _response_plan(api, entries)
    order = {"header": 1, "path": 2, "query": 3, "body": 4}
    ordered = sorted(entries.items(), key=lambda kv: (order[kv[1]["in"]], kv[0].lower()))
    return yaml.safe_dump(dict(ordered), sort_keys=False, width=90)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("skeleton", "parameters"):
        sys.exit("usage: python tests/apiref.py skeleton|parameters <api>")
    print(skeleton(sys.argv[2]) if sys.argv[1] == "skeleton" else
          parameters_skeleton(sys.argv[2]))
