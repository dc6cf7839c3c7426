#!/usr/bin/env python3
"""Differential check: random small provider worlds, the same queries to both placements.

Builds each world through the API of OpenStack Placement 16.0.0 and of Stratus (trees,
sharing providers, traits, aggregates, usage), asks both the same random
GET /allocation_candidates queries and compares the answers (sorted allocation requests
with mappings, and provider summaries). A query where Stratus returns a strict superset
and OpenStack's answer is missing only candidates anchored through a sharing provider is
counted as OpenStack's known de-duplication bug, not as a mismatch; so is an answer with
the same providers where OpenStack's amounts exceed what was asked (see
``inflated_amounts``).

    python bench/placement_candidates_diff.py --worlds 10 --queries 30 --seed 1
Exits 1 on any unexplained difference, printing the world and the query.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import uuid

from placement_vs_openstack import CACHE, Client, Service, canonical, ensure_openstack

CLASSES = ["VCPU", "MEMORY_MB", "DISK_GB", "SRIOV_NET_VF"]
TRAITS = ["HW_CPU_X86_AVX2", "HW_CPU_X86_SSE42", "CUSTOM_GOLD", "CUSTOM_SILVER"]


def world(rng: random.Random) -> list[dict]:
    """Provider specs: name, parent, inventory, traits, aggregates, used."""
    aggs = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(3)]
    specs = []
    for t in range(rng.randint(1, 4)):
        root = f"cn{t}"
        specs.append(_spec(rng, root, None, aggs))
        for c in range(rng.randint(0, 3)):
            parent = rng.choice([s["name"] for s in specs if s["name"].startswith(root)])
            specs.append(_spec(rng, f"{root}c{c}", parent, aggs))
    for s in range(rng.randint(0, 2)):
        spec = _spec(rng, f"ss{s}", None, aggs)
        spec["traits"] = sorted(set(spec["traits"]) | {"MISC_SHARES_VIA_AGGREGATE"})
        spec["aggregates"] = rng.sample(aggs, rng.randint(1, 2))
        specs.append(spec)
    return specs


def _spec(rng: random.Random, name: str, parent: str | None, aggs: list[str]) -> dict:
    inv = {}
    for rc in rng.sample(CLASSES, rng.randint(0, 3)):
        total = rng.choice([4, 8, 16])
        inv[rc] = {"total": total, "reserved": rng.choice([0, 0, 1]),
                   "max_unit": rng.choice([total, total // 2]),
                   "step_size": rng.choice([1, 1, 2]),
                   "allocation_ratio": rng.choice([1.0, 2.0])}
    used = {rc: rng.choice([0, 0, 2]) for rc in inv}
    return {"name": name, "parent": parent, "inventory": inv,
            "traits": rng.sample(TRAITS, rng.randint(0, 2)),
            "aggregates": rng.sample(aggs, rng.randint(0, 1)), "used": used}


def build(c: Client, specs: list[dict]) -> dict[str, str]:
    uuids: dict[str, str] = {}
    c.call("PUT", "/traits/CUSTOM_GOLD", ok=(201, 204))
    c.call("PUT", "/traits/CUSTOM_SILVER", ok=(201, 204))
    for s in specs:
        u = str(uuid.uuid5(uuid.NAMESPACE_DNS, "diff-" + s["name"]))
        body = {"name": s["name"], "uuid": u}
        if s["parent"]:
            body["parent_provider_uuid"] = uuids[s["parent"]]
        gen = c.call("POST", "/resource_providers", body, ok=(200,))["generation"]
        if s["inventory"]:
            gen = c.call("PUT", f"/resource_providers/{u}/inventories",
                         {"resource_provider_generation": gen,
                          "inventories": s["inventory"]})["resource_provider_generation"]
        if s["traits"]:
            gen = c.call("PUT", f"/resource_providers/{u}/traits",
                         {"resource_provider_generation": gen,
                          "traits": s["traits"]})["resource_provider_generation"]
        if s["aggregates"]:
            c.call("PUT", f"/resource_providers/{u}/aggregates",
                   {"resource_provider_generation": gen, "aggregates": s["aggregates"]})
        uuids[s["name"]] = u
    for s in specs:
        used = {rc: n for rc, n in s["used"].items() if n}
        if used:
            c.call("PUT", f"/allocations/{uuid.uuid5(uuid.NAMESPACE_DNS, 'c-' + s['name'])}",
                   {"allocations": {uuids[s["name"]]: {"resources": used}},
                    "project_id": str(uuid.UUID(int=1)), "user_id": str(uuid.UUID(int=2)),
                    "consumer_generation": None, "consumer_type": "INSTANCE"})
    return uuids


def query(rng: random.Random, specs: list[dict], uuids: dict[str, str]) -> str:
    aggs = sorted({a for s in specs for a in s["aggregates"]}) or [str(uuid.UUID(int=7))]
    parts = []
    groups = [""] + [str(i) for i in range(1, rng.randint(1, 3))]
    if rng.random() < 0.3:
        groups = groups[1:]
    for g in groups:
        rcs = rng.sample(CLASSES, rng.randint(1, 2))
        parts.append(f"resources{g}=" + ",".join(f"{rc}:{rng.choice([1, 2, 4])}"
                                                 for rc in rcs))
        if rng.random() < 0.3:
            t = rng.choice(TRAITS)
            parts.append(f"required{g}={'!' if rng.random() < 0.4 else ''}{t}")
        if rng.random() < 0.2:
            parts.append(f"member_of{g}={'!' if rng.random() < 0.3 else ''}{rng.choice(aggs)}")
        if rng.random() < 0.1:
            parts.append(f"in_tree{g}={uuids[rng.choice(specs)['name']]}")
    if len([g for g in groups if g]) > 1:
        parts.append("group_policy=" + rng.choice(["none", "isolate"]))
    return "&".join(parts)


def answer(c: Client, path: str) -> tuple:
    """The comparable answer: canonical candidates, or just "400" for a refusal."""
    body = c.call("GET", path, ok=(200, 400))
    if "errors" in body:
        return ("400",)
    return canonical(body)


def inflated_amounts(query_: str, o: tuple, s: tuple) -> bool:
    """OpenStack's other known bug: amounts summed into shared objects, so they grow.

    Without group_policy=none, Placement 16.0.0 merges groups by adding amounts in place
    into request objects shared between candidates, so a class asked for by two groups
    can come back with more than was asked. True when both answers name the same
    providers and mappings, every Stratus candidate totals exactly what was asked, and
    OpenStack's do not.
    """
    if "400" in (o[0], s[0]) or len(o[0]) != len(s[0]):
        return False
    asked: dict[str, int] = {}
    for part in query_.split("&"):
        key, _, value = part.partition("=")
        if key.startswith("resources"):
            for item in value.split(","):
                rc, amount = item.split(":")
                asked[rc] = asked.get(rc, 0) + int(amount)

    def shape(req: str) -> tuple:
        body = json.loads(req)
        return (sorted(body["a"]), body["m"])

    def totals(req: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for alloc in json.loads(req)["a"].values():
            for rc, n in alloc["resources"].items():
                out[rc] = out.get(rc, 0) + n
        return out

    return (sorted(map(shape, o[0])) == sorted(map(shape, s[0]))
            and all(totals(r) == asked for r in s[0])
            and any(totals(r) != asked for r in o[0]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worlds", type=int, default=10)
    p.add_argument("--queries", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    ensure_openstack()
    rng = random.Random(a.seed)
    same = bug = bad = nonempty = mutated = 0
    for w in range(a.worlds):
        specs = world(rng)
        services, clients = [], []
        for impl in ("openstack", "stratus"):
            workdir = CACHE / "diff" / impl
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            svc = Service(impl, f"sqlite:///{workdir}/placement.db", workdir, 4)
            svc.start()
            services.append(svc)
            clients.append(Client(svc.url))
        try:
            uuids = [build(c, specs) for c in clients][0]
            for _ in range(a.queries):
                q = query(rng, specs, uuids)
                path = f"/allocation_candidates?{q}"
                o, s = (answer(c, path) for c in clients)
                if o == s:
                    same += 1
                    nonempty += o[0] != "400" and bool(o[0])
                elif (o[0] != "400" and s[0] != "400" and set(o[0]) < set(s[0])
                      and any(n["name"].startswith("ss") for n in specs)):
                    bug += 1
                elif inflated_amounts(q, o, s):
                    mutated += 1
                else:
                    bad += 1
                    print(f"MISMATCH world {w} query {q}\n specs={specs}\n"
                          f" openstack={o[0]}\n stratus={s[0]}", flush=True)
        finally:
            for svc in services:
                svc.stop()
        print(f"world {w}: identical {same} ({nonempty} with candidates), "
              f"OpenStack dedup bug {bug}, OpenStack inflated amounts {mutated}, "
              f"mismatch {bad}",
              flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
