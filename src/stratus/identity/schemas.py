"""JSON Schemas of identity request bodies, compiled once at import."""

from stratus.common.wsgi.body import Schema

_name = {"type": "string", "minLength": 1, "maxLength": 255}
_id = {"type": "string", "minLength": 1, "maxLength": 64}
_domain_ref = {"type": "object", "properties": {"id": _id, "name": _name},
               "anyOf": [{"required": ["id"]}, {"required": ["name"]}]}
_password = {"type": "string", "maxLength": 4096}

auth = Schema({
    "type": "object", "required": ["auth"],
    "properties": {"auth": {
        "type": "object", "required": ["identity"],
        "properties": {
            "identity": {
                "type": "object", "required": ["methods"],
                "properties": {
                    "methods": {"type": "array", "minItems": 1,
                                "items": {"type": "string", "enum": ["password", "token"]}},
                    "password": {"type": "object", "required": ["user"], "properties": {
                        "user": {"type": "object", "required": ["password"],
                                 "properties": {"id": _id, "name": _name,
                                                "password": {"type": "string"},
                                                "domain": _domain_ref},
                                 "anyOf": [{"required": ["id"]}, {"required": ["name"]}]}}},
                    "token": {"type": "object", "required": ["id"],
                              "properties": {"id": {"type": "string"}}},
                },
            },
            "scope": {"anyOf": [
                {"type": "string", "enum": ["unscoped"]},
                {"type": "object", "properties": {
                    "project": {"type": "object", "properties": {
                        "id": _id, "name": _name, "domain": _domain_ref},
                        "anyOf": [{"required": ["id"]}, {"required": ["name", "domain"]}]},
                    "domain": _domain_ref,
                    "system": {"type": "object"}}}]},
        },
    }},
})

_project_props = {"name": {"type": "string", "minLength": 1, "maxLength": 64},
                  "description": {"type": ["string", "null"]},
                  "enabled": {"type": "boolean"}, "domain_id": _id,
                  "parent_id": {"type": ["string", "null"]},
                  "is_domain": {"type": "boolean", "enum": [False]},
                  "tags": {"type": "array", "maxItems": 0},
                  "options": {"type": "object"}}

project_create = Schema({"type": "object", "required": ["project"], "properties": {
    "project": {"type": "object", "required": ["name"], "properties": _project_props}}})
project_update = Schema({"type": "object", "required": ["project"], "properties": {
    "project": {"type": "object", "minProperties": 1, "properties": _project_props}}})

_user_props = {"name": _name, "password": {"type": ["string", "null"]},
               "enabled": {"type": "boolean"}, "domain_id": _id,
               "default_project_id": {"type": ["string", "null"]},
               "email": {"type": ["string", "null"]},
               "description": {"type": ["string", "null"]},
               "options": {"type": "object"}}
user_create = Schema({"type": "object", "required": ["user"], "properties": {
    "user": {"type": "object", "required": ["name"], "properties": _user_props}}})
user_update = Schema({"type": "object", "required": ["user"], "properties": {
    "user": {"type": "object", "minProperties": 1, "properties": _user_props}}})
password_change = Schema({"type": "object", "required": ["user"], "properties": {
    "user": {"type": "object", "required": ["password", "original_password"],
             "properties": {"password": {"type": "string", "minLength": 1},
                            "original_password": {"type": "string"}}}}})

_role_props = {"name": _name, "description": {"type": ["string", "null"]},
               "options": {"type": "object"}, "domain_id": {"type": "null"}}
role_create = Schema({"type": "object", "required": ["role"], "properties": {
    "role": {"type": "object", "required": ["name"], "properties": _role_props}}})
role_update = Schema({"type": "object", "required": ["role"], "properties": {
    "role": {"type": "object", "minProperties": 1, "properties": _role_props}}})

service_create = Schema({"type": "object", "required": ["service"], "properties": {
    "service": {"type": "object", "required": ["type"], "properties": {
        "type": _name, "name": _name, "description": {"type": ["string", "null"]},
        "enabled": {"type": "boolean"}}}}})
endpoint_create = Schema({"type": "object", "required": ["endpoint"], "properties": {
    "endpoint": {"type": "object", "required": ["service_id", "interface", "url"],
                 "properties": {"service_id": _id,
                                "interface": {"enum": ["public", "internal", "admin"]},
                                "url": {"type": "string", "minLength": 1},
                                "region_id": {"type": ["string", "null"]},
                                "region": {"type": ["string", "null"]},
                                "enabled": {"type": "boolean"}}}}})


def _query(**params: dict) -> Schema:
    """The query parameters a list call reads (documentation and drift checks)."""
    return Schema({"type": "object", "properties": params})


_str = {"type": "string"}
_flag = {"type": "string", "description": "true/false; absent means no filter"}
_present = {"type": "string", "description": "present means yes"}
projects_query = _query(name=_str, domain_id=_str, enabled=_flag)
users_query = _query(name=_str, domain_id=_str, enabled=_flag)
domains_query = _query(name=_str, enabled=_flag)
roles_query = _query(name=_str)
services_query = _query(type=_str, name=_str)
endpoints_query = _query(service_id=_str, interface=_str, region_id=_str)
role_assignments_query = _query(**{"user.id": _str, "scope.project.id": _str, "role.id": _str,
                                   "effective": _present, "include_names": _present})
token_query = _query(nocatalog=_present)
