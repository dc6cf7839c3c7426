"""Policy defaults in code for every Stratus API, one module per API resource."""

from __future__ import annotations

import itertools

from stratus.policies import base, identity


def list_rules():
    """Entry point for oslopolicy-sample-generator --namespace stratus."""
    return list(itertools.chain(base.rules, identity.rules))
