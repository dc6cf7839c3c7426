"""Stratus: a compute cloud controller that speaks the OpenStack APIs."""

import sys

__version__ = "0.1.0"

# Stratus runs on native threads. Libraries that merely probe for eventlet (futurist,
# oslo.utils) would import it, costing start-up time and memory and risking a
# monkey-patched process; marking it absent makes every probe take the threading path.
sys.modules.setdefault("eventlet", None)
