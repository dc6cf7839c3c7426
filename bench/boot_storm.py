"""Boot storm: an all-in-one on SQLite with 200 fake hosts boots 1,000 servers.

The servers are asked for through the Compute API in requests of min_count=10, sent as
fast as the API accepts them (several at once); the clock stops when every server is
ACTIVE or ERROR. Prints servers/s, p50/p95 time-to-ACTIVE (from the request that asked
for the server to the first poll that saw it ACTIVE, so it includes up to one poll
interval) and the all-in-one's peak RSS, then Nova's rate for the same workload as
*recorded* in issue 5 (not measured by this run) and the ratio.

    .venv/bin/python bench/boot_storm.py [--hosts 200] [--servers 1000] [--per-request 10]

Nova's side by side: /work/shared/tools/nova_boot_storm_test.py with the recipe in
/work/shared/peers/README.md (optional; its recorded result is printed here).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
import yaml

BIN = os.path.dirname(sys.executable)
NOVA_RECORDED_SERVERS_PER_S = 2.8  # issue 5: Nova 34.0.0, 1,000 servers in 361.6 s
GOAL_RATIO = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(state_dir: str, port: int, hosts: int) -> subprocess.Popen:
    log = open(os.path.join(state_dir, "all-in-one.log"), "w")  # noqa: SIM115 (lives on)
    proc = subprocess.Popen([f"{BIN}/stratus", "all-in-one", "--state-dir", state_dir,
                             "--port", str(port), "--fake-hosts", str(hosts)],
                            stdout=log, stderr=subprocess.STDOUT)
    began = time.monotonic()
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/identity/healthcheck",
                            timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            pass
        if time.monotonic() - began > 120 or proc.poll() is not None:
            raise SystemExit(f"all-in-one did not start; see {log.name}")
        time.sleep(0.05)


class PeakRSS:
    """Samples a process's RSS every 0.2 s in a thread; ``peak`` in MB."""

    def __init__(self, pid: int):
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                with open(f"/proc/{self.pid}/status") as fh:
                    line = next(row for row in fh if row.startswith("VmRSS:"))
                self.peak = max(self.peak, int(line.split()[1]) / 1024)
            except (OSError, StopIteration):
                return

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def token(state_dir: str) -> tuple[str, str]:
    cloud = yaml.safe_load(open(os.path.join(state_dir, "clouds.yaml")))["clouds"]["stratus"]
    auth = cloud["auth"]
    resp = requests.post(f"{auth['auth_url']}/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": auth["username"], "domain": {"name": "Default"},
            "password": auth["password"]}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"name": "Default"}}}}})
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"], resp.json()["token"]["project"]["id"]


def wait_for_hosts(session: requests.Session, base: str, hosts: int) -> None:
    deadline = time.monotonic() + 600
    while True:
        found = session.get(f"{base}/compute/v2.1/os-hypervisors").json()["hypervisors"]
        if len(found) >= hosts:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(found)} of {hosts} hosts came up")
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--per-request", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8,
                        help="requests in flight at once (default 8)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the state directory (databases, all-in-one.log)")
    args = parser.parse_args()

    state_dir = tempfile.mkdtemp(prefix="stratus-boot-storm-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"starting the all-in-one with {args.hosts} fake hosts ({state_dir})", flush=True)
    proc = start(state_dir, port, args.hosts)
    rss = PeakRSS(proc.pid)
    try:
        auth_token, project = token(state_dir)
        session = requests.Session()
        session.headers.update({"X-Auth-Token": auth_token,
                                "OpenStack-API-Version": "compute 2.38"})
        compute = f"{base}/compute/v2.1"
        wait_for_hosts(session, base, args.hosts)
        session.put(f"{compute}/os-quota-sets/{project}", json={"quota_set": {
            "instances": -1, "cores": -1, "ram": -1}}).raise_for_status()
        flavor = session.post(f"{compute}/flavors", json={"flavor": {
            "name": "storm", "ram": 256, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
        image = session.get(f"{base}/image/v2/images",
                            params={"name": "stratus-tiny"}).json()["images"][0]["id"]
        asked_at: dict[str, float] = {}

        def one_request(index: int) -> None:
            sent = time.monotonic()
            resp = session.post(f"{compute}/servers", json={"server": {
                "name": f"storm-{index}", "imageRef": image, "flavorRef": flavor,
                "networks": "none", "min_count": args.per_request,
                "max_count": args.per_request, "return_reservation_id": True}})
            resp.raise_for_status()
            asked_at[resp.json()["reservation_id"]] = sent

        requests_needed = args.servers // args.per_request
        print(f"booting {requests_needed * args.per_request} servers in "
              f"{requests_needed} requests", flush=True)
        began = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(one_request, range(requests_needed)))
        accepted = time.monotonic() - began
        active_at: dict[str, float] = {}
        statuses: dict[str, str] = {}
        while len(statuses) < requests_needed * args.per_request or \
                any(s not in ("ACTIVE", "ERROR") for s in statuses.values()):
            now = time.monotonic()
            listed = session.get(f"{compute}/servers/detail",
                                 params={"limit": 1000}).json()["servers"]
            for server in listed:
                statuses[server["id"]] = server["status"]
                reservation = server.get("OS-EXT-SRV-ATTR:reservation_id")
                if server["status"] == "ACTIVE" and server["id"] not in active_at:
                    active_at[server["id"]] = now - asked_at.get(reservation, began)
            if now - began > 3600:
                print("gave up after an hour", file=sys.stderr)
                break
            time.sleep(0.25)
        elapsed = time.monotonic() - began
    finally:
        peak = rss.stop()
        proc.terminate()
        proc.wait(timeout=60)
        if not args.keep:
            shutil.rmtree(state_dir, ignore_errors=True)

    active = len(active_at)
    errors = sum(1 for s in statuses.values() if s == "ERROR")
    rate = active / elapsed if elapsed else 0.0
    times = sorted(active_at.values())
    p50 = statistics.median(times) if times else float("nan")
    p95 = times[int(0.95 * (len(times) - 1))] if times else float("nan")
    print(f"\nStratus all-in-one (SQLite, fake:// RPC, {args.hosts} fake hosts), measured now:")
    print(f"  {active} ACTIVE, {errors} ERROR in {elapsed:.1f} s "
          f"(API accepted all requests in {accepted:.1f} s)")
    print(f"  rate                {rate:8.1f} servers/s")
    print(f"  time to ACTIVE      p50 {p50:.2f} s   p95 {p95:.2f} s")
    print(f"  peak RSS            {peak:8.0f} MB")
    print("\nNova 34.0.0, same workload, RECORDED in issue 5 (not measured in this run):")
    print(f"  rate                {NOVA_RECORDED_SERVERS_PER_S:8.1f} servers/s (361.6 s)")
    ratio = rate / NOVA_RECORDED_SERVERS_PER_S
    print(f"\nratio Stratus / Nova(recorded): {ratio:.1f}x  (goal >= {GOAL_RATIO:.0f}x: "
          f"{'met' if ratio >= GOAL_RATIO else 'NOT met'})")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
