"""stratus-status: checks an operator runs before and after an upgrade.

Exit status (as nova-status): 0 every check passed, 1 a warning needs attention,
2 a check failed, 255 a check could not run.
"""

from __future__ import annotations

import argparse
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
    from stratus.cells import checks

    return Result(*checks.check_placement())


CHECKS: list[tuple[str, Callable]] = [("Database schemas", check_database_schemas),
                                      ("Cells v2", check_cells_v2),
                                      ("Placement API", check_placement)]


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
