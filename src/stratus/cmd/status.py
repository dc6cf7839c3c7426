"""stratus-status: checks an operator runs before and after an upgrade.

Exit status (as nova-status): 0 every check passed, 1 a warning needs attention,
2 a check failed, 255 a check could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from stratus import conf as stratus_conf
from stratus.common.db import Databases, migration
from stratus.conf.database import DATABASES

SUCCESS, WARNING, FAILURE, ERROR = 0, 1, 2, 255
NAMES = {SUCCESS: "Success", WARNING: "Warning", FAILURE: "Failure", ERROR: "Error"}


@dataclass(frozen=True)
class Result:
    code: int
    details: str = ""


def check_database_schemas(conf) -> Result:
    """Every database is at the newest schema revision this release knows."""
    dbs = Databases(conf)
    behind = []
    try:
        for name in DATABASES:
            now, newest = migration.current(dbs.engine(name)), migration.head(name)
            if now != newest:
                behind.append(f"{name} is at {now or 'no revision'}, expected {newest}")
    finally:
        dbs.dispose()
    if behind:
        return Result(FAILURE, "; ".join(behind) + ". Run: stratus-manage db sync")
    return Result(SUCCESS)


def check_cells_v2(conf) -> Result:
    """cell0 and a cell are mapped, and every compute host has a host mapping."""
    from stratus.cells import checks

    dbs = Databases(conf)
    try:
        return Result(*checks.check_cells_v2(dbs.engine("api"), conf.cells.cell_timeout))
    finally:
        dbs.dispose()


def check_placement(conf) -> Result:
    """Placement answers with the credentials the services use, at a new enough version."""
    from stratus.allinone import placement_client
    from stratus.scheduler.report import API_VERSION, PlacementError, PlacementUnavailable

    try:
        versions = placement_client(conf).versions()
    except PlacementUnavailable as exc:
        return Result(FAILURE, f"Placement API does not seem to be running: {exc}")
    except PlacementError as exc:
        return Result(FAILURE, f"Placement cannot be used: {exc}")
    newest = max((v.get("max_version", "1.0") for v in versions), key=_version_key,
                 default="1.0")
    if _version_key(newest) < _version_key(API_VERSION):
        return Result(FAILURE, f"Placement API version {API_VERSION} needed, you have "
                               f"{newest}.")
    return Result(SUCCESS)


def _version_key(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def check_policy_file(conf) -> Result:
    """The policy file (if any) loads, is YAML, and overrides only rules that exist."""
    from stratus.common.policy import Policy, PolicyFileError

    try:
        policy = Policy(conf)
    except PolicyFileError as exc:
        return Result(FAILURE, f"{exc}. Every service refuses to start on this file.")
    if not os.path.exists(policy.path):
        return Result(SUCCESS)
    problems = []
    unknown = sorted(set(policy.overrides) - set(policy.defaults))
    if unknown:
        problems.append(f"{policy.path} overrides rules Stratus does not have, which are "
                        f"ignored: {', '.join(unknown)}. Check their names with "
                        "'stratus-policy list'.")
    with open(policy.path, encoding="utf-8") as fh:
        if fh.read().lstrip().startswith("{"):
            problems.append(f"{policy.path} is JSON; YAML allows comments beside each "
                            "override. Generate one with 'oslopolicy-convert-json-to-yaml'.")
    return Result(WARNING, " ".join(problems)) if problems else Result(SUCCESS)


CHECKS: list[tuple[str, Callable]] = [("Database schemas", check_database_schemas),
                                      ("Cells v2", check_cells_v2),
                                      ("Placement API", check_placement),
                                      ("Policy File", check_policy_file)]


def upgrade_check(conf) -> int:
    worst = SUCCESS
    lines = []
    for title, check in CHECKS:
        try:
            result = check(conf)
        except Exception as exc:  # the operator needs to know which check broke
            result = Result(ERROR, f"{type(exc).__name__}: {exc}")
        worst = max(worst, result.code)
        lines.append(f"Check: {title}\nResult: {NAMES[result.code]}"
                     + (f"\nDetails: {result.details}" if result.details else ""))
    print("\n\n".join(lines))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stratus-status", description=__doc__.splitlines()[0])
    stratus_conf.add_common_arguments(parser)
    sub = parser.add_subparsers(dest="category", required=True, metavar="CATEGORY")
    upgrade = sub.add_parser("upgrade", help="upgrade readiness").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    upgrade.add_parser("check", help="run every upgrade check")
    args = parser.parse_args(argv)
    return upgrade_check(stratus_conf.load(args))


if __name__ == "__main__":
    sys.exit(main())
