"""``stratus.placement.wsgi:application``: placement alone, for any WSGI server.

Configuration comes from ``$STRATUS_CONFIG_FILE`` (or the usual search path); the
placement database must have been synced (``stratus-manage db sync``).
"""

from __future__ import annotations

import argparse
import os

from stratus import conf as stratus_conf
from stratus.common.db import Databases
from stratus.common.policy import Policy
from stratus.placement import app as placement_app


def build_application():
    """The placement WSGI app configured from the environment."""
    files = [f for f in os.environ.get("STRATUS_CONFIG_FILE", "").split(",") if f]
    conf = stratus_conf.load(argparse.Namespace(config_file=files, config_dir=None,
                                                state_dir=None, debug=None))
    engine = Databases(conf).engine("placement")
    placement = placement_app.make_service(conf, engine, Policy(conf))
    return placement_app.make_app(conf, placement)


_application = None


def __getattr__(name: str):
    # Built on first access, so importing this module has no side effects.
    global _application
    if name != "application":
        raise AttributeError(name)
    if _application is None:
        _application = build_application()
    return _application
