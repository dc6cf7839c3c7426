"""Options of the compute side's Neutron client (``[neutron]``, as in Nova).

The keystoneauth1 session, auth and adapter options: ``auth_type`` and the plugin's options
are the service account that sets admin-only port attributes (``binding:host_id``);
``endpoint_override``, ``valid_interfaces`` and ``region_name`` say where the network API
is when the service catalog should not decide. Calls made for a user carry the user's token.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg


def _client_opts() -> list[cfg.Opt]:
    adapter_opts = ks_loading.get_adapter_conf_options(include_deprecated=False)
    cfg.set_defaults(adapter_opts, service_type="network",
                     valid_interfaces=["internal", "public"])
    session_opts = ks_loading.get_session_conf_options()
    cfg.set_defaults(session_opts, timeout=60)
    return session_opts + ks_loading.get_auth_common_conf_options() + adapter_opts


GROUPS = [("neutron", _client_opts())]
SAMPLE_GROUPS = [("neutron", ks_loading.get_auth_plugin_conf_options("password"))]
