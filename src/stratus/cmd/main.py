"""stratus: run Stratus services. ``stratus all-in-one`` runs the whole cloud in one process.

Exit status: 0 after a clean shutdown, 1 when the service could not start.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from oslo_log import log as oslo_log

from stratus import conf as stratus_conf


def _serve(conf, app, started: float, banner: str) -> int:
    from stratus.common.wsgi.server import Server

    server = Server(app, conf.api.host, conf.api.port, threads=conf.api.threads)
    try:
        server.start()
    except OSError as exc:
        print(f"stratus: cannot listen on {conf.api.host}:{conf.api.port}: {exc}",
              file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"{banner}\n(ready in {time.monotonic() - started:.2f}s; Ctrl-C stops)", flush=True)
    stop.wait()
    server.stop()
    return 0


def _all_in_one(conf, args, started: float) -> int:
    from stratus.allinone import AllInOne

    cloud = AllInOne(conf)
    cloud.prepare()
    app = cloud.wsgi_app()
    return _serve(conf, app, started, cloud.usage())


def _identity(conf, args, started: float) -> int:
    """The identity API alone (its databases must be synced and bootstrapped)."""
    from stratus.common.db import Databases
    from stratus.common.policy import Policy
    from stratus.common.wsgi.dispatch import PrefixDispatcher
    from stratus.identity import app as identity_app

    engine = Databases(conf).engine("identity")
    identity = identity_app.make_service(conf, engine, Policy(conf))
    app = PrefixDispatcher({"/identity": identity_app.make_app(conf, identity)})
    return _serve(conf, app, started, f"identity API at http://{conf.api.host}:"
                                      f"{conf.api.port}/identity")


COMMANDS = {"all-in-one": _all_in_one, "identity": _identity}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratus", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, func in COMMANDS.items():
        sub = commands.add_parser(name, help=func.__doc__ or "the whole cloud in one process")
        stratus_conf.add_common_arguments(sub)
        sub.add_argument("--host", help="address to bind (default [api] host, 127.0.0.1)")
        sub.add_argument("--port", type=int, help="port to bind (default [api] port, 8080)")
        sub.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = build_parser().parse_args(argv)
    overrides = {}
    if args.host:
        overrides["api.host"] = args.host
    if args.port:
        overrides["api.port"] = args.port
    conf = stratus_conf.load(args, overrides)
    conf.set_default("default_log_levels",
                     oslo_log.get_default_log_levels() + ["alembic=WARN", "stevedore=WARN"])
    oslo_log.setup(conf, "stratus")
    return args.func(conf, args, started)


if __name__ == "__main__":
    sys.exit(main())
