"""Layering of the compute API: handlers and views hold no SQL; the store holds no HTTP."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "src" / "stratus" / "compute_api"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["handlers", "views", "schemas"])
def test_handlers_views_and_schemas_never_import_sqlalchemy(layer):
    for path in (PACKAGE / layer).glob("*.py"):
        assert not any(name.startswith("sqlalchemy") for name in _imports(path)), path


def test_store_never_imports_the_http_layer():
    for path in (PACKAGE / "store").glob("*.py"):
        assert not any(name.startswith(("falcon", "stratus.common.wsgi", "stratus.compute_api"
                                        ".handlers")) for name in _imports(path)), path
