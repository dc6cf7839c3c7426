"""Cells v2 fixtures live in cellhelpers.py (a unique module name test files can import)."""

from cellhelpers import cells_env  # noqa: F401
