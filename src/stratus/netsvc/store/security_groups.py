"""Security groups and their rules: visibility, rendering, the per-project default group,
rule validation as Neutron does it, and which groups a port is in."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import sqlalchemy as sa

from stratus.netsvc import errors
from stratus.netsvc import schema as s
from stratus.netsvc.store import Viewer, bump, stamp, timestamps

g = s.security_groups.c
r = s.security_group_rules.c
dg = s.default_security_groups.c
psg = s.port_security_groups.c

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"
ETHERTYPES = ("IPv4", "IPv6")

# The protocol names Neutron accepts, with their IP protocol numbers; "any" is no protocol.
PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113,
    "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}
PORT_PROTOCOLS = ("tcp", "udp", "udplite", "sctp", "dccp")
_PORT_NUMBERS = {PROTOCOLS[name] for name in PORT_PROTOCOLS}
_ICMP_NUMBERS = {PROTOCOLS["icmp"], PROTOCOLS["ipv6-icmp"]}
_IPV6_ONLY_NUMBERS = {41, 43, 44, 58, 59, 60}
# What makes two rules the same rule (the description does not).
_RULE_KEY = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
             "remote_ip_prefix", "remote_group_id")


# --- groups -----------------------------------------------------------------------------

def visible(viewer: Viewer) -> sa.ColumnElement:
    return sa.true() if viewer.is_admin else g.project_id == viewer.project_id


def get(conn: sa.Connection, sg_id: str, viewer: Viewer) -> dict:
    row = conn.execute(sa.select(s.security_groups).where(g.id == sg_id, visible(viewer))
                       ).mappings().first()
    if row is None:
        raise errors.not_found("SecurityGroup", sg_id)
    return dict(row)


def render(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    """Security group documents; the rules of all of them in one query."""
    ids = [row["id"] for row in rows]
    rules: dict[str, list[dict]] = {i: [] for i in ids}
    if ids:
        for rule in conn.execute(sa.select(s.security_group_rules)
                                 .where(r.security_group_id.in_(ids))
                                 .order_by(r.created_at, r.id)).mappings():
            rules[rule["security_group_id"]].append(rule_view(rule))
    return [view(row, rules[row["id"]]) for row in rows]


def view(row: dict, rules: list[dict]) -> dict:
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "project_id": row["project_id"], "tenant_id": row["project_id"],
            "stateful": row["stateful"], "security_group_rules": rules, "tags": [],
            "revision_number": row["revision_number"], **timestamps(row)}


def create(conn: sa.Connection, values: dict) -> dict:
    """A new group with Neutron's two egress rules (IPv4 and IPv6, any protocol)."""
    if values.get("name", "").lower() == DEFAULT_NAME:
        raise _default_exists()
    row = _insert_group(conn, values.get("project_id"), values.get("name", ""),
                        values.get("description", ""), values.get("stateful", True))
    _insert_rules(conn, row, [_rule_values("egress", ethertype) for ethertype in ETHERTYPES])
    return row


def update(conn: sa.Connection, row: dict, values: dict) -> None:
    """Rename, describe or make (un)stateful; the default group keeps its name."""
    columns = {k: v for k, v in values.items() if k in ("name", "description", "stateful")}
    name = columns.get("name", row["name"])
    if name != row["name"]:
        if _is_default(conn, row["id"]):
            raise errors.conflict("SecurityGroupCannotUpdateDefault",
                                  "Updating default security group not allowed.")
        if name.lower() == DEFAULT_NAME:
            raise _default_exists()
    bump(conn, s.security_groups, row["id"], columns)


def delete(conn: sa.Connection, row: dict, viewer: Viewer) -> None:
    """Delete a group and its rules (and rules elsewhere naming it as their remote group).

    409 when a port is in it, or when a non-admin deletes a project's default group.
    """
    if _is_default(conn, row["id"]) and not viewer.is_admin:
        raise errors.conflict("SecurityGroupCannotRemoveDefault",
                              "Insufficient rights for removing default security group.")
    in_use = conn.execute(sa.select(psg.port_id).where(psg.security_group_id == row["id"])
                          .limit(1)).first()
    if in_use is not None:
        raise errors.conflict("SecurityGroupInUse", f"Security Group {row['id']} in use.")
    conn.execute(s.security_group_rules.delete().where(sa.or_(
        r.security_group_id == row["id"], r.remote_group_id == row["id"])))
    conn.execute(s.default_security_groups.delete().where(dg.security_group_id == row["id"]))
    conn.execute(s.security_groups.delete().where(g.id == row["id"]))


def ensure_default(conn: sa.Connection, project_id: str) -> str:
    """The id of the project's default group, made with Neutron's four rules if missing.

    The ``default_security_groups`` row (project_id is its key) is written in the same
    transaction, so of two concurrent creators one fails with IntegrityError; run this
    in :func:`stratus.netsvc.store.transaction`, whose retry then finds the winner's group.
    """
    existing = conn.execute(sa.select(dg.security_group_id).where(dg.project_id == project_id)
                            ).scalar()
    if existing is not None:
        return existing
    row = _insert_group(conn, project_id, DEFAULT_NAME, DEFAULT_DESCRIPTION, True)
    conn.execute(s.default_security_groups.insert().values(
        project_id=project_id, security_group_id=row["id"]))
    _insert_rules(conn, row, [
        *(_rule_values("egress", ethertype) for ethertype in ETHERTYPES),
        *(_rule_values("ingress", ethertype, remote_group_id=row["id"])
          for ethertype in ETHERTYPES)])
    return row["id"]


def _insert_group(conn: sa.Connection, project_id: str | None, name: str, description: str,
                  stateful: bool) -> dict:
    row = stamp({"project_id": project_id, "name": name, "description": description,
                 "stateful": stateful})
    conn.execute(s.security_groups.insert().values(**row))
    return row


def _is_default(conn: sa.Connection, sg_id: str) -> bool:
    return conn.execute(sa.select(dg.project_id).where(dg.security_group_id == sg_id)
                        ).first() is not None


def _default_exists():
    return errors.conflict("SecurityGroupDefaultAlreadyExists",
                           "Default security group already exists.")


# --- rules ------------------------------------------------------------------------------

def rule_visible(viewer: Viewer) -> sa.ColumnElement:
    """A rule is seen by its own project and by the project owning its group."""
    if viewer.is_admin:
        return sa.true()
    return sa.or_(r.project_id == viewer.project_id, r.security_group_id.in_(
        sa.select(g.id).where(g.project_id == viewer.project_id)))


def get_rule(conn: sa.Connection, rule_id: str, viewer: Viewer) -> dict:
    row = conn.execute(sa.select(s.security_group_rules)
                       .where(r.id == rule_id, rule_visible(viewer))).mappings().first()
    if row is None:
        raise errors.not_found("SecurityGroupRule", rule_id)
    return dict(row)


def render_rules(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    return [rule_view(row) for row in rows]


def rule_view(row: Mapping) -> dict:
    return {"id": row["id"], "project_id": row["project_id"], "tenant_id": row["project_id"],
            "security_group_id": row["security_group_id"], "direction": row["direction"],
            "ethertype": row["ethertype"], "protocol": row["protocol"],
            "port_range_min": row["port_range_min"], "port_range_max": row["port_range_max"],
            "remote_ip_prefix": row["remote_ip_prefix"],
            "remote_group_id": row["remote_group_id"], "description": row["description"],
            "revision_number": row["revision_number"], **timestamps(row)}


def create_rule(conn: sa.Connection, values: dict, viewer: Viewer) -> dict:
    """Validate a rule as Neutron does, refuse a duplicate (409), add it, bump the group."""
    group = get(conn, values["security_group_id"], viewer)
    rule = _rule_values(values["direction"], values.get("ethertype") or "IPv4",
                        protocol=_protocol(values.get("protocol")),
                        port_range_min=values.get("port_range_min"),
                        port_range_max=values.get("port_range_max"),
                        remote_ip_prefix=values.get("remote_ip_prefix"),
                        remote_group_id=values.get("remote_group_id"),
                        description=values.get("description") or "")
    _check_remote(conn, rule, viewer)
    _check_ports(rule)
    _check_ethertype_protocol(rule)
    if _full_port_range(rule):
        # Every port is no port restriction: store it (and compare it) as such.
        rule.update(port_range_min=None, port_range_max=None)
    _check_duplicate(conn, group["id"], rule)
    row, = _insert_rules(conn, group, [rule], project_id=values.get("project_id"))
    bump(conn, s.security_groups, group["id"], {})
    return row


def delete_rule(conn: sa.Connection, rule: dict) -> None:
    conn.execute(s.security_group_rules.delete().where(r.id == rule["id"]))
    bump(conn, s.security_groups, rule["security_group_id"], {})


def _rule_values(direction: str, ethertype: str, **values) -> dict:
    return {"direction": direction, "ethertype": ethertype, "protocol": None,
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
            "remote_group_id": None, "description": "", **values}


def _insert_rules(conn: sa.Connection, group: dict, rules: list[dict], *,
                  project_id: str | None = None) -> list[dict]:
    rows = [{**stamp(rule), "security_group_id": group["id"],
             "project_id": project_id or group["project_id"]} for rule in rules]
    conn.execute(s.security_group_rules.insert(), rows)
    return rows


def _protocol(value) -> str | None:
    """Neutron's protocol: a known name (lowercased), a number 0-255 as text, or None."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == "any":
        return None
    if text in PROTOCOLS:
        return text
    if text.isdigit() and 0 <= int(text) <= 255:
        return str(int(text))
    names = ", ".join(repr(name) for name in (None, "any", *PROTOCOLS))
    raise errors.invalid_request(
        "SecurityGroupRuleInvalidProtocol",
        f"Security group rule protocol {value} not supported. Only protocol values "
        f"[{names}] and integer representations [0 to 255] are supported.")


def _protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return PROTOCOLS[protocol] if protocol in PROTOCOLS else int(protocol)


def _check_remote(conn: sa.Connection, rule: dict, viewer: Viewer) -> None:
    prefix, remote_group = rule["remote_ip_prefix"], rule["remote_group_id"]
    if prefix and remote_group:
        raise errors.invalid_request("SecurityGroupRemoteGroupAndRemoteIpPrefix",
                                     "Only remote_ip_prefix or remote_group_id may be "
                                     "provided.")
    if remote_group:
        get(conn, remote_group, viewer)
    if prefix:
        version = ipaddress.ip_network(prefix, strict=False).version
        if f"IPv{version}" != rule["ethertype"]:
            raise errors.invalid_request(
                "SecurityGroupRuleParameterConflict",
                f"Conflicting value ethertype {rule['ethertype']} for CIDR {prefix}")


def _check_ports(rule: dict) -> None:
    low, high = rule["port_range_min"], rule["port_range_max"]
    if low is None and high is None:
        return
    number = _protocol_number(rule["protocol"])
    if number is None:
        raise errors.invalid_request("SecurityGroupProtocolRequiredWithPorts",
                                     "Must also specify protocol if port range is given.")
    if number in _PORT_NUMBERS:
        if low == 0 or high == 0:
            raise errors.invalid_request("SecurityGroupInvalidPortValue",
                                         "Invalid value for port 0")
        if low is None or high is None or low > high:
            raise errors.invalid_request("SecurityGroupInvalidPortRange",
                                         "For TCP/UDP protocols, port_range_min must be <= "
                                         "port_range_max")
    elif number in _ICMP_NUMBERS:
        for attr, field in (("port_range_min", "type"), ("port_range_max", "code")):
            if rule[attr] is not None and not 0 <= rule[attr] <= 255:
                raise errors.invalid_request(
                    "SecurityGroupInvalidIcmpValue",
                    f"Invalid value for ICMP {field} ({attr}) {rule[attr]}. It must be 0 "
                    f"to 255.")
        if low is None:
            raise errors.invalid_request(
                "SecurityGroupMissingIcmpType",
                f"ICMP code (port-range-max) {high} is provided but ICMP type "
                f"(port-range-min) is missing.")
    else:
        raise errors.invalid_request(
            "SecurityGroupInvalidProtocolForPort",
            f"Invalid protocol {rule['protocol']} for port range, only supported for "
            f"{', '.join(PORT_PROTOCOLS)} protocols.")


def _check_ethertype_protocol(rule: dict) -> None:
    if rule["ethertype"] == "IPv4" and _protocol_number(rule["protocol"]) in _IPV6_ONLY_NUMBERS:
        raise errors.invalid_request(
            "SecurityGroupEthertypeConflictWithProtocol",
            f"Invalid ethertype {rule['ethertype']} for protocol {rule['protocol']}.")


def _full_port_range(rule: dict) -> bool:
    return (_protocol_number(rule["protocol"]) in _PORT_NUMBERS
            and rule["port_range_min"] == 1 and rule["port_range_max"] == 65535)


def _check_duplicate(conn: sa.Connection, sg_id: str, rule: dict) -> None:
    wanted = _rule_key(rule)
    for other in conn.execute(sa.select(s.security_group_rules)
                              .where(r.security_group_id == sg_id)).mappings():
        if _rule_key(other) == wanted:
            raise errors.conflict("SecurityGroupRuleExists",
                                  f"Security group rule already exists. Rule id is "
                                  f"{other['id']}.")


def _rule_key(rule: Mapping) -> tuple:
    """The rule in comparable form: protocol by number, an all-addresses prefix as none."""
    key = {name: rule[name] for name in _RULE_KEY}
    key["protocol"] = _protocol_number(rule["protocol"])
    prefix = rule["remote_ip_prefix"]
    if prefix is not None:
        network = ipaddress.ip_network(prefix, strict=False)
        key["remote_ip_prefix"] = None if network.prefixlen == 0 else str(network)
    return tuple(key[name] for name in _RULE_KEY)


# --- ports ------------------------------------------------------------------------------

def port_groups(conn: sa.Connection, port_ids: list[str]) -> dict[str, list[str]]:
    """Each port's security group ids (sorted), for all the ports in one query."""
    found: dict[str, list[str]] = {port_id: [] for port_id in port_ids}
    if port_ids:
        for link in conn.execute(sa.select(psg.port_id, psg.security_group_id)
                                 .where(psg.port_id.in_(port_ids))
                                 .order_by(psg.port_id, psg.security_group_id)):
            found[link.port_id].append(link.security_group_id)
    return found


def set_port_groups(conn: sa.Connection, port_id: str, sg_ids: list[str],
                    viewer: Viewer) -> None:
    """Make ``sg_ids`` the port's groups; 404 for a group the viewer cannot see."""
    wanted = list(dict.fromkeys(sg_ids))
    if wanted:
        seen = set(conn.execute(sa.select(g.id).where(g.id.in_(wanted), visible(viewer)))
                   .scalars())
        missing = next((sg_id for sg_id in wanted if sg_id not in seen), None)
        if missing is not None:
            raise errors.not_found("SecurityGroup", missing)
    conn.execute(s.port_security_groups.delete().where(psg.port_id == port_id))
    if wanted:
        conn.execute(s.port_security_groups.insert(),
                     [{"port_id": port_id, "security_group_id": sg_id} for sg_id in wanted])
