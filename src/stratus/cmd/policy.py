"""stratus-policy: list the policy rules in force, and check what a caller may do.

  stratus-policy list [--overridden]
      every rule: its check string in force (marked when the policy file overrides the
      default), its description and the (method, path) operations it guards.
  stratus-policy check --role ROLE [--role ...] --project P [--user U]
                       [--target-project T] [--target KEY=VALUE ...] RULE
      evaluates RULE for a token with those roles scoped to project P, on a resource
      owned by project T (default P) and user U. Roles imply each other as the identity
      service grants them: admin implies member, member implies reader.

Both read the same configuration and policy file as the services
(``--config-file`` / ``--state-dir``, ``[oslo_policy] policy_file``).

Exit status: 0 listed / allowed; 1 denied; 2 usage error or unknown rule;
3 the policy file cannot be used (the message names file and line).
"""

from __future__ import annotations

import argparse
import os
import sys

from stratus import conf as stratus_conf
from stratus.common.policy import Policy, PolicyFileError
from stratus.policies import operations_by_rule

ALLOWED, DENIED, USAGE, BAD_POLICY_FILE = 0, 1, 2, 3
# admin ⊇ member ⊇ reader, as identity.bootstrap.ROLE_CHAIN grants them.
IMPLIED = {"admin": ("member", "reader"), "member": ("reader",)}


def list_rules(policy: Policy, overridden_only: bool) -> int:
    effective = policy.effective()
    ops = operations_by_rule()
    state = f"{len(policy.overrides)} override(s)" if policy.overrides else "no overrides"
    print(f"# policy file: {policy.path} ({state}; every other rule has its default)")
    for name, rule in sorted(policy.defaults.items()):
        overridden = name in policy.overrides
        if overridden_only and not overridden:
            continue
        check = effective[name] or '""  (any authenticated caller)'
        print(f"\n{name}\n  check: {check}" + ("   [overridden]" if overridden else ""))
        if overridden:
            print(f"  default: {rule.check_str or chr(34) * 2}")
        if rule.description:
            print(f"  description: {rule.description}")
        for method, path in ops.get(name, []):
            print(f"  operation: {method} {path}")
    return ALLOWED


def expand_roles(roles: list[str]) -> list[str]:
    expanded: list[str] = []
    for role in roles:
        for name in (role, *IMPLIED.get(role, ())):
            if name not in expanded:
                expanded.append(name)
    return expanded


def check_rule(policy: Policy, args: argparse.Namespace) -> int:
    if args.rule not in policy.defaults:
        print(f"stratus-policy: unknown rule {args.rule!r} (see: stratus-policy list)",
              file=sys.stderr)
        return USAGE
    user = args.user or "user"
    owner = args.target_project or args.project
    roles = expand_roles(args.role)
    creds = {"user_id": user, "project_id": args.project, "roles": roles,
             "is_admin": "admin" in roles, "project_domain_id": "default",
             "user_domain_id": "default"}
    target = {"project_id": owner, "user_id": user, "project": {"id": owner},
              "user": {"id": user}, "token": {"user_id": user}, "domain": {"id": "default"}}
    for item in args.target:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"stratus-policy: --target wants KEY=VALUE, got {item!r}", file=sys.stderr)
            return USAGE
        target[key] = value
    allowed = policy.check(args.rule, target, creds)
    print(f"{'allowed' if allowed else 'denied'}: {args.rule} for roles "
          f"{','.join(roles) or '(none)'} on project {args.project} "
          f"(resource owned by project {owner}, user {user}); "
          f"check: {policy.effective()[args.rule] or '(any authenticated caller)'}")
    return ALLOWED if allowed else DENIED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stratus-policy", description=__doc__.splitlines()[0],
        epilog="Exit status: 0 listed/allowed, 1 denied, 2 usage error or unknown rule, "
               "3 unusable policy file.")
    stratus_conf.add_common_arguments(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="every rule with its check and operations")
    listing.add_argument("--overridden", action="store_true",
                         help="only the rules the policy file overrides")
    check = commands.add_parser("check", help="would this caller be allowed RULE?")
    check.add_argument("--role", action="append", default=[],
                       help="a role of the caller's token (repeatable)")
    check.add_argument("--project", required=True, help="the project the token is scoped to")
    check.add_argument("--user", help="the caller's user id (default: user)")
    check.add_argument("--target-project", help="the project owning the resource "
                                                "(default: --project)")
    check.add_argument("--target", action="append", default=[], metavar="KEY=VALUE",
                       help="an extra target attribute, e.g. target.user.id=U (repeatable)")
    check.add_argument("rule", help="the rule name, e.g. identity:list_projects")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    conf = stratus_conf.load(args)
    try:
        policy = Policy(conf)
    except PolicyFileError as exc:
        print(f"stratus-policy: {exc}", file=sys.stderr)
        return BAD_POLICY_FILE
    if args.command == "list":
        try:
            return list_rules(policy, args.overridden)
        except BrokenPipeError:
            # The reader stopped early (``| head``): not an error. Point stdout at
            # /dev/null so the interpreter's final flush does not raise again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return ALLOWED
    return check_rule(policy, args)


if __name__ == "__main__":
    sys.exit(main())
