"""Identity data: domains, projects, users, roles, role assignments and revocations.

Every function takes a SQLAlchemy connection inside the caller's transaction and
returns plain dicts; duplicate names raise Conflict, missing rows raise NotFound.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from stratus.common.wsgi.errors import Conflict, NotFound
from stratus.identity import schema as s

DEFAULT_DOMAIN_ID = "default"


def new_id() -> str:
    return uuid.uuid4().hex


def fetch_one(conn: sa.Connection, query, kind: str, ident: str) -> dict:
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"Could not find {kind}: {ident}.")
    return dict(row)


def _insert(conn: sa.Connection, table: sa.Table, values: dict, kind: str, desc: str) -> dict:
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**values))
    except sa.exc.IntegrityError:
        raise Conflict(f"Conflict occurred attempting to store {kind} - "
                       f"Duplicate entry found with {desc}.") from None
    return values


def _update(conn: sa.Connection, table: sa.Table, row_id: str, changes: dict, kind: str,
            desc: str) -> None:
    if not changes:
        return
    try:
        with conn.begin_nested():
            conn.execute(table.update().where(table.c.id == row_id).values(**changes))
    except sa.exc.IntegrityError:
        raise Conflict(f"Conflict occurred attempting to store {kind} - "
                       f"Duplicate entry found with {desc}.") from None


def _filtered(table: sa.Table, filters: dict) -> sa.Select:
    query = sa.select(table)
    for column, value in filters.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    return query.order_by(table.c.name)


# --- domains ---------------------------------------------------------------------------

def get_domain(conn: sa.Connection, domain_id: str) -> dict:
    return fetch_one(conn, sa.select(s.domain).where(s.domain.c.id == domain_id), "domain",
                domain_id)


def find_domain(conn: sa.Connection, *, domain_id: str | None = None,
                name: str | None = None) -> dict:
    if domain_id is not None:
        return get_domain(conn, domain_id)
    return fetch_one(conn, sa.select(s.domain).where(s.domain.c.name == name), "domain", name)


def list_domains(conn: sa.Connection, **filters) -> list[dict]:
    return [dict(r) for r in conn.execute(_filtered(s.domain, filters)).mappings()]


def ensure_default_domain(conn: sa.Connection) -> None:
    exists = conn.execute(sa.select(s.domain.c.id).where(
        s.domain.c.id == DEFAULT_DOMAIN_ID)).first()
    if not exists:
        conn.execute(s.domain.insert().values(
            id=DEFAULT_DOMAIN_ID, name="Default", enabled=True,
            description="The default domain"))


# --- projects --------------------------------------------------------------------------

def create_project(conn: sa.Connection, *, name: str, domain_id: str = DEFAULT_DOMAIN_ID,
                   description: str = "", enabled: bool = True) -> dict:
    get_domain(conn, domain_id)
    values = dict(id=new_id(), name=name, domain_id=domain_id, description=description,
                  enabled=enabled)
    return _insert(conn, s.project, values, "project",
                   f"name {name} at domain ID {domain_id}")


def get_project(conn: sa.Connection, project_id: str) -> dict:
    return fetch_one(conn, sa.select(s.project).where(s.project.c.id == project_id), "project",
                project_id)


def find_project(conn: sa.Connection, name: str, domain_id: str) -> dict:
    return fetch_one(conn, sa.select(s.project).where(
        s.project.c.name == name, s.project.c.domain_id == domain_id), "project", name)


def list_projects(conn: sa.Connection, **filters) -> list[dict]:
    return [dict(r) for r in conn.execute(_filtered(s.project, filters)).mappings()]


def update_project(conn: sa.Connection, project_id: str, changes: dict) -> dict:
    project = get_project(conn, project_id)
    _update(conn, s.project, project_id, changes, "project",
            f"name {changes.get('name')} at domain ID {project['domain_id']}")
    return get_project(conn, project_id)


def delete_project(conn: sa.Connection, project_id: str) -> None:
    get_project(conn, project_id)
    conn.execute(s.role_assignment.delete().where(s.role_assignment.c.project_id == project_id))
    conn.execute(s.project.delete().where(s.project.c.id == project_id))


# --- users -----------------------------------------------------------------------------

def create_user(conn: sa.Connection, *, name: str, password_hash: str | None,
                domain_id: str = DEFAULT_DOMAIN_ID, enabled: bool = True,
                default_project_id: str | None = None, email: str | None = None,
                description: str | None = None) -> dict:
    get_domain(conn, domain_id)
    values = dict(id=new_id(), name=name, domain_id=domain_id, enabled=enabled,
                  password_hash=password_hash, default_project_id=default_project_id,
                  email=email, description=description, created_at=_now(),
                  tokens_valid_after=None)
    return _insert(conn, s.user, values, "user", f"name {name} at domain ID {domain_id}")


def get_user(conn: sa.Connection, user_id: str) -> dict:
    return fetch_one(conn, sa.select(s.user).where(s.user.c.id == user_id), "user", user_id)


def find_user(conn: sa.Connection, name: str, domain_id: str) -> dict:
    return fetch_one(conn, sa.select(s.user).where(s.user.c.name == name,
                                              s.user.c.domain_id == domain_id), "user", name)


def list_users(conn: sa.Connection, **filters) -> list[dict]:
    return [dict(r) for r in conn.execute(_filtered(s.user, filters)).mappings()]


def update_user(conn: sa.Connection, user_id: str, changes: dict) -> dict:
    user = get_user(conn, user_id)
    changes = dict(changes)
    if changes.get("enabled") is False or "password_hash" in changes:
        # Disabling a user or changing the password invalidates every token issued so far.
        changes["tokens_valid_after"] = _now()
    _update(conn, s.user, user_id, changes, "user",
            f"name {changes.get('name')} at domain ID {user['domain_id']}")
    return get_user(conn, user_id)


def delete_user(conn: sa.Connection, user_id: str) -> None:
    get_user(conn, user_id)
    conn.execute(s.role_assignment.delete().where(s.role_assignment.c.user_id == user_id))
    conn.execute(s.user.delete().where(s.user.c.id == user_id))


# --- roles -----------------------------------------------------------------------------

def create_role(conn: sa.Connection, name: str, description: str | None = None) -> dict:
    values = dict(id=new_id(), name=name, description=description)
    return _insert(conn, s.role, values, "role", f"name {name}")


def get_role(conn: sa.Connection, role_id: str) -> dict:
    return fetch_one(conn, sa.select(s.role).where(s.role.c.id == role_id), "role", role_id)


def find_role(conn: sa.Connection, name: str) -> dict:
    return fetch_one(conn, sa.select(s.role).where(s.role.c.name == name), "role", name)


def list_roles(conn: sa.Connection, **filters) -> list[dict]:
    return [dict(r) for r in conn.execute(_filtered(s.role, filters)).mappings()]


def update_role(conn: sa.Connection, role_id: str, changes: dict) -> dict:
    get_role(conn, role_id)
    _update(conn, s.role, role_id, changes, "role", f"name {changes.get('name')}")
    return get_role(conn, role_id)


def delete_role(conn: sa.Connection, role_id: str) -> None:
    get_role(conn, role_id)
    conn.execute(s.role_assignment.delete().where(s.role_assignment.c.role_id == role_id))
    conn.execute(s.implied_role.delete().where(sa.or_(
        s.implied_role.c.prior_role_id == role_id, s.implied_role.c.implied_role_id == role_id)))
    conn.execute(s.role.delete().where(s.role.c.id == role_id))


def ensure_role(conn: sa.Connection, name: str) -> dict:
    row = conn.execute(sa.select(s.role).where(s.role.c.name == name)).mappings().first()
    return dict(row) if row else create_role(conn, name)


def ensure_implied_role(conn: sa.Connection, prior_id: str, implied_id: str) -> None:
    exists = conn.execute(sa.select(s.implied_role.c.prior_role_id).where(
        s.implied_role.c.prior_role_id == prior_id,
        s.implied_role.c.implied_role_id == implied_id)).first()
    if not exists:
        conn.execute(s.implied_role.insert().values(prior_role_id=prior_id,
                                                    implied_role_id=implied_id))


# --- role assignments ------------------------------------------------------------------

def grant(conn: sa.Connection, user_id: str, project_id: str, role_id: str) -> None:
    get_user(conn, user_id)
    get_project(conn, project_id)
    get_role(conn, role_id)
    if not has_grant(conn, user_id, project_id, role_id):
        conn.execute(s.role_assignment.insert().values(user_id=user_id, project_id=project_id,
                                                       role_id=role_id))


def has_grant(conn: sa.Connection, user_id: str, project_id: str, role_id: str) -> bool:
    return conn.execute(sa.select(s.role_assignment.c.role_id).where(
        s.role_assignment.c.user_id == user_id, s.role_assignment.c.project_id == project_id,
        s.role_assignment.c.role_id == role_id)).first() is not None


def revoke_grant(conn: sa.Connection, user_id: str, project_id: str, role_id: str) -> None:
    result = conn.execute(s.role_assignment.delete().where(
        s.role_assignment.c.user_id == user_id, s.role_assignment.c.project_id == project_id,
        s.role_assignment.c.role_id == role_id))
    if result.rowcount == 0:
        raise NotFound(f"Could not find role assignment with role: {role_id}, user or group: "
                       f"{user_id}, project, domain, or system: {project_id}.")


def list_grants(conn: sa.Connection, user_id: str, project_id: str) -> list[dict]:
    query = (sa.select(s.role).join(s.role_assignment, s.role_assignment.c.role_id == s.role.c.id)
             .where(s.role_assignment.c.user_id == user_id,
                    s.role_assignment.c.project_id == project_id).order_by(s.role.c.name))
    return [dict(r) for r in conn.execute(query).mappings()]


def list_assignments(conn: sa.Connection, *, user_id: str | None = None,
                     project_id: str | None = None, role_id: str | None = None) -> list[dict]:
    """Direct assignments joined with names, filtered by any of user, project, role."""
    ra, u, p, r = s.role_assignment, s.user, s.project, s.role
    ud, pd = s.domain.alias("user_domain"), s.domain.alias("project_domain")
    query = (sa.select(ra.c.user_id, ra.c.project_id, ra.c.role_id, u.c.name.label("user_name"),
                       u.c.domain_id.label("user_domain_id"), ud.c.name.label("user_domain_name"),
                       p.c.name.label("project_name"), p.c.domain_id.label("project_domain_id"),
                       pd.c.name.label("project_domain_name"), r.c.name.label("role_name"))
             .join(u, u.c.id == ra.c.user_id).join(p, p.c.id == ra.c.project_id)
             .join(r, r.c.id == ra.c.role_id).join(ud, ud.c.id == u.c.domain_id)
             .join(pd, pd.c.id == p.c.domain_id)
             .order_by(u.c.name, p.c.name, r.c.name))
    for column, value in ((ra.c.user_id, user_id), (ra.c.project_id, project_id),
                          (ra.c.role_id, role_id)):
        if value is not None:
            query = query.where(column == value)
    return [dict(row) for row in conn.execute(query).mappings()]


def implication_closure(conn: sa.Connection, role_ids: set[str]) -> set[str]:
    """``role_ids`` plus every role they imply, transitively (admin ⊇ member ⊇ reader)."""
    edges: dict[str, list[str]] = {}
    for prior, implied in conn.execute(sa.select(s.implied_role.c.prior_role_id,
                                                 s.implied_role.c.implied_role_id)):
        edges.setdefault(prior, []).append(implied)
    result, stack = set(role_ids), list(role_ids)
    while stack:
        for implied in edges.get(stack.pop(), ()):
            if implied not in result:
                result.add(implied)
                stack.append(implied)
    return result


def effective_roles(conn: sa.Connection, user_id: str, project_id: str) -> list[dict]:
    """The roles a user holds on a project, implied roles included, sorted by name."""
    direct = {row.role_id for row in conn.execute(sa.select(s.role_assignment.c.role_id).where(
        s.role_assignment.c.user_id == user_id, s.role_assignment.c.project_id == project_id))}
    if not direct:
        return []
    ids = implication_closure(conn, direct)
    query = sa.select(s.role.c.id, s.role.c.name).where(s.role.c.id.in_(ids)).order_by(
        s.role.c.name)
    return [dict(r) for r in conn.execute(query).mappings()]


def projects_for_user(conn: sa.Connection, user_id: str) -> list[dict]:
    query = (sa.select(s.project).where(s.project.c.id.in_(
        sa.select(s.role_assignment.c.project_id).where(s.role_assignment.c.user_id == user_id)))
        .order_by(s.project.c.name))
    return [dict(r) for r in conn.execute(query).mappings()]


# --- revocations -----------------------------------------------------------------------

def revoke_token(conn: sa.Connection, audit_id: str, expires_at: dt.datetime) -> None:
    if not is_revoked(conn, audit_id):
        conn.execute(s.revoked_token.insert().values(audit_id=audit_id, expires_at=expires_at))
    conn.execute(s.revoked_token.delete().where(s.revoked_token.c.expires_at < _now()))


def is_revoked(conn: sa.Connection, audit_id: str) -> bool:
    return conn.execute(sa.select(s.revoked_token.c.audit_id).where(
        s.revoked_token.c.audit_id == audit_id)).first() is not None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
