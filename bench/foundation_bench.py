"""Foundation quality bar: all-in-one start-up time after the first run, and its RSS.

Budgets (issue "Start here"): start-up to serving under 3 s after the first run; an idle
all-in-one under 150 MB RSS. Prints each measurement beside its budget as a ratio.

    .venv/bin/python bench/foundation_bench.py [--logins 64]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests
import yaml

BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(state_dir: str, port: int) -> tuple[subprocess.Popen, float]:
    began = time.monotonic()
    proc = subprocess.Popen([f"{BIN}/stratus", "all-in-one", "--state-dir", state_dir,
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/identity/healthcheck"
    while True:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return proc, time.monotonic() - began
        except requests.ConnectionError:
            if time.monotonic() - began > 60 or proc.poll() is not None:
                raise SystemExit("all-in-one did not start") from None
            time.sleep(0.02)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        line = next(row for row in fh if row.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def login_storm(state_dir: str, logins: int) -> None:
    auth = yaml.safe_load(open(os.path.join(state_dir, "clouds.yaml")))["clouds"]["stratus"]
    auth = auth["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "domain": {"name": "Default"},
        "password": auth["password"]}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}

    def one(_):
        resp = requests.post(f"{auth['auth_url']}/v3/auth/tokens", json=body)
        token = resp.headers["X-Subject-Token"]
        for _ in range(5):
            requests.get(f"{auth['auth_url']}/v3/users", headers={"X-Auth-Token": token})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(logins)))


def report(name: str, value: float, budget: float, unit: str) -> None:
    verdict = "ok" if value <= budget else "OVER BUDGET"
    print(f"{name:<34} {value:8.2f} {unit:<3} budget {budget:6.1f} {unit:<3} "
          f"ratio {value / budget:5.2f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state_dir:
        port = free_port()
        proc, first = start(state_dir, port)
        proc.terminate()
        proc.wait()
        proc, again = start(state_dir, port)
        try:
            time.sleep(1)
            idle = rss_mb(proc.pid)
            login_storm(state_dir, args.logins)
            time.sleep(1)
            loaded = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
    print(f"first start (sync + bootstrap): {first:.2f} s")
    report("start-up after the first run", again, 3.0, "s")
    report("idle RSS", idle, 150.0, "MB")
    report(f"RSS after {args.logins} logins x 5 calls", loaded, 150.0, "MB")


if __name__ == "__main__":
    main()
