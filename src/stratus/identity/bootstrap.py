"""Bootstrap an identity database: default domain, roles, admin, region, identity endpoint.

Like ``keystone-manage bootstrap``: safe to run again; it fills in what is missing and
resets the admin password to the one given.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common.wsgi.errors import NotFound
from stratus.identity import catalog, store
from stratus.identity.passwords import Passwords
from stratus.identity.tokens import KeyRepository

# Each role implies the next: admin ⊇ member ⊇ reader.
ROLE_CHAIN = ("admin", "member", "reader")


@dataclass(frozen=True)
class Account:
    user_id: str
    user_name: str
    project_id: str
    project_name: str


def ensure_roles(conn: sa.Connection) -> dict[str, dict]:
    roles = {name: store.ensure_role(conn, name) for name in ROLE_CHAIN}
    for prior, implied in zip(ROLE_CHAIN, ROLE_CHAIN[1:], strict=False):
        store.ensure_implied_role(conn, roles[prior]["id"], roles[implied]["id"])
    return roles


def ensure_account(conn: sa.Connection, passwords: Passwords, *, user_name: str,
                   password: str, project_name: str, role: str) -> Account:
    """A user with ``role`` on a project, both created if missing; password (re)set."""
    domain_id = store.DEFAULT_DOMAIN_ID
    try:
        project = store.find_project(conn, project_name, domain_id)
    except NotFound:
        project = store.create_project(conn, name=project_name, domain_id=domain_id,
                                       description=f"Bootstrap project {project_name}")
    try:
        user = store.find_user(conn, user_name, domain_id)
        if not passwords.verify(user["password_hash"], password):
            store.update_user(conn, user["id"], {"password_hash": passwords.hash(password)})
    except NotFound:
        user = store.create_user(conn, name=user_name, password_hash=passwords.hash(password),
                                 domain_id=domain_id, default_project_id=project["id"])
    role_id = store.find_role(conn, role)["id"]
    store.grant(conn, user["id"], project["id"], role_id)
    return Account(user["id"], user["name"], project["id"], project["name"])


def bootstrap(conf: cfg.ConfigOpts, engine: sa.Engine, *, admin_password: str,
              admin_user: str = "admin", admin_project: str = "admin",
              public_url: str | None = None) -> Account:
    KeyRepository(conf.identity.key_repository).ensure()
    identity_url = public_url or f"{public_base_url(conf)}/identity"
    with engine.begin() as conn:
        store.ensure_default_domain(conn)
        ensure_roles(conn)
        account = ensure_account(conn, Passwords(conf), user_name=admin_user,
                                 password=admin_password, project_name=admin_project,
                                 role="admin")
        catalog.ensure_service_endpoints(conn, type="identity", name="keystone",
                                         url=identity_url, region_id=conf.identity.region)
    return account


def public_base_url(conf: cfg.ConfigOpts) -> str:
    if conf.api.public_url:
        return conf.api.public_url.rstrip("/")
    return f"http://{conf.api.host}:{conf.api.port}"
