"""What the allocation-candidates search reads: provider trees, roots to visit, names.

Every statement is built once, at import or on first use of its shape, with bind
parameters: building and cache-keying a SQLAlchemy statement per request would cost
more than running it. Trees are read whole, in four queries per batch of roots
(providers, inventories with usage, traits, aggregates); the search works on them in
Python.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from stratus.placement import resource_classes
from stratus.placement.schema import (
    allocations,
    inventories,
    placement_aggregates,
    resource_provider_aggregates,
    resource_provider_traits,
    resource_providers,
    traits,
)

_RP, _INV, _ALLOC = resource_providers, inventories, allocations
_RPT, _RPA = resource_provider_traits, resource_provider_aggregates


class NoSuchResourceClass(LookupError):
    """A requested resource class does not exist (Placement answers 400)."""

    def __init__(self, name: str):
        super().__init__(f"No such resource class {name}.")


class NoSuchTrait(LookupError):
    """A requested trait does not exist (Placement answers 400)."""

    def __init__(self, name: str):
        super().__init__(f"No such trait(s): {name}.")


@dataclass(slots=True)
class Inventory:
    total: int
    reserved: int
    min_unit: int
    max_unit: int
    step_size: int
    allocation_ratio: float
    used: int

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)

    def fits(self, amount: int) -> bool:
        """Placement's per-class test: room left, and min_unit/max_unit/step_size."""
        return (self.used + amount <= (self.total - self.reserved) * self.allocation_ratio
                and self.min_unit <= amount <= self.max_unit
                and amount % self.step_size == 0)


@dataclass(slots=True, eq=False)
class Provider:
    id: int
    uuid: str
    parent_id: int | None
    root_id: int
    inventory: dict[int, Inventory] = field(default_factory=dict)
    traits: set[str] = field(default_factory=set)
    # Summaries list traits in the order they were created (standard ones first), as
    # OpenStack Placement does and its clients' tests compare.
    trait_ids: dict[str, int] = field(default_factory=dict)
    aggregates: set[int] = field(default_factory=set)


def _capacity_ok(amount: sa.ColumnElement, used: sa.ColumnElement) -> list[sa.ColumnElement]:
    """Placement's test that ``amount`` more of an inventory row fits, as SQL."""
    return [used + amount <= (_INV.c.total - _INV.c.reserved) * _INV.c.allocation_ratio,
            _INV.c.min_unit <= amount, _INV.c.max_unit >= amount,
            amount % _INV.c.step_size == 0]


def _used(provider_id: sa.ColumnElement, class_id: sa.ColumnElement) -> sa.ScalarSelect:
    return (sa.select(sa.func.coalesce(sa.func.sum(_ALLOC.c.used), 0))
            .where(_ALLOC.c.resource_provider_id == provider_id,
                   _ALLOC.c.resource_class_id == class_id).scalar_subquery())


def _tree_statements(root_cond: sa.ColumnElement) -> tuple[sa.Select, ...]:
    providers = sa.select(_RP.c.id, _RP.c.uuid, _RP.c.parent_provider_id,
                          _RP.c.root_provider_id).where(root_cond)
    inv = (sa.select(_INV.c.resource_provider_id, _INV.c.resource_class_id, _INV.c.total,
                     _INV.c.reserved, _INV.c.min_unit, _INV.c.max_unit, _INV.c.step_size,
                     _INV.c.allocation_ratio,
                     _used(_INV.c.resource_provider_id, _INV.c.resource_class_id))
           .select_from(_INV.join(_RP, _RP.c.id == _INV.c.resource_provider_id))
           .where(root_cond))
    trait_rows = (sa.select(_RPT.c.resource_provider_id, traits.c.name, traits.c.id)
                  .select_from(_RPT.join(_RP, _RP.c.id == _RPT.c.resource_provider_id)
                               .join(traits, traits.c.id == _RPT.c.trait_id))
                  .where(root_cond))
    agg_rows = (sa.select(_RPA.c.resource_provider_id, _RPA.c.aggregate_id)
                .select_from(_RPA.join(_RP, _RP.c.id == _RPA.c.resource_provider_id))
                .where(root_cond))
    return providers, inv, trait_rows, agg_rows


_ROOT = _RP.c.root_provider_id
TREES_BETWEEN = _tree_statements(_ROOT.between(sa.bindparam("lo"), sa.bindparam("hi")))
TREES_IN = _tree_statements(_ROOT.in_(sa.bindparam("roots", expanding=True)))
HAS_TREES = sa.select(_RP.c.id).where(_RP.c.parent_provider_id.is_not(None)).limit(1)
SHARING_ROOTS = (sa.select(_RP.c.root_provider_id).distinct()
                 .select_from(_RPT.join(traits, traits.c.id == _RPT.c.trait_id)
                              .join(_RP, _RP.c.id == _RPT.c.resource_provider_id))
                 .where(traits.c.name == sa.bindparam("trait")))
_KNOWN_TRAITS = sa.select(traits.c.name).where(
    traits.c.name.in_(sa.bindparam("names", expanding=True)))
_AGGREGATE_IDS = sa.select(placement_aggregates.c.uuid, placement_aggregates.c.id).where(
    placement_aggregates.c.uuid.in_(sa.bindparam("uuids", expanding=True)))
_TREE_ROOTS = sa.select(_RP.c.uuid, _RP.c.root_provider_id).where(
    _RP.c.uuid.in_(sa.bindparam("uuids", expanding=True)))


class Forest:
    """The providers loaded so far, by id and by tree."""

    def __init__(self) -> None:
        self.providers: dict[int, Provider] = {}
        self.trees: dict[int, list[Provider]] = {}

    def load(self, conn: sa.Connection, roots: list[int], contiguous: bool) -> None:
        """Read the trees of ``roots`` (sorted, when ``contiguous``, a range is read)."""
        if contiguous:
            statements, params = TREES_BETWEEN, {"lo": roots[0], "hi": roots[-1]}
        else:
            statements, params = TREES_IN, {"roots": roots}
        providers, inv, trait_rows, agg_rows = statements
        fresh: dict[int, Provider] = {}
        for pid, puuid, parent, root in conn.execute(providers, params).all():
            if pid not in self.providers:
                fresh[pid] = Provider(pid, puuid, parent, root)
        if not fresh:
            return
        for row in conn.execute(inv, params).all():
            if (p := fresh.get(row[0])) is not None:
                p.inventory[row[1]] = Inventory(*row[2:8], int(row[8] or 0))
        for pid, name, trait_id in conn.execute(trait_rows, params).all():
            if (p := fresh.get(pid)) is not None:
                p.traits.add(name)
                p.trait_ids[name] = trait_id
        for pid, agg in conn.execute(agg_rows, params).all():
            if (p := fresh.get(pid)) is not None:
                p.aggregates.add(agg)
        self.providers.update(fresh)
        for p in fresh.values():
            self.trees.setdefault(p.root_id, []).append(p)

    def ancestors(self, provider: Provider) -> set[int]:
        """The provider's id and the ids of all its ancestors."""
        out = {provider.id}
        while provider.parent_id is not None:
            provider = self.providers[provider.parent_id]
            out.add(provider.id)
        return out


def has_trees(conn: sa.Connection) -> bool:
    """Whether any provider has a parent (Placement's switch for pre-1.29 answers)."""
    return conn.execute(HAS_TREES).first() is not None


def roots_having(conn: sa.Connection, trait: str) -> list[int]:
    return sorted(conn.execute(SHARING_ROOTS, {"trait": trait}).scalars())


def resolve_names(conn: sa.Connection, rc_names: Iterable[str],
                  trait_names: Iterable[str]) -> dict[str, int]:
    """{class name: id}; raises NoSuchResourceClass / NoSuchTrait for unknown names."""
    rc_names = list(rc_names)
    rc_ids = resource_classes.ids_for(conn, rc_names)
    for name in rc_names:
        if name not in rc_ids:
            raise NoSuchResourceClass(name)
    wanted = sorted(set(trait_names))
    if wanted:
        known = set(conn.execute(_KNOWN_TRAITS, {"names": wanted}).scalars())
        for name in wanted:
            if name not in known:
                raise NoSuchTrait(name)
    return rc_ids


def aggregate_ids(conn: sa.Connection, uuids: set[str]) -> dict[str, int]:
    if not uuids:
        return {}
    return dict(conn.execute(_AGGREGATE_IDS, {"uuids": sorted(uuids)}).all())


def tree_roots(conn: sa.Connection, uuids: set[str]) -> dict[str, int]:
    if not uuids:
        return {}
    return dict(conn.execute(_TREE_ROOTS, {"uuids": sorted(uuids)}).all())


# ---------------------------------------------------------------------------------------
# Candidate roots.

@dataclass(frozen=True)
class RootFilter:
    """Which roots may anchor a candidate: capacity for one class, and root traits."""

    class_id: int
    amount: int
    sharing_aggregates: tuple[int, ...] = ()   # trees in these get it from a sharing provider
    tree_root: int | None = None
    required: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()

    def params(self) -> dict:
        out = {"rc": self.class_id, "amount": self.amount}
        if self.sharing_aggregates:
            out["aggs"] = list(self.sharing_aggregates)
        if self.tree_root is not None:
            out["tree_root"] = self.tree_root
        out.update({f"req{i}": name for i, name in enumerate(self.required)})
        out.update({f"forb{i}": name for i, name in enumerate(self.forbidden)})
        return out

    def statement(self, paged: bool) -> sa.Select:
        return _roots_statement(bool(self.sharing_aggregates), self.tree_root is not None,
                                len(self.required), len(self.forbidden), paged)


@functools.cache
def _roots_statement(anchored: bool, in_tree: bool, n_required: int, n_forbidden: int,
                     paged: bool) -> sa.Select:
    amount = sa.bindparam("amount", type_=sa.Integer)
    rc = sa.bindparam("rc", type_=sa.Integer)
    query = (sa.select(_ROOT.label("root"))
             .select_from(_INV.join(_RP, _RP.c.id == _INV.c.resource_provider_id))
             .where(_INV.c.resource_class_id == rc,
                    *_capacity_ok(amount, _used(_INV.c.resource_provider_id, rc))))
    if anchored:
        query = sa.union(query, sa.select(_ROOT.label("root"))
                         .select_from(_RPA.join(_RP, _RP.c.id == _RPA.c.resource_provider_id))
                         .where(_RPA.c.aggregate_id.in_(sa.bindparam("aggs", expanding=True))))
    sub = query.subquery()
    out = sa.select(sub.c.root).distinct()
    if in_tree:
        out = out.where(sub.c.root == sa.bindparam("tree_root"))
    for i in range(n_required):
        out = out.where(_root_has_trait(sub.c.root, f"req{i}"))
    for i in range(n_forbidden):
        out = out.where(~_root_has_trait(sub.c.root, f"forb{i}"))
    if paged:
        out = out.where(sub.c.root > sa.bindparam("after")).limit(sa.bindparam("size"))
    return out.order_by(sub.c.root)


def _root_has_trait(root: sa.ColumnElement, param: str) -> sa.Exists:
    return sa.exists().where(_RPT.c.resource_provider_id == root,
                             _RPT.c.trait_id == traits.c.id,
                             traits.c.name == sa.bindparam(param))


# ---------------------------------------------------------------------------------------
# GET /resource_providers filters.

def provider_filter_clauses(conn: sa.Connection, *, resources: dict[str, int],
                            required: list[frozenset[str]], forbidden: frozenset[str],
                            member_of: list[frozenset[str]],
                            forbidden_aggs: frozenset[str]) -> list[sa.ColumnElement] | None:
    """WHERE clauses on ``resource_providers``: each provider meets every filter alone.

    None when no provider can match. Raises NoSuchResourceClass / NoSuchTrait.
    """
    rc_ids = resolve_names(conn, resources, set(forbidden).union(*required))
    rp_id = _RP.c.id
    clauses: list[sa.ColumnElement] = [
        _has_any_trait(rp_id, any_of) for any_of in required]
    if forbidden:
        clauses.append(~_has_any_trait(rp_id, forbidden))
    agg_ids = aggregate_ids(conn, set(forbidden_aggs).union(*member_of))
    for any_of in member_of:
        ids = sorted(agg_ids[a] for a in any_of if a in agg_ids)
        if not ids:
            return None
        clauses.append(_in_any_aggregate(rp_id, ids))
    bad = sorted(agg_ids[a] for a in forbidden_aggs if a in agg_ids)
    if bad:
        clauses.append(~_in_any_aggregate(rp_id, bad))
    for name, amount in resources.items():
        rc = rc_ids[name]
        clauses.append(sa.exists().where(
            _INV.c.resource_provider_id == rp_id, _INV.c.resource_class_id == rc,
            *_capacity_ok(sa.literal(amount), _used(rp_id, rc))))
    return clauses


def _has_any_trait(rp_id: sa.ColumnElement, names: Iterable[str]) -> sa.Exists:
    return sa.exists().where(_RPT.c.resource_provider_id == rp_id,
                             _RPT.c.trait_id == traits.c.id, traits.c.name.in_(sorted(names)))


def _in_any_aggregate(rp_id: sa.ColumnElement, ids: list[int]) -> sa.Exists:
    return sa.exists().where(_RPA.c.resource_provider_id == rp_id,
                             _RPA.c.aggregate_id.in_(ids))


def matching_provider_ids(conn: sa.Connection, **filters) -> sa.Select:
    """A SELECT of the ids of providers that pass the GET /resource_providers filters."""
    clauses = provider_filter_clauses(conn, **filters)
    ids = sa.select(_RP.c.id)
    return ids.where(sa.false()) if clauses is None else ids.where(*clauses)
