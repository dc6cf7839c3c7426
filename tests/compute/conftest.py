"""Compute agent fixtures live in agenthelpers.py (a unique module name test files can import)."""

from agenthelpers import cell_env  # noqa: F401
