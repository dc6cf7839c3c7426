"""Errors the scheduler answers with over RPC."""


class NoValidHost(Exception):
    """No host can take the request; ``reason`` says why (e.g. which filter ran out)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
