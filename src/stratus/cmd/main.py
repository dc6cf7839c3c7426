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


def _serve(conf, app, started: float, banner: str, on_listening=None) -> int:
    from stratus.common.wsgi.server import Server

    server = Server(app, conf.api.host, conf.api.port, threads=conf.api.threads,
                    max_threads=conf.api.max_threads)
    # Before listening: a client may see us up and stop us at once; that is a clean stop.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:
        print(f"stratus: cannot listen on {conf.api.host}:{conf.api.port}: {exc}",
              file=sys.stderr)
        return 1
    if on_listening is not None:
        on_listening()
    print(f"{banner}\n(ready in {time.monotonic() - started:.2f}s; Ctrl-C stops)", flush=True)
    stop.wait()
    server.stop()
    return 0


def _all_in_one(conf, args, started: float) -> int:
    from stratus.allinone import AllInOne
    from stratus.common.policy import Policy

    Policy(conf)  # a broken policy file stops us before any database is touched
    fake_hosts = args.fake_hosts
    if not conf.all_in_one_rpc_services:
        if fake_hosts:
            print("stratus: --fake-hosts runs agents in this process, which --api-only "
                  "leaves to `stratus compute --fake-hosts N`", file=sys.stderr)
            return 1
        if conf.transport_url.startswith("fake://"):
            print("stratus: --api-only needs a transport_url that other processes share "
                  "(e.g. rabbit://...); fake:// stays inside this process", file=sys.stderr)
            return 1
    elif fake_hosts is None:
        fake_hosts = 1
    cloud = AllInOne(conf, fake_hosts=fake_hosts)
    cloud.prepare()
    app = cloud.wsgi_app()
    try:
        return _serve(conf, app, started, cloud.usage(), on_listening=cloud.start_services)
    finally:
        cloud.stop_services()


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


def _placement(conf, args, started: float) -> int:
    """The placement API alone (syncs its database first)."""
    from stratus.common.db import Databases, migration
    from stratus.common.policy import Policy
    from stratus.placement import app as placement_app

    engine = Databases(conf).engine("placement")
    if not migration.at_head("placement", engine):
        migration.sync("placement", engine)
    placement = placement_app.make_service(conf, engine, Policy(conf))
    # Served at the root, as OpenStack's placement-api is.
    app = placement_app.make_app(conf, placement)
    return _serve(conf, app, started, f"placement API at http://{conf.api.host}:"
                                      f"{conf.api.port}/")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _serve_rpc(conf, rpc, name: str, topic: str, manager, cells, started: float) -> int:
    """Serve ``manager`` on RPC ``topic`` until SIGINT/SIGTERM, then let go of RPC and cells."""
    try:
        rpc.server(topic, [manager]).start()
        print(f"{name} serving RPC topic '{topic}' on {conf.transport_url.split('@')[-1]}"
              f"\n(ready in {time.monotonic() - started:.2f}s; Ctrl-C stops)", flush=True)
        _wait_for_signal()
    finally:
        rpc.cleanup()
        cells.dispose()
    return 0


def _scheduler(conf, args, started: float) -> int:
    """The scheduler alone: serves RPC topic 'scheduler' (Placement via [placement])."""
    from stratus.cells.mappings import CellDatabases
    from stratus.common.db import Databases
    from stratus.common.rpc import RPC
    from stratus.scheduler.manager import TOPIC, SchedulerManager
    from stratus.scheduler.report import PlacementClient, PlacementError

    try:
        placement = PlacementClient.from_conf(conf)
    except PlacementError as exc:
        print(f"stratus: cannot start the scheduler: {exc}", file=sys.stderr)
        return 1
    api_engine = Databases(conf).engine("api")
    cells = CellDatabases.from_conf(conf, api_engine)
    try:
        manager = SchedulerManager(conf, placement, api_engine, cells)
    except ValueError as exc:  # e.g. an unknown filter name
        print(f"stratus: cannot start the scheduler: {exc}", file=sys.stderr)
        return 1
    return _serve_rpc(conf, RPC(conf), "scheduler", TOPIC, manager, cells, started)


def _conductor(conf, args, started: float) -> int:
    """The super conductor and the [cell1_database] cell's conductor: serves RPC topics
    'conductor' and 'cell_conductor' (API and cell databases; Placement via [placement])."""
    from stratus.cells import setup as cells_setup
    from stratus.cells.mappings import CellDatabases
    from stratus.common.db import Databases, migration
    from stratus.common.rpc import RPC
    from stratus.compute.agents import own_cell
    from stratus.compute.instance_store import InstanceStore
    from stratus.compute.service_records import ServiceStore
    from stratus.compute_api.compute_rpc import ComputeRPC
    from stratus.conductor import cell_conductor
    from stratus.conductor.manager import TOPIC, ConductorManager
    from stratus.scheduler.report import PlacementClient, PlacementError
    from stratus.scheduler.rpcapi import ERRORS_MODULE, SchedulerClient

    try:
        placement = PlacementClient.from_conf(conf)
    except PlacementError as exc:
        print(f"stratus: cannot start the conductor: {exc}", file=sys.stderr)
        return 1
    databases = Databases(conf)
    cell_engine = databases.engine("cell1")
    if not migration.at_head(cells_setup.CELL_TREE, cell_engine):
        print(f"stratus: cannot start the conductor: {cells_setup.CELL_NOT_SYNCED}",
              file=sys.stderr)
        return 1
    api_engine = databases.engine("api")
    cells = CellDatabases.from_conf(conf, api_engine)
    rpc = RPC(conf, allowed_remote_exmods=[ERRORS_MODULE])  # NoValidHost arrives as itself
    manager = ConductorManager(cells, SchedulerClient(rpc), ComputeRPC(rpc), placement)
    cell_id = own_cell(api_engine, databases.url("cell1"))
    rpc.server(cell_conductor.TOPIC, [cell_conductor.CellConductor(
        InstanceStore(cell_engine), ServiceStore(cell_engine, api_engine, cell_id))]).start()
    return _serve_rpc(conf, rpc, "conductor", TOPIC, manager, cells, started)


def _compute(conf, args, started: float) -> int:
    """A compute agent ([DEFAULT] host, compute_driver), or N fake ones (--fake-hosts N)."""
    from stratus.compute import agents as compute_agents

    try:
        running = compute_agents.start_from_conf(conf, fake_hosts=args.fake_hosts)
    except compute_agents.AgentStartError as exc:
        print(f"stratus: compute agent cannot start: {exc}", file=sys.stderr)
        return 1
    hosts = ", ".join(running.agents)
    if running.placement is None:
        print("stratus: warning: [placement] has no credentials (auth_type): these hosts are "
              "not reported to Placement and no server will be scheduled on them",
              file=sys.stderr)
    print(f"compute agent(s) {hosts} serving RPC topic compute\n"
          f"(ready in {time.monotonic() - started:.2f}s; Ctrl-C stops)", flush=True)
    try:
        _wait_for_signal()
    finally:
        running.stop()
        running.rpc.cleanup()
    return 0


COMMANDS = {"all-in-one": _all_in_one, "identity": _identity, "placement": _placement,
            "conductor": _conductor, "scheduler": _scheduler, "compute": _compute}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratus", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, func in COMMANDS.items():
        sub = commands.add_parser(name, help=func.__doc__ or "the whole cloud in one process")
        stratus_conf.add_common_arguments(sub)
        if name == "compute":
            sub.add_argument("--fake-hosts", type=int, metavar="N", default=None,
                             help="run N agents with the fake driver, named <host>-1 .. "
                                  "<host>-N, in this process")
            sub.set_defaults(func=func)
            continue
        sub.add_argument("--host", help="address to bind (default [api] host, 127.0.0.1)")
        sub.add_argument("--port", type=int, help="port to bind (default [api] port, 8080)")
        if name == "all-in-one":
            sub.add_argument("--cells", type=int, metavar="N",
                             help="map and sync N cells besides cell0 (default [cells] "
                                  "all_in_one_cells, 1)")
            sub.add_argument("--fake-hosts", type=int, metavar="N", default=None,
                             help="run the conductor, the scheduler and N compute agents "
                                  "with the fake virt driver in this process (default 1)")
            sub.add_argument("--api-only", action="store_true", default=None,
                             help="serve the HTTP APIs only; `stratus conductor`, `stratus "
                                  "scheduler` and `stratus compute` run as separate "
                                  "processes on transport_url (default: [DEFAULT] "
                                  "all_in_one_rpc_services = true, run them here)")
        sub.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = build_parser().parse_args(argv)
    overrides = {}
    if getattr(args, "host", None):
        overrides["api.host"] = args.host
    if getattr(args, "port", None):
        overrides["api.port"] = args.port
    if getattr(args, "cells", None):
        overrides["cells.all_in_one_cells"] = args.cells
    if getattr(args, "api_only", None):
        overrides["all_in_one_rpc_services"] = False
    conf = stratus_conf.load(args, overrides)
    conf.set_default("default_log_levels",
                     oslo_log.get_default_log_levels() + ["alembic=WARN", "stevedore=WARN"])
    oslo_log.setup(conf, "stratus")
    from stratus.common.policy import PolicyFileError

    try:
        return args.func(conf, args, started)
    except PolicyFileError as exc:
        print(f"stratus: cannot start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
