"""Options for processes: state directory, the HTTP front door, RPC and authentication."""

from oslo_config import cfg

default_opts = [
    cfg.StrOpt("state_dir", default=None,
               help="Directory that holds an all-in-one's databases, keys and generated "
                    "client files. Also settable with --state-dir or STRATUS_STATE_DIR. "
                    "Default: ./stratus-data"),
    cfg.StrOpt("transport_url", default="fake://", secret=True,
               help="oslo.messaging transport. fake:// keeps RPC inside one process "
                    "(the all-in-one); rabbit://user:pass@host:5672/ scales out."),
    cfg.IntOpt("rpc_response_timeout", default=60, min=1,
               help="Seconds an RPC call waits for its reply before failing."),
    cfg.BoolOpt("all_in_one_rpc_services", default=True,
                help="Whether `stratus all-in-one` runs the conductor, the scheduler and "
                     "its fake compute agents in its own process. False (also "
                     "`stratus all-in-one --api-only`): it serves the HTTP APIs only and "
                     "hands servers over transport_url, which must then be a real broker, "
                     "to `stratus conductor`, `stratus scheduler` and `stratus compute` "
                     "processes."),
]

api_opts = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address the HTTP server binds."),
    cfg.PortOpt("port", default=8080, help="Port the HTTP server binds."),
    cfg.StrOpt("public_url", default=None,
               help="Base URL clients use to reach this server; endpoints in the service "
                    "catalog are built from it. Default: http://<host>:<port>"),
    cfg.IntOpt("threads", default=16, min=1, help="HTTP worker threads started at once."),
    cfg.IntOpt("max_threads", default=256, min=1,
               help="Most HTTP worker threads: more start whenever a request arrives and "
                    "none is idle. The all-in-one's compute API calls the image, placement "
                    "and identity APIs on the same server, so a fixed pool would let "
                    "concurrent boots starve their own nested requests."),
    cfg.StrOpt("auth_strategy", default="stratus",
               choices=[("stratus", "validate tokens with the Stratus identity service"),
                        ("keystone", "validate tokens with a real Keystone "
                                     "(keystonemiddleware, [keystone_authtoken])"),
                        ("noauth2", "trust X-Auth-Token/X-Roles headers (test harnesses only)")],
               help="How API requests are authenticated."),
    cfg.StrOpt("identity_url", default=None,
               help="Identity endpoint that validates tokens when the identity service "
                    "runs in another process, e.g. http://controller:8080/identity. "
                    "Unset: validate in-process."),
]

GROUPS = [(None, default_opts), ("api", api_opts)]
