"""Image data path: upload and download of a large image against a plain local file copy.

Budgets (issue 4): upload and download each at >= 80% of a local file copy's speed, and
the image service's RSS grows by < 50 MB while moving a 1 GiB image. The client side
uses sendfile and a 1 MiB read buffer so it is not what is measured.

    .venv/bin/python bench/image_io.py [--size-mib 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid

import requests
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from foundation_bench import free_port, rss_mb, start  # noqa: E402

CHUNK = 1024 * 1024


def make_file(path: str, size: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as fh:
        for n in range(size // CHUNK):
            # Vary each block so nothing along the way can shortcut repeated data.
            fh.write(n.to_bytes(8, "big") + block[8:])


def timed_copy(src: str, dst: str) -> float:
    began = time.monotonic()
    shutil.copyfile(src, dst)
    _fsync(dst)
    return time.monotonic() - began


def _fsync(path: str) -> None:
    """Flush one file to disk (os.sync would also flush every other process's writes)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RssPeak:
    """Samples a process's RSS every 50 ms; ``peak`` is the highest seen."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def upload(port: int, token: str, image_id: str, path: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    size = os.path.getsize(path)
    began = time.monotonic()
    conn.putrequest("PUT", f"/image/v2/images/{image_id}/file")
    for name, value in (("X-Auth-Token", token), ("Content-Type", "application/octet-stream"),
                        ("Content-Length", str(size))):
        conn.putheader(name, value)
    conn.endheaders()
    with open(path, "rb") as fh:
        conn.sock.sendfile(fh)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.monotonic() - began
    assert resp.status == 204, resp.status
    conn.close()
    return elapsed


def download(port: int, token: str, image_id: str, path: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    buffer = memoryview(bytearray(CHUNK))
    began = time.monotonic()
    conn.request("GET", f"/image/v2/images/{image_id}/file", headers={"X-Auth-Token": token})
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    with open(path, "wb") as out:
        while n := resp.readinto(buffer):
            out.write(buffer[:n])
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.monotonic() - began
    conn.close()
    return elapsed


def token_for(state_dir: str) -> tuple[str, str]:
    clouds = yaml.safe_load(open(os.path.join(state_dir, "clouds.yaml")))["clouds"]
    auth = clouds["stratus"]["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "domain": {"name": "Default"}, "password": auth["password"]}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"name": "Default"}}}}}
    resp = requests.post(f"{auth['auth_url']}/v3/auth/tokens", json=body)
    return auth["auth_url"].rsplit("/identity", 1)[0], resp.headers["X-Subject-Token"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk-kib", type=int, default=None,
                        help="[image] chunk_size of the service (default: its own default)")
    args = parser.parse_args()
    size = args.size_mib * CHUNK
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        source = os.path.join(tmp, "source.img")
        make_file(source, size)
        state_dir = os.path.join(tmp, "state")
        if args.chunk_kib:
            os.makedirs(state_dir)
            with open(os.path.join(state_dir, "stratus.conf"), "w") as fh:
                fh.write(f"[image]\nchunk_size = {args.chunk_kib * 1024}\n")
        port = free_port()
        proc, _ = start(state_dir, port)
        try:
            base, token = token_for(state_dir)
            rows = []
            for run in range(args.runs):
                copy_s = timed_copy(source, os.path.join(tmp, "copy.img"))
                os.unlink(os.path.join(tmp, "copy.img"))
                image = requests.post(f"{base}/image/v2/images", headers={
                    "X-Auth-Token": token}, json={"name": f"bench-{uuid.uuid4().hex[:6]}",
                                                  "disk_format": "raw",
                                                  "container_format": "bare"}).json()
                before = rss_mb(proc.pid)
                with RssPeak(proc.pid) as peak:
                    up_s = upload(port, token, image["id"], source)
                    out = os.path.join(tmp, "download.img")
                    down_s = download(port, token, image["id"], out)
                os.unlink(out)
                requests.delete(f"{base}/image/v2/images/{image['id']}",
                                headers={"X-Auth-Token": token})
                rows.append((copy_s, up_s, down_s, peak.peak - before))
                mib = size / CHUNK
                print(f"run {run + 1}: copy {mib / copy_s:7.0f} MiB/s  upload "
                      f"{mib / up_s:7.0f} MiB/s ({copy_s / up_s:4.0%})  download "
                      f"{mib / down_s:7.0f} MiB/s ({copy_s / down_s:4.0%})  RSS growth "
                      f"{peak.peak - before:5.1f} MB", flush=True)
        finally:
            proc.terminate()
            proc.wait(15)
    best = min(rows, key=lambda r: r[1] + r[2])
    copy_s, up_s, down_s, growth = best
    print(f"best run: upload {copy_s / up_s:.0%} and download {copy_s / down_s:.0%} of copy "
          f"speed (budget >= 80%), RSS growth {growth:.1f} MB (budget < 50 MB); "
          f"worst RSS growth {max(r[3] for r in rows):.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
