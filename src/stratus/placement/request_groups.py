"""Query strings of GET /allocation_candidates and GET /resource_providers, parsed per version.

Turns the query parameters into plain request objects (:class:`RequestGroup`,
:class:`CandidateRequest`, :class:`ProviderFilters`) and raises Placement's own 400
messages and error codes for anything malformed. Whether names exist (resource
classes, traits, providers) is the data layer's question, not this module's.

What each microversion allows (all of it also in doc/placement-version-history.md):
  1.3 ``member_of`` (providers) · 1.4 ``resources`` (providers) · 1.14 ``in_tree``
  (providers) · 1.16 ``limit`` · 1.17 ``required`` (candidates) · 1.18 ``required``
  (providers) · 1.21 ``member_of`` (candidates) · 1.22 ``!trait`` · 1.24 repeated
  ``member_of`` · 1.25 numbered groups and ``group_policy`` · 1.31 ``in_tree``
  (candidates) · 1.32 ``!`` aggregates · 1.33 named suffixes · 1.35 ``root_required``
  · 1.36 ``same_subtree`` and resourceless groups · 1.39 ``in:`` traits, repeated
  ``required``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import jsonschema

from stratus.common.wsgi.errors import BadRequest
from stratus.common.wsgi.microversion import Version
from stratus.placement import errors as codes

QueryParams = Mapping[str, "str | list[str]"]

_NUMBERED = r"[1-9][0-9]*"
_NAMED = r"[a-zA-Z0-9_-]{1,64}"
_GROUP_KEYS = ("resources", "required", "member_of", "in_tree")
_KEY_RE = {verbose: re.compile(rf"^({'|'.join(_GROUP_KEYS)})({_NAMED if verbose else _NUMBERED})?$")
           for verbose in (False, True)}
_RESOURCES_FORM = ("Badly formed resources parameter. Expected resources query string "
                   "parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: %s.")


@dataclass
class RequestGroup:
    """One request group: what a single provider (suffixed) or one tree (unsuffixed) gives.

    ``required`` is a list of any-of sets: [{A}, {B, C}] means A and (B or C).
    ``member_of`` likewise: every set must meet at least one of its aggregates.
    """

    suffix: str = ""
    resources: dict[str, int] = field(default_factory=dict)
    required: list[frozenset[str]] = field(default_factory=list)
    forbidden: frozenset[str] = frozenset()
    member_of: list[frozenset[str]] = field(default_factory=list)
    forbidden_aggs: frozenset[str] = frozenset()
    in_tree: str | None = None

    @property
    def use_same_provider(self) -> bool:
        return bool(self.suffix)

    def trait_names(self) -> set[str]:
        return set().union(self.forbidden, *self.required)

    def aggregate_uuids(self) -> set[str]:
        return set().union(self.forbidden_aggs, *self.member_of)


@dataclass
class CandidateRequest:
    """Everything one GET /allocation_candidates asks, groups keyed by suffix ('' unsuffixed)."""

    groups: dict[str, RequestGroup]
    limit: int | None = None
    group_policy: str | None = None
    root_required: frozenset[str] = frozenset()
    root_forbidden: frozenset[str] = frozenset()
    same_subtrees: list[frozenset[str]] = field(default_factory=list)

    def trait_names(self) -> set[str]:
        return set().union(self.root_required, self.root_forbidden,
                           *(g.trait_names() for g in self.groups.values()))

    def resource_class_names(self) -> set[str]:
        return set().union(*(g.resources for g in self.groups.values()))


@dataclass
class ProviderFilters:
    """The filters of GET /resource_providers (each None or empty when not given)."""

    name: str | None = None
    uuid: str | None = None
    in_tree: str | None = None
    resources: dict[str, int] = field(default_factory=dict)
    required: list[frozenset[str]] = field(default_factory=list)
    forbidden: frozenset[str] = frozenset()
    member_of: list[frozenset[str]] = field(default_factory=list)
    forbidden_aggs: frozenset[str] = frozenset()


# ---------------------------------------------------------------------------------------
# JSON Schemas of the query strings, by the version that changed them (compiled once).

def _compile(schema: dict) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    checker = jsonschema.FormatChecker()
    checker.checks("uuid")(lambda value: is_uuid_like(value))
    return cls(schema, format_checker=checker)


def _candidate_schemas() -> list[tuple[tuple[int, int], jsonschema.protocols.Validator]]:
    props: dict = {"resources": {"type": "string"}}
    base = {"type": "object", "properties": props, "required": ["resources"],
            "additionalProperties": False}
    steps: list[tuple[tuple[int, int], dict]] = []

    def step(version: tuple[int, int], schema: dict) -> None:
        steps.append((version, _deep_copy(schema)))

    step((1, 10), base)
    props["limit"] = {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$",
                      "minimum": 1, "minLength": 1}
    step((1, 16), base)
    props["required"] = {"type": ["string"]}
    step((1, 17), base)
    props["member_of"] = {"type": ["string"]}
    step((1, 21), base)
    for key in ("resources", "required", "member_of"):
        del props[key]
    del base["required"]
    props["group_policy"] = {"type": "string", "enum": ["none", "isolate"]}
    base["patternProperties"] = {f"^{key}({_NUMBERED})?$": {"type": "string"}
                                 for key in ("resources", "required", "member_of")}
    step((1, 25), base)
    base["patternProperties"][f"^in_tree({_NUMBERED})?$"] = {"type": "string"}
    step((1, 31), base)
    base["patternProperties"] = {f"^{key}({_NAMED})?$": {"type": "string"}
                                 for key in _GROUP_KEYS}
    step((1, 33), base)
    props["root_required"] = {"type": ["string"]}
    step((1, 35), base)
    props["same_subtree"] = {"type": ["string"]}
    step((1, 36), base)
    return [(version, _compile(schema)) for version, schema in reversed(steps)]


def _provider_schemas() -> list[tuple[tuple[int, int], jsonschema.protocols.Validator]]:
    props: dict = {"name": {"type": "string"}, "uuid": {"type": "string", "format": "uuid"}}
    base = {"type": "object", "properties": props, "additionalProperties": False}
    steps = [((1, 0), _deep_copy(base))]
    for version, key, spec in (((1, 3), "member_of", {"type": "string"}),
                               ((1, 4), "resources", {"type": "string"}),
                               ((1, 14), "in_tree", {"type": "string", "format": "uuid"}),
                               ((1, 18), "required", {"type": "string"})):
        props[key] = spec
        steps.append((version, _deep_copy(base)))
    return [(version, _compile(schema)) for version, schema in reversed(steps)]


def _deep_copy(schema: dict) -> dict:
    return {k: (_deep_copy(v) if isinstance(v, dict) else list(v) if isinstance(v, list)
                else v) for k, v in schema.items()}


_CANDIDATE_SCHEMAS = _candidate_schemas()
_PROVIDER_SCHEMAS = _provider_schemas()


def _validate(params: dict[str, list[str]], version: Version, schemas) -> None:
    validator = next(v for low, v in schemas if version.matches(low))
    # As Placement does: the schema sees the last value of a repeated key.
    last = {key: values[-1] for key, values in params.items()}
    error = jsonschema.exceptions.best_match(validator.iter_errors(last))
    if error is not None:
        # Clients (and Placement's own suite) match on jsonschema's "Failed validating
        # '<keyword>'" wording, so the keyword that failed is named the same way.
        where = "".join(f"[{part!r}]" for part in error.relative_schema_path)
        raise BadRequest(f"Invalid query string parameters: {error.message}. "
                         f"Failed validating '{error.validator}' in schema{where}")


# ---------------------------------------------------------------------------------------
# Values.

def is_uuid_like(value: object) -> bool:
    """True for a UUID in any spelling Placement accepts (dashes and braces optional)."""
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    bare = value.lower().replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    return parsed.hex == bare


def parse_resources(value: str) -> dict[str, int]:
    """'VCPU:2,MEMORY_MB:1024' -> {'VCPU': 2, 'MEMORY_MB': 1024}; 400 when malformed."""
    if value.strip() == "":
        raise BadRequest(_RESOURCES_FORM % "empty string")
    result: dict[str, int] = {}
    for item in value.split(","):
        try:
            name, amount_text = item.split(":")
        except ValueError:
            raise BadRequest(_RESOURCES_FORM % item) from None
        try:
            amount = int(amount_text)
        except ValueError:
            raise BadRequest(f"Requested resource {name} expected positive integer amount. "
                             f"Got: {amount_text}.") from None
        if amount < 1:
            raise BadRequest(f"Requested resource {name} requires amount >= 1. "
                             f"Got: {amount}.")
        result[name] = amount
    return result


def parse_traits(value: str, *, allow_forbidden: bool,
                 allow_any: bool) -> tuple[list[frozenset[str]], frozenset[str]]:
    """One ``required`` value -> (any-of sets that must all match, forbidden names)."""
    if value.startswith("in:"):
        if not allow_any:
            raise BadRequest("Invalid query string parameters: The format "
                             "'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since "
                             f"microversion 1.39. Got: {value}")
        names = frozenset(part.strip() for part in value[3:].split(","))
        if not all(names):
            raise BadRequest("Invalid query string parameters: Expected 'required' "
                             "parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. "
                             f"Got an empty trait in: {value}")
        if any(name.startswith("!") for name in names):
            raise BadRequest("Invalid query string parameters: The format "
                             "'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden "
                             f"traits. Got: {value}")
        return [names], frozenset()
    names = [part.strip() for part in value.split(",")]
    # Like Placement, any run of leading '!' marks one forbidden trait.
    forbidden = frozenset(name.lstrip("!") for name in names if name.startswith("!"))
    if not all(names) or not all(forbidden):
        form = "HW_CPU_X86_VMX,!CUSTOM_MAGIC" if allow_forbidden else \
            "HW_CPU_X86_VMX,CUSTOM_MAGIC"
        raise BadRequest("Invalid query string parameters: Expected 'required' parameter "
                         f"value of the form: {form}. Got an empty trait in: {value}")
    if forbidden and not allow_forbidden:
        raise BadRequest("Invalid query string parameters: Expected 'required' parameter "
                         f"value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {value}")
    return [frozenset([n]) for n in names if not n.startswith("!")], forbidden


def _all_traits(values: list[str], version: Version) -> tuple[list[frozenset[str]],
                                                             frozenset[str]]:
    allow_any = version.matches((1, 39))
    if not allow_any:
        values = values[-1:]  # before 1.39 only the last `required` counts
    required: list[frozenset[str]] = []
    forbidden: frozenset[str] = frozenset()
    for value in values:
        req, forb = parse_traits(value, allow_forbidden=version.matches((1, 22)),
                                 allow_any=allow_any)
        required += req
        forbidden |= forb
    return required, forbidden


def parse_member_of(value: str) -> tuple[frozenset[str], frozenset[str]]:
    """One ``member_of`` value -> (any-of required aggregates, forbidden aggregates)."""
    if "," in value and not value.startswith(("in:", "!in:")):
        raise BadRequest("Multiple values for 'member_of' must be prefixed with the 'in:' or "
                         f"'!in:' keyword using the valid microversion. Got: {value}")
    required: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()
    if value.startswith("!in:"):
        forbidden = frozenset(value[4:].split(","))
    elif value.startswith("!"):
        forbidden = frozenset([value[1:]])
    elif value.startswith("in:"):
        required = frozenset(value[3:].split(","))
    else:
        required = frozenset([value])
    for agg in sorted(required | forbidden):
        if not is_uuid_like(agg):
            raise BadRequest("Invalid query string parameters: Expected 'member_of' parameter "
                             f"to contain valid UUID(s). Got: {agg}")
    return required, forbidden


def _all_member_of(values: list[str], suffix: str,
                   version: Version) -> tuple[list[frozenset[str]], frozenset[str]]:
    if not version.matches((1, 24)) and len(values) > 1:
        raise BadRequest(f"Multiple member_of{suffix} parameters are not supported")
    required: list[frozenset[str]] = []
    forbidden: frozenset[str] = frozenset()
    for value in values:
        req, forb = parse_member_of(value)
        if req:
            required.append(req)
        if forb:
            if not version.matches((1, 32)):
                raise BadRequest(f"Forbidden member_of{suffix} parameters are not supported "
                                 "in the specified microversion")
            forbidden |= forb
    return required, forbidden


def parse_in_tree(value: str) -> str:
    stripped = value.strip()
    if not is_uuid_like(stripped):
        raise BadRequest("Invalid query string parameters: Expected 'in_tree' parameter to be "
                         f"a format of uuid. Got: {value}")
    return stripped


def _multi(params: QueryParams) -> dict[str, list[str]]:
    return {key: (list(value) if isinstance(value, list | tuple) else [value])
            for key, value in params.items()}


# ---------------------------------------------------------------------------------------
# GET /allocation_candidates

def parse_candidate_request(params: QueryParams, version: Version) -> CandidateRequest:
    """The request groups and request-wide options of GET /allocation_candidates."""
    multi = _multi(params)
    _validate(multi, version, _CANDIDATE_SCHEMAS)
    request = CandidateRequest(groups=_parse_groups(multi, version))
    if "limit" in multi:
        request.limit = int(multi["limit"][0])
    if "group_policy" in multi:
        request.group_policy = multi["group_policy"][0]
    _parse_root_required(multi.get("root_required", []), request)
    for value in multi.get("same_subtree", []):
        suffixes = frozenset(part.strip() for part in value.split(","))
        if "" in suffixes:
            raise BadRequest("Empty string (unsuffixed group) can not be specified in "
                             "`same_subtree` ", code=codes.QUERYPARAM_BAD_VALUE)
        request.same_subtrees.append(suffixes)
    _check_groups(request, version)
    granular = [g for g in request.groups.values() if g.use_same_provider]
    if request.group_policy is None and len(granular) > 1:
        raise BadRequest('The "group_policy" parameter is required when specifying more '
                         'than one "resources{N}" parameter.')
    return request


def _parse_groups(multi: dict[str, list[str]], version: Version) -> dict[str, RequestGroup]:
    pattern = _KEY_RE[version.matches((1, 33))]
    groups: dict[str, RequestGroup] = {}
    for key, values in multi.items():
        match = pattern.match(key)
        if not match:
            continue
        prefix, suffix = match.group(1), match.group(2) or ""
        group = groups.setdefault(suffix, RequestGroup(suffix=suffix))
        if prefix == "resources":
            group.resources = parse_resources(values[-1])
        elif prefix == "required":
            group.required, group.forbidden = _all_traits(values, version)
        elif prefix == "member_of":
            group.member_of, group.forbidden_aggs = _all_member_of(values, suffix, version)
        else:
            group.in_tree = parse_in_tree(values[-1])
    return groups


def _parse_root_required(values: list[str], request: CandidateRequest) -> None:
    if not values:
        return
    if len(values) > 1:
        raise BadRequest("Query parameter 'root_required' may be specified only once.",
                         code=codes.ILLEGAL_DUPLICATE_QUERYPARAM)
    required, forbidden = parse_traits(values[0], allow_forbidden=True, allow_any=False)
    required_names = frozenset().union(*required)
    conflicts = required_names & forbidden
    if conflicts:
        raise BadRequest("Conflicting required and forbidden traits found in root_required: "
                         + ", ".join(sorted(conflicts)), code=codes.QUERYPARAM_BAD_VALUE)
    request.root_required, request.root_forbidden = required_names, forbidden


def _check_groups(request: CandidateRequest, version: Version) -> None:
    groups = request.groups
    if version.matches((1, 36)):
        resourceless = [s for s, g in groups.items() if not g.resources]
        in_subtrees = set().union(*request.same_subtrees)
        if len(resourceless) == len(groups):
            raise BadRequest("There must be at least one resources or resources[$S] "
                             "parameter.", code=codes.QUERYPARAM_MISSING_VALUE)
        bad = [s for s in resourceless if s not in in_subtrees]
        if bad:
            raise BadRequest("Resourceless suffixed group request should be specified in "
                             f"`same_subtree` query param: bad group(s) - {bad}.",
                             code=codes.QUERYPARAM_BAD_VALUE)
        unknown = [s for s in in_subtrees if s not in groups]
        if unknown:
            raise BadRequest("Real suffixes should be specified in `same_subtree`: "
                             f"{unknown} not found in {list(groups)}.",
                             code=codes.QUERYPARAM_BAD_VALUE)
    else:
        _check_orphans(groups)
    if version.matches((1, 22)):
        conflicts = sorted(f"required{s}: ({', '.join(sorted(any_of))})"
                           for s, g in groups.items() for any_of in g.required
                           if any_of <= g.forbidden)
        if conflicts:
            raise BadRequest("Conflicting required and forbidden traits found in the "
                             "following traits keys: " + ", ".join(conflicts))


def _check_orphans(groups: dict[str, RequestGroup]) -> None:
    orphans = [f"required{s}" for s, g in groups.items() if g.required and not g.resources]
    if orphans:
        raise BadRequest("All traits parameters must be associated with resources.  Found "
                         "the following orphaned traits keys: " + ", ".join(orphans))
    orphans = [f"member_of{s}" for s, g in groups.items()
               if not g.resources and (g.member_of or g.forbidden_aggs)]
    if orphans:
        raise BadRequest("All member_of parameters must be associated with resources. Found "
                         "the following orphaned member_of keys: " + ", ".join(orphans))
    if not all(g.resources for g in groups.values()):
        raise BadRequest("All request groups must specify resources.")
    if not groups:
        raise BadRequest("At least one request group (`resources` or `resources{$S}`) "
                         "is required.")


# ---------------------------------------------------------------------------------------
# GET /resource_providers

def parse_provider_filters(params: QueryParams, version: Version) -> ProviderFilters:
    """The filters of GET /resource_providers allowed at ``version``."""
    multi = _multi(params)
    _validate(multi, version, _PROVIDER_SCHEMAS)
    filters = ProviderFilters()
    if "name" in multi:
        filters.name = multi["name"][-1]
    if "uuid" in multi:
        filters.uuid = multi["uuid"][-1]
    if "in_tree" in multi:
        filters.in_tree = multi["in_tree"][-1]
    if "resources" in multi:
        filters.resources = parse_resources(multi["resources"][-1])
    if "member_of" in multi:
        filters.member_of, filters.forbidden_aggs = _all_member_of(
            multi["member_of"], "", version)
    if "required" in multi:
        filters.required, filters.forbidden = _all_traits(multi["required"], version)
    return filters
