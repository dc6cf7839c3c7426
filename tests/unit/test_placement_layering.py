"""Placement's layers: handlers parse, authorize and render; only data modules touch SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import stratus.placement.handlers as handlers_pkg

HANDLERS = Path(handlers_pkg.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_placement_handler_imports_sqlalchemy():
    offenders = {path.name for path in HANDLERS.glob("*.py")
                 if any(name.split(".")[0] == "sqlalchemy" for name in _imports(path))}
    assert offenders == set()


def test_no_placement_handler_imports_the_table_definitions():
    offenders = {path.name for path in HANDLERS.glob("*.py")
                 if "stratus.placement.schema" in _imports(path)}
    assert offenders == set()


def test_the_scheduler_reaches_placement_only_over_http():
    """No module of the scheduler (the Placement client included) imports the Placement
    service, so none can read its tables."""
    import stratus.scheduler as scheduler_pkg

    offenders = {path.name for path in Path(scheduler_pkg.__file__).parent.glob("*.py")
                 if any(name.startswith("stratus.placement") for name in _imports(path))}
    assert offenders == set()
