"""Options of the placement service, and of the compute side's Placement client.

Both live in ``[placement]``, as in OpenStack: ``auth_strategy`` and
``randomize_allocation_candidates`` are the server's; the keystoneauth1 session, auth and
adapter options (``auth_type``, ``auth_url``, ``username``, ``endpoint_override``,
``valid_interfaces``...) are the client's (``stratus.scheduler.report``).
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

placement_opts = [
    cfg.StrOpt("auth_strategy", default=None,
               choices=[("stratus", "validate tokens with the Stratus identity service"),
                        ("keystone", "validate tokens with a real Keystone"),
                        ("noauth2", "trust X-Auth-Token/X-Roles headers, as OpenStack "
                                    "Placement's noauth2 (test harnesses only)")],
               help="How placement requests are authenticated. Unset: [api] auth_strategy."),
    cfg.BoolOpt(
        "randomize_allocation_candidates", default=False,
        help="Return a random sample of the allocation candidates when a limit applies "
             "(trees are visited in random order); otherwise a fixed order, by root "
             "provider."),
]


def _client_opts() -> list[cfg.Opt]:
    adapter_opts = ks_loading.get_adapter_conf_options(include_deprecated=False)
    cfg.set_defaults(adapter_opts, service_type="placement",
                     valid_interfaces=["internal", "public"])
    return (ks_loading.get_session_conf_options() + ks_loading.get_auth_common_conf_options()
            + adapter_opts)


# An auth plugin's own options (auth_url, username, ...) are registered when the plugin
# named by auth_type is loaded; the password plugin's are listed for the sample file only.
GROUPS = [("placement", placement_opts + _client_opts())]
SAMPLE_GROUPS = [("placement", ks_loading.get_auth_plugin_conf_options("password"))]
