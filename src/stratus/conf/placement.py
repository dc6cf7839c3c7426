"""Options of the placement service."""

from oslo_config import cfg

placement_opts = [
    cfg.StrOpt("auth_strategy", default=None,
               choices=[("stratus", "validate tokens with the Stratus identity service"),
                        ("keystone", "validate tokens with a real Keystone"),
                        ("noauth2", "trust X-Auth-Token/X-Roles headers, as OpenStack "
                                    "Placement's noauth2 (test harnesses only)")],
               help="How placement requests are authenticated. Unset: [api] auth_strategy."),
]

GROUPS = [("placement", placement_opts)]

placement_opts.append(cfg.BoolOpt(
    "randomize_allocation_candidates", default=False,
    help="Return a random sample of the allocation candidates when a limit applies "
         "(trees are visited in random order); otherwise a fixed order, by root provider."))

placement_opts.append(cfg.IntOpt(
    "max_allocation_candidates", default=-1, min=-1,
    help="Upper bound on the allocation candidates one GET /allocation_candidates "
         "generates, whatever its limit asks (a request's limit still applies below it): "
         "bounds the time and memory of requests against wide trees, where the "
         "combinations multiply. -1 (or 0): no bound beyond the request's limit."))
