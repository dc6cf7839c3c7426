"""N fake compute agents in one process: start-up, one heartbeat round, one usage report,
idle CPU and RSS. The boot storm runs 200 fake hosts inside the all-in-one, so these are
the fixed costs it pays.

    .venv/bin/python bench/compute_agents.py [--hosts 200] [--idle 10]

Placement runs in-process on a real socket (noauth2), databases are SQLite in a temporary
directory, RPC is fake://.
"""

from __future__ import annotations

import argparse
import resource
import socket
import tempfile
import time

from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint

from stratus import conf as stratus_conf
from stratus.cells import setup
from stratus.common.db import Databases, migration
from stratus.common.policy import Policy
from stratus.common.rpc import RPC
from stratus.common.wsgi.dispatch import PrefixDispatcher
from stratus.common.wsgi.server import Server
from stratus.compute.agents import ComputeAgents
from stratus.placement import app as placement_app
from stratus.scheduler.report import PlacementClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds to measure idle CPU over")
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="stratus-agents-bench-")
    conf = stratus_conf.load(None, {"state_dir": state, "transport_url": "fake://"})
    conf.set_override("auth_strategy", "noauth2", group="placement")
    databases = Databases(conf)
    migration.sync("placement", databases.engine("placement"))
    cell = databases.engine("cell1")
    migration.sync(setup.CELL_TREE, cell)
    port = free_port()
    app = PrefixDispatcher({"/placement": placement_app.make_app(conf, placement_app.make_service(
        conf, databases.engine("placement"), Policy(conf)))})
    server = Server(app, "127.0.0.1", port, threads=8)
    server.start()
    url = f"http://127.0.0.1:{port}/placement"
    placement = PlacementClient(ksa_session.Session(auth=token_endpoint.Token(url, "admin")),
                                endpoint=url)
    rpc = RPC(conf)
    agents = ComputeAgents(conf, rpc, cell, placement=placement)
    try:
        began = time.monotonic()
        agents.start([f"bench-{n}" for n in range(1, args.hosts + 1)])
        started = time.monotonic() - began
        began = time.monotonic()
        agents.heartbeat()
        beat = time.monotonic() - began
        began = time.monotonic()
        agents.report_usage(force=True)
        report = time.monotonic() - began
        cpu_before = cpu_seconds()
        time.sleep(args.idle)
        idle_cpu = (cpu_seconds() - cpu_before) / args.idle
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{args.hosts} fake compute agents")
        print(f"  start (service, node, provider, RPC server each): {started:.2f} s "
              f"({started / args.hosts * 1000:.1f} ms/host)")
        print(f"  one heartbeat round (one UPDATE):                  {beat * 1000:.1f} ms")
        print(f"  one full usage report (one batched UPDATE):        {report * 1000:.1f} ms")
        print(f"  idle CPU (heartbeats every {conf.report_interval} s, RPC idle):"
              f"   {idle_cpu * 100:.1f}% of one core")
        print(f"  peak RSS:                                          {rss_mb:.0f} MB")
    finally:
        agents.stop()
        rpc.cleanup()
        server.stop()
        databases.dispose()


if __name__ == "__main__":
    main()
