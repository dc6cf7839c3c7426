"""Helpers for tests that run an in-process all-in-one cloud on a real socket."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import requests

from stratus import conf as stratus_conf
from stratus.allinone import AllInOne, CloudEntry
from stratus.common.wsgi.server import Server

# Cheap password hashing: the tests exercise the logic, not Argon2's cost.
FAST_HASH = {"identity.password_hash_time_cost": 1, "identity.password_hash_memory_kib": 64}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cloud:
    """A running all-in-one: its URL, configuration, accounts and a login helper."""

    url: str
    conf: object
    aio: AllInOne
    admin: CloudEntry
    demo: CloudEntry
    server: Server

    @property
    def identity(self) -> str:
        return f"{self.url}/identity"

    def login(self, user: str, password: str, project: str | None = None) -> str:
        return issue_token(self.identity, user, password, project)

    def admin_token(self) -> str:
        return self.login(self.admin.username, self.admin.password, self.admin.project_name)

    def demo_token(self) -> str:
        return self.login(self.demo.username, self.demo.password, self.demo.project_name)


def auth_body(user: str, password: str, project: str | None) -> dict:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}}}}
    if project:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    return body


def issue_token(identity_url: str, user: str, password: str, project: str | None) -> str:
    resp = requests.post(f"{identity_url}/v3/auth/tokens", json=auth_body(user, password,
                                                                           project))
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


def start_cloud(state_dir, fake_hosts: int | None = None, **overrides) -> Cloud:
    """An all-in-one on a free port; with ``fake_hosts`` it also runs the conductor, the
    scheduler and that many fake compute agents (without, servers stay build requests)."""
    port = free_port()
    conf = stratus_conf.load(None, {"state_dir": str(state_dir), "api.port": port,
                                    **FAST_HASH, **overrides})
    aio = AllInOne(conf, fake_hosts=fake_hosts)
    created = aio.prepare()
    entries = created or aio._load_cloud_entries()
    # Sized as the all-in-one is: the compute API calls the image API on this same
    # server, so the pool grows when concurrent boots hold every worker.
    server = Server(aio.wsgi_app(), "127.0.0.1", port, threads=conf.api.threads,
                    max_threads=conf.api.max_threads)
    server.start()
    aio.start_services()
    return Cloud(f"http://127.0.0.1:{port}", conf, aio, entries[0], entries[1], server)


def stop_cloud(cloud: Cloud) -> None:
    cloud.aio.stop_services()
    cloud.server.stop()
    cloud.aio.databases.dispose()
    if getattr(cloud.aio, "compute", None) is not None:
        cloud.aio.compute.cells.dispose()
    if getattr(cloud, "neutron", None) is not None:  # a fake Neutron the test started
        cloud.neutron.stop()
