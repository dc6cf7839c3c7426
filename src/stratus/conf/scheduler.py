"""Options of the scheduler: how many candidates to ask Placement for, filters, weighers."""

from oslo_config import cfg

scheduler_opts = [
    cfg.IntOpt("max_placement_results", default=1000, min=1,
               help="Most allocation candidates the scheduler asks Placement for "
                    "(GET /allocation_candidates?limit=)."),
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="Hosts a build may try: the chosen one plus max_attempts - 1 "
                    "alternates in the same cell, used when a build fails on its host."),
    cfg.BoolOpt("query_placement_for_availability_zone", default=False,
                help="Ask Placement only for providers in the requested zone's aggregates "
                     "(member_of). Needs host aggregates mirrored into Placement "
                     "(stratus-manage placement sync_aggregates); the "
                     "AvailabilityZoneFilter checks the zone either way."),
]

filter_scheduler_opts = [
    cfg.ListOpt("enabled_filters",
                default=["ComputeFilter", "AvailabilityZoneFilter", "ImagePropertiesFilter",
                         "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter",
                         "AggregateInstanceExtraSpecsFilter"],
                help="Filters each candidate host must pass, by name, in order."),
    cfg.FloatOpt("ram_weight_multiplier", default=1.0,
                 help="Weight of free RAM; negative stacks instead of spreading."),
    cfg.FloatOpt("cpu_weight_multiplier", default=1.0,
                 help="Weight of free VCPU; negative stacks instead of spreading."),
    cfg.FloatOpt("disk_weight_multiplier", default=1.0,
                 help="Weight of free disk; negative stacks instead of spreading."),
    cfg.FloatOpt("soft_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="Pull toward hosts with members of a soft-affinity server group."),
    cfg.FloatOpt("soft_anti_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="Push away from hosts with members of a soft-anti-affinity group."),
    cfg.FloatOpt("build_failure_weight_multiplier", default=1000000.0,
                 help="Push away from hosts whose recent builds failed (per failure)."),
    cfg.IntOpt("host_subset_size", default=1, min=1,
               help="Pick the host at random among this many best-weighed ones, so "
                    "concurrent schedulers collide less."),
]

GROUPS = [("scheduler", scheduler_opts), ("filter_scheduler", filter_scheduler_opts)]
