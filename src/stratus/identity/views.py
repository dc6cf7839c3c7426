"""Response bodies of the identity API, in Keystone v3's shapes."""

from __future__ import annotations

from stratus.identity.service import Token
from stratus.identity.tokens import isotime


def _links(base: str, path: str) -> dict:
    return {"self": f"{base}/v3/{path}"}


def collection(base: str, path: str, name: str, items: list[dict]) -> dict:
    return {name: items, "links": {"self": f"{base}/v3/{path}", "previous": None, "next": None}}


def domain(base: str, row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "description": row["description"] or "",
            "enabled": bool(row["enabled"]), "tags": [], "options": {},
            "links": _links(base, f"domains/{row['id']}")}


def project(base: str, row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
            "description": row["description"] or "", "enabled": bool(row["enabled"]),
            "parent_id": row["domain_id"], "is_domain": False, "tags": [], "options": {},
            "links": _links(base, f"projects/{row['id']}")}


def user(base: str, row: dict) -> dict:
    body = {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
            "enabled": bool(row["enabled"]), "password_expires_at": None, "options": {},
            "links": _links(base, f"users/{row['id']}")}
    for optional in ("default_project_id", "email", "description"):
        if row.get(optional) is not None:
            body[optional] = row[optional]
    return body


def role(base: str, row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "domain_id": None,
            "description": row.get("description"), "options": {},
            "links": _links(base, f"roles/{row['id']}")}


def service(base: str, row: dict) -> dict:
    return {"id": row["id"], "type": row["type"], "name": row["name"],
            "description": row["description"], "enabled": bool(row["enabled"]),
            "links": _links(base, f"services/{row['id']}")}


def endpoint(base: str, row: dict) -> dict:
    return {"id": row["id"], "service_id": row["service_id"], "interface": row["interface"],
            "region": row["region_id"], "region_id": row["region_id"], "url": row["url"],
            "enabled": bool(row["enabled"]), "links": _links(base, f"endpoints/{row['id']}")}


def region(base: str, row: dict) -> dict:
    return {"id": row["id"], "description": row["description"] or "",
            "parent_region_id": None, "links": _links(base, f"regions/{row['id']}")}


def role_assignment(base: str, row: dict, include_names: bool) -> dict:
    body = {"role": {"id": row["role_id"]}, "user": {"id": row["user_id"]},
            "scope": {"project": {"id": row["project_id"]}},
            "links": {"assignment": f"{base}/v3/projects/{row['project_id']}/users/"
                                    f"{row['user_id']}/roles/{row['role_id']}"}}
    if include_names:
        body["role"]["name"] = row["role_name"]
        body["user"].update(name=row["user_name"], domain={"id": row["user_domain_id"],
                                                           "name": row["user_domain_name"]})
        body["scope"]["project"].update(name=row["project_name"],
                                        domain={"id": row["project_domain_id"],
                                                "name": row["project_domain_name"]})
    return body


def token(tok: Token, catalog: list[dict] | None) -> dict:
    body = {
        "methods": list(tok.payload.methods),
        "user": {"id": tok.user["id"], "name": tok.user["name"],
                 "domain": {"id": tok.user_domain["id"], "name": tok.user_domain["name"]},
                 "password_expires_at": None},
        "audit_ids": [tok.payload.audit_id],
        "expires_at": isotime(tok.payload.expires_at),
        "issued_at": isotime(tok.payload.issued_at),
    }
    if tok.project is not None:
        body["project"] = {"id": tok.project["id"], "name": tok.project["name"],
                           "domain": {"id": tok.project_domain["id"],
                                      "name": tok.project_domain["name"]}}
        body["is_domain"] = False
        body["roles"] = [{"id": r["id"], "name": r["name"]} for r in tok.roles]
        if catalog is not None:
            body["catalog"] = catalog
    return {"token": body}
