"""Allocation candidates: which providers could satisfy a request, one provider tree at a time.

The search walks candidate trees in batches instead of building every answer first:
1. a few lookups resolve names (classes, traits, aggregates, ``in_tree``) to ids, and
   load the sharing providers (trait MISC_SHARES_VIA_AGGREGATE) with their trees;
2. one query lists candidate roots in order: trees with capacity for one requested class
   (or anchored to a sharing provider that has it), passing ``root_required`` (a tree
   lacking that class can never satisfy the request, so this only prunes);
3. for each batch of roots, four queries load the trees (providers, inventories with
   usage, traits, aggregates); Python then builds each group's requests per anchor tree
   and merges them, stopping as soon as ``limit`` candidates exist.

Semantics are Placement's: a suffixed group (and a resourceless one, 1.36) comes from
one provider; the unsuffixed group may spread over one tree plus sharing providers
anchored to it by an aggregate; ``group_policy=isolate`` keeps suffixed groups apart;
``same_subtree`` wants a common ancestor among the named groups' providers.

Two deliberate differences, both Placement 16.0.0 bugs (tests prove ours right):
- it de-duplicates a group's requests before merging ignoring which tree a sharing
  provider was anchored to, so with granular groups it loses every anchor but one of a
  request served wholly by a sharing provider. Here a group's requests stay per anchor
  tree; only the merged answers are de-duplicated;
- without ``group_policy=none`` it sums amounts in place into objects shared between
  candidates, inflating later ones. Here each merged answer sums fresh.

With ``randomize_allocation_candidates`` the trees are visited in random order and the
answers shuffled: a random sample, without building every answer first as Placement
does.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import os_traits
import sqlalchemy as sa

from stratus.placement import candidate_data as data
from stratus.placement.candidate_data import (  # noqa: F401 - the handlers catch these here
    Forest,
    NoSuchResourceClass,
    NoSuchTrait,
    Provider,
)
from stratus.placement.request_groups import CandidateRequest, ProviderFilters, RequestGroup

SHARING_TRAIT = os_traits.MISC_SHARES_VIA_AGGREGATE
_FIRST_BATCH = 16
_MAX_BATCH = 1000


# ---------------------------------------------------------------------------------------
# The request, resolved to ids.

@dataclass
class _Group:
    """A request group with names resolved: classes and aggregates by id, traits by name."""

    suffix: str
    resources: dict[int, int]           # class id -> amount
    required: list[frozenset[str]]
    forbidden: frozenset[str]
    member_of: list[frozenset[int]]
    forbidden_aggs: frozenset[int]
    tree_root: int | None               # root of in_tree, if given
    impossible: bool = False            # a filter no provider can meet

    @property
    def granular(self) -> bool:
        return bool(self.suffix)

    def wants_provider(self, p: Provider) -> bool:
        """The provider alone meets the group's traits and aggregates."""
        return (all(any_of & p.traits for any_of in self.required)
                and not (self.forbidden & p.traits)
                and all(any_of & p.aggregates for any_of in self.member_of)
                and not (self.forbidden_aggs & p.aggregates))

    def in_aggs(self, p: Provider) -> bool:
        return all(any_of & p.aggregates for any_of in self.member_of)


@dataclass(slots=True, eq=False)
class AllocationRequest:
    """One candidate: amounts by (provider, class) and the providers of each group."""

    amounts: dict[tuple[int, int], int]
    mappings: dict[str, frozenset[int]]

    def key(self) -> tuple:
        return (frozenset(self.amounts.items()),
                frozenset(self.mappings.items()))


@dataclass
class Candidates:
    """The answer: allocation requests and the providers their summaries describe."""

    allocation_requests: list[AllocationRequest]
    summaries: list[Provider]
    forest: Forest
    requested_classes: set[int]


def _empty() -> Candidates:
    return Candidates([], [], Forest(), set())


def _resolve_group(group: RequestGroup, rc_ids: dict[str, int], agg_ids: dict[str, int],
                   roots: dict[str, int]) -> _Group:
    member_of = [frozenset(agg_ids[a] for a in any_of if a in agg_ids)
                 for any_of in group.member_of]
    tree_root = roots.get(group.in_tree) if group.in_tree else None
    impossible = (any(not any_of for any_of in member_of)
                  or (group.in_tree is not None and tree_root is None))
    return _Group(group.suffix, {rc_ids[n]: a for n, a in group.resources.items()},
                  group.required, group.forbidden, member_of,
                  frozenset(agg_ids[a] for a in group.forbidden_aggs if a in agg_ids),
                  tree_root, impossible)


# ---------------------------------------------------------------------------------------
# The search.

class _Search:
    """One GET /allocation_candidates: the resolved request, loaded trees, answers so far."""

    def __init__(self, conn: sa.Connection, request: CandidateRequest, *,
                 nested_aware: bool, randomize: bool, max_candidates: int | None = None):
        self.conn = conn
        self.request = request
        # Generation stops at the request's limit or the operator's bound, the lower.
        self.limit = min((n for n in (request.limit, max_candidates) if n and n > 0),
                         default=None)
        self.nested_aware = nested_aware
        self.randomize = randomize
        rc_ids = data.resolve_names(conn, request.resource_class_names(),
                                    request.trait_names())
        agg_ids = data.aggregate_ids(conn, set().union(
            *(g.aggregate_uuids() for g in request.groups.values())))
        roots = data.tree_roots(conn, {g.in_tree for g in request.groups.values()
                                       if g.in_tree})
        self.groups = [_resolve_group(g, rc_ids, agg_ids, roots)
                       for g in request.groups.values()]
        self.num_granular = sum(1 for g in self.groups if g.granular)
        self.forest = Forest()
        self.sharing: list[Provider] = []
        self.sharing_by_agg: dict[int, list[Provider]] = {}
        self.exclude_nested = not nested_aware and data.has_trees(conn)

    def _load_sharing(self) -> None:
        sharing_roots = data.roots_having(self.conn, SHARING_TRAIT)
        if not sharing_roots:
            return
        self.forest.load(self.conn, sharing_roots, contiguous=False)
        self.sharing = [p for p in self.forest.providers.values() if SHARING_TRAIT in p.traits]
        for p in self.sharing:
            for agg in p.aggregates:
                self.sharing_by_agg.setdefault(agg, []).append(p)

    # -- candidate roots ---------------------------------------------------------------

    def _root_filter(self) -> data.RootFilter:
        """Prune by one class every candidate needs, preferring one no sharing provider has."""
        pick = None
        for g in self.groups:
            for rc, amount in g.resources.items():
                shared = any(rc in p.inventory for p in self.sharing)
                if pick is None or (not shared and pick[2]):
                    pick = (rc, amount, shared)
        rc, amount, shared = pick
        aggs = sorted({a for p in self.sharing if rc in p.inventory for a in p.aggregates})
        unsuffixed = next((g for g in self.groups if not g.granular), None)
        return data.RootFilter(
            rc, amount, tuple(aggs) if shared else (),
            unsuffixed.tree_root if unsuffixed is not None else None,
            tuple(sorted(self.request.root_required)),
            tuple(sorted(self.request.root_forbidden)))

    def _root_batches(self) -> Iterator[list[int]]:
        """Roots to visit, in batches: all at once without a limit, else growing pages."""
        roots_filter = self._root_filter()
        params = roots_filter.params()
        limit = self.limit
        if self.randomize or limit is None:
            roots = list(self.conn.execute(roots_filter.statement(paged=False),
                                           params).scalars())
            if self.randomize:
                random.shuffle(roots)
            start, size = 0, _MAX_BATCH if limit is None else max(_FIRST_BATCH, limit)
            while start < len(roots):
                yield roots[start:start + size]
                start, size = start + size, min(size * 4, _MAX_BATCH)
            return
        paged = roots_filter.statement(paged=True)
        size, after = max(_FIRST_BATCH, limit), -1
        while True:
            roots = list(self.conn.execute(paged, {**params, "after": after,
                                                   "size": size}).scalars())
            if roots:
                yield roots
            if len(roots) < size:
                return
            after, size = roots[-1], min(size * 4, _MAX_BATCH)

    # -- per anchor tree ---------------------------------------------------------------

    def _anchored_sharing(self, root: int) -> list[Provider]:
        found: dict[int, Provider] = {}
        for p in self.forest.trees.get(root, ()):
            for agg in p.aggregates:
                for sp in self.sharing_by_agg.get(agg, ()):
                    found[sp.id] = sp
        return list(found.values())

    def _single_provider_requests(self, g: _Group, tree: list[Provider],
                                  sharing: list[Provider]) -> list[AllocationRequest]:
        """A suffixed (or resourceless) group: each request is one provider."""
        if not g.resources and not (g.required or g.member_of):
            return []  # Placement matches no provider for a group with nothing to match
        out = []
        for p in itertools.chain(tree, (sp for sp in sharing if sp.root_id != tree[0].root_id)):
            if g.resources and g.tree_root is not None and p.root_id != g.tree_root:
                continue
            if not g.wants_provider(p):
                continue
            if all((inv := p.inventory.get(rc)) is not None and inv.fits(amount)
                   for rc, amount in g.resources.items()):
                out.append(AllocationRequest({(p.id, rc): a for rc, a in g.resources.items()},
                                             {g.suffix: frozenset([p.id])}))
        return out

    def _tree_requests(self, g: _Group, root: int, tree: list[Provider],
                       sharing: list[Provider]) -> list[AllocationRequest]:
        """The unsuffixed group: its classes may come from several providers of the tree."""
        root_p = self.forest.providers[root]
        per_class: list[list[Provider]] = []
        for rc in sorted(g.resources):
            amount = g.resources[rc]
            options = []
            if g.tree_root is None or g.tree_root == root:
                options = [p for p in tree if (inv := p.inventory.get(rc)) is not None
                           and inv.fits(amount)]
            if g.tree_root is None:
                options += [sp for sp in sharing if sp.root_id != root
                            and (inv := sp.inventory.get(rc)) is not None and inv.fits(amount)
                            and g.in_aggs(sp)]
            if g.member_of:
                options = [p for p in options if g.in_aggs(p) or g.in_aggs(root_p)]
            if g.forbidden_aggs:
                options = [p for p in options if not (g.forbidden_aggs & p.aggregates)
                           and not (g.forbidden_aggs & root_p.aggregates)]
            if not options:
                return []
            per_class.append(options)
        classes = sorted(g.resources)
        out, seen = [], set()
        for combo in itertools.product(*per_class):
            if g.forbidden and any(g.forbidden & p.traits for p in combo):
                continue
            if g.required:
                have = set().union(*(p.traits for p in combo))
                if not all(any_of & have for any_of in g.required):
                    continue
            amounts = {(p.id, rc): g.resources[rc] for p, rc in zip(combo, classes, strict=True)}
            areq = AllocationRequest(amounts, {g.suffix: frozenset(p.id for p in combo)})
            if (k := areq.key()) not in seen:
                seen.add(k)
                out.append(areq)
        return out

    def _answers_for_root(self, root: int) -> Iterator[AllocationRequest]:
        tree = self.forest.trees.get(root)
        if not tree:
            return
        tree = sorted(tree, key=lambda p: p.id)
        sharing = self._anchored_sharing(root) if self.sharing else []
        per_group = []
        for g in self.groups:
            if g.granular or not g.resources:
                reqs = self._single_provider_requests(g, tree, sharing)
            else:
                reqs = self._tree_requests(g, root, tree, sharing)
            if not reqs:
                return
            per_group.append(reqs)
        for combo in self._product(per_group):
            merged = self._merge(combo)
            if merged is not None:
                yield merged

    def _product(self, per_group: list[list[AllocationRequest]]):
        """Group requests combined, pruning early when group_policy=isolate clashes."""
        if self.request.group_policy != "isolate":
            yield from itertools.product(*per_group)
            return

        def walk(index: int, chosen: tuple, used: frozenset[int]):
            if index == len(per_group):
                yield chosen
                return
            for areq in per_group[index]:
                if self.groups[index].granular:
                    (providers,) = areq.mappings.values()
                    if providers & used:
                        continue
                    yield from walk(index + 1, chosen + (areq,), used | providers)
                else:
                    yield from walk(index + 1, chosen + (areq,), used)

        yield from walk(0, (), frozenset())

    def _merge(self, combo: tuple[AllocationRequest, ...]) -> AllocationRequest | None:
        mappings: dict[str, frozenset[int]] = {}
        for areq in combo:
            mappings.update(areq.mappings)
        for suffixes in self.request.same_subtrees:
            members = set().union(*(mappings.get(s, ()) for s in suffixes))
            if len(members) > 1:
                common = set.intersection(*(self.forest.ancestors(self.forest.providers[m])
                                            for m in members))
                if not common & members:
                    return None
        amounts: dict[tuple[int, int], int] = {}
        for areq in combo:
            for key, amount in areq.amounts.items():
                amounts[key] = amounts.get(key, 0) + amount
        for (pid, rc), amount in amounts.items():
            inv = self.forest.providers[pid].inventory[rc]
            if inv.used + amount > inv.capacity or amount > inv.max_unit:
                return None
        if self.exclude_nested:
            roots = [self.forest.providers[pid].root_id for pid in {p for p, _ in amounts}]
            if len(roots) != len(set(roots)):
                return None
        return AllocationRequest(amounts, mappings)

    # -- driver ------------------------------------------------------------------------

    def run(self) -> Candidates:
        if any(g.impossible for g in self.groups):
            return _empty()
        self._load_sharing()
        limit = self.limit
        answers: list[AllocationRequest] = []
        seen: set = set()
        for batch in self._root_batches():
            self.forest.load(self.conn, batch, contiguous=not self.randomize)
            for root in batch:
                for areq in self._answers_for_root(root):
                    if (k := areq.key()) in seen:
                        continue
                    seen.add(k)
                    answers.append(areq)
                    if limit is not None and len(answers) >= limit:
                        return self._finish(answers)
        return self._finish(answers)

    def _finish(self, answers: list[AllocationRequest]) -> Candidates:
        if self.randomize:
            random.shuffle(answers)
        roots = {self.forest.providers[pid].root_id for a in answers for pid, _ in a.amounts}
        summaries = [p for root in sorted(roots)
                     for p in sorted(self.forest.trees[root], key=lambda p: p.id)]
        if self.exclude_nested:
            # Before 1.29 summaries name only the providers the requests use.
            used = {pid for a in answers for pid, _ in a.amounts}
            summaries = [p for p in summaries if p.id in used]
        requested = set().union(*(g.resources for g in self.groups))
        return Candidates(answers, summaries, self.forest, requested)


def find_candidates(conn: sa.Connection, request: CandidateRequest, *, nested_aware: bool,
                    randomize: bool = False, max_candidates: int | None = None) -> Candidates:
    """Allocation candidates for ``request``; ``nested_aware`` is microversion >= 1.29.

    At most ``max_candidates`` (when positive) are generated, however many ``limit``
    allows. Raises NoSuchResourceClass / NoSuchTrait for names the database does not know.
    """
    return _Search(conn, request, nested_aware=nested_aware, randomize=randomize,
                   max_candidates=max_candidates).run()


# ---------------------------------------------------------------------------------------
# GET /resource_providers filters.

def matching_provider_ids(conn: sa.Connection, filters: ProviderFilters) -> sa.Select:
    """A SELECT of the ids of providers that pass the GET /resource_providers filters.

    ``resources``, ``required`` and ``member_of`` as Placement applies them to the list:
    each provider must meet every filter on its own. Raises NoSuchResourceClass /
    NoSuchTrait for unknown names.
    """
    return data.matching_provider_ids(
        conn, resources=filters.resources, required=filters.required,
        forbidden=filters.forbidden, member_of=filters.member_of,
        forbidden_aggs=filters.forbidden_aggs)
