"""Configuration: one oslo.config object per process, found the same way by every command.

A command builds its configuration with :func:`load`. Files come from
``--config-file`` / ``--config-dir`` when given; otherwise ``<state_dir>/stratus.conf``
and ``/etc/stratus/stratus.conf`` are read if they exist, so a bare
``stratus all-in-one`` needs no file at all.
"""

from __future__ import annotations

import argparse
import os

from oslo_config import cfg

from stratus.conf import opts

DEFAULT_STATE_DIR = "./stratus-data"
SYSTEM_CONFIG = "/etc/stratus/stratus.conf"


def new_conf() -> cfg.ConfigOpts:
    """A fresh ConfigOpts with every Stratus option registered."""
    conf = cfg.ConfigOpts()
    opts.register_all(conf)
    return conf


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every Stratus command accepts, in the same spelling."""
    parser.add_argument(
        "--config-file", action="append", default=[], metavar="PATH",
        help="configuration file (repeatable; later files override earlier ones)")
    parser.add_argument("--config-dir", metavar="DIR",
                        help="directory of *.conf files read after --config-file")
    parser.add_argument(
        "--state-dir", metavar="DIR", default=None,
        help="all-in-one state directory (default $STRATUS_STATE_DIR or ./stratus-data)")
    parser.add_argument("--debug", action="store_true", default=None,
                        help="log at DEBUG level")


def config_files_for(config_file: list[str], state_dir: str | None) -> list[str]:
    """The configuration files a command reads when none are named explicitly."""
    if config_file:
        return list(config_file)
    candidates = []
    if state_dir:
        candidates.append(os.path.join(state_dir, "stratus.conf"))
    candidates.append(SYSTEM_CONFIG)
    return [path for path in candidates if os.path.exists(path)]


def load(args: argparse.Namespace | None = None, overrides: dict | None = None) -> cfg.ConfigOpts:
    """Build the process configuration from parsed command-line arguments.

    ``overrides`` maps ``"group.option"`` (or ``"option"`` for DEFAULT) to a value;
    tests and the all-in-one runner use it instead of writing files.
    """
    config_file = getattr(args, "config_file", None) or []
    config_dir = getattr(args, "config_dir", None)
    cli_state_dir = getattr(args, "state_dir", None)
    env_state_dir = os.environ.get("STRATUS_STATE_DIR")

    conf = new_conf()
    files = config_files_for(config_file, cli_state_dir or env_state_dir or DEFAULT_STATE_DIR)
    for path in files:
        if not os.path.exists(path):
            raise SystemExit(f"stratus: configuration file not found: {path}")
    conf(args=[], project="stratus", default_config_files=files,
         default_config_dirs=[config_dir] if config_dir else [], validate_default_values=True)

    # Precedence for the state directory: command line, environment, file, default.
    state_dir = cli_state_dir or env_state_dir or conf.state_dir or DEFAULT_STATE_DIR
    conf.set_override("state_dir", os.path.abspath(state_dir))
    if getattr(args, "debug", None):
        conf.set_override("debug", True)
    for key, value in (overrides or {}).items():
        group, _, name = key.rpartition(".")
        conf.set_override(name, value, group=group or None)
    return conf
