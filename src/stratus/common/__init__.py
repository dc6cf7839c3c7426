"""Pieces every Stratus service shares: HTTP, databases, RPC, authentication, policy."""
