"""The candidates search and the provider filters on SQLite, PostgreSQL and MySQL alike."""

from __future__ import annotations

from placement_seed import Seed

from stratus.common.db import make_engine, migration
from stratus.common.wsgi.microversion import Version
from stratus.conf.database import group_name
from stratus.placement import candidates, resource_classes, traits
from stratus.placement.request_groups import parse_candidate_request, parse_provider_filters

V = Version(1, 39)


def test_candidates_and_provider_filters_agree_on_every_backend(backend_conf):
    engine = make_engine(backend_conf[group_name("placement")].connection)
    try:
        migration.sync("placement", engine)
        with engine.begin() as conn:
            resource_classes.ensure_standard(conn)
            traits.ensure_standard(conn)
        seed = Seed(engine)
        seed.provider("cn", inventory={"DISK_GB": 100}, traits=("HW_CPU_X86_AVX2",),
                      aggs=("a",))
        seed.provider("numa", parent="cn",
                      inventory={"VCPU": {"total": 8, "step_size": 2}, "MEMORY_MB": 4096})
        seed.provider("nfs", inventory={"DISK_GB": 1000},
                      traits=("MISC_SHARES_VIA_AGGREGATE",), aggs=("a",))
        seed.provider("odd", inventory={"VCPU": {"total": 8, "step_size": 3},
                                        "MEMORY_MB": 4096, "DISK_GB": 100})
        seed.allocate("cn", "DISK_GB", 95)

        def count(query: str) -> int:
            request = parse_candidate_request(dict(p.split("=") for p in query.split("&")), V)
            with engine.connect() as conn:
                return len(candidates.find_candidates(conn, request, nested_aware=True)
                           .allocation_requests)

        # cn's own disk is nearly full, so only nfs serves it; odd's step_size refuses 2.
        assert count("resources=VCPU:2,MEMORY_MB:1024,DISK_GB:10") == 1
        assert count("resources=VCPU:2,MEMORY_MB:1024,DISK_GB:5&limit=1") == 1
        assert count("resources=VCPU:2,MEMORY_MB:1024,DISK_GB:5") == 2
        assert count("resources=DISK_GB:10&resources1=VCPU:2&group_policy=none"
                     "&root_required=HW_CPU_X86_AVX2") == 1
        filters = parse_provider_filters({"resources": "DISK_GB:10",
                                          "member_of": seed.aggs["a"]}, V)
        with engine.connect() as conn:
            ids = set(conn.execute(candidates.matching_provider_ids(conn, filters)).scalars())
        assert ids == {seed.ids["nfs"]}
    finally:
        engine.dispose()
