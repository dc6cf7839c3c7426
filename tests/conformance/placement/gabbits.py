"""OpenStack Placement's gabbi YAML files, read from the installed reference package, as cases.

The files stay inside ``openstack-placement`` (a test extra): nothing is copied into this
tree. A :class:`Case` is one YAML test of one file against one target; :class:`FileRun`
holds the live server and the gabbi test objects of the file being run.
"""

from __future__ import annotations

import copy
import functools
import os
import unittest
from dataclasses import dataclass
from pathlib import Path

import reproducers
import yaml
from gabbi import handlers, suitemaker
from placement_servers import RunningServer

EXCLUSIONS_FILE = Path(__file__).with_name("exclusions.yaml")
TARGETS = ("openstack", "stratus-sqlite", "stratus-postgresql", "stratus-mysql")


@functools.cache
def gabbits_dir() -> Path:
    """``placement/tests/functional/gabbits`` of the installed openstack-placement."""
    import placement

    path = Path(placement.__file__).parent / "tests" / "functional" / "gabbits"
    if not path.is_dir():
        raise RuntimeError(f"{path} is missing: install the test extra (openstack-placement)")
    return path


@functools.cache
def file_names() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in gabbits_dir().glob("*.yaml")))


# gabbi parses with the safe loader; its C twin gives the same result five times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def load(file_name: str) -> dict:
    """A YAML file parsed as gabbi parses it (safe loader)."""
    return yaml.load((gabbits_dir() / file_name).read_text(encoding="utf-8"), _SAFE_LOADER)


@functools.cache
def exclusions() -> dict[tuple[str, str], str]:
    """{(file, test name): reason} from exclusions.yaml."""
    entries = yaml.load(EXCLUSIONS_FILE.read_text(encoding="utf-8"), _SAFE_LOADER) or []
    return {(entry["file"], entry["test"]): entry["reason"] for entry in entries}


@dataclass(frozen=True)
class Case:
    target: str
    file: str
    index: int
    name: str

    @property
    def id(self) -> str:
        return f"{self.target}/{self.file}/{self.name}"

    @property
    def excluded(self) -> str | None:
        return exclusions().get((self.file, self.name))


def selected_targets(spec: str) -> list[str]:
    """Targets named by ``STRATUS_CONFORMANCE`` (e.g. ``openstack,stratus``; ``all``)."""
    chosen: list[str] = []
    for word in (w.strip() for w in spec.split(",") if w.strip()):
        if word == "all":
            names = list(TARGETS)
        elif word == "stratus":
            names = ["stratus-sqlite"]
        elif word in TARGETS:
            names = [word]
        else:
            raise ValueError(f"STRATUS_CONFORMANCE: unknown target {word!r}; "
                             f"use {', '.join(TARGETS)}, stratus or all")
        chosen.extend(n for n in names if n not in chosen)
    return chosen


def cases(targets: list[str]) -> list[Case]:
    """Every YAML test of every file, for each target, in file order."""
    return [Case(target, file_name, index, test["name"])
            for target in targets
            for file_name in file_names()
            for index, test in enumerate(load(file_name)["tests"])]


class FileRun:
    """One YAML file being run: its server, its fixture state and its gabbi tests."""

    def __init__(self, target: str, file_name: str, server: RunningServer):
        self.target = target
        self.file = file_name
        self.server = server
        self.setup_error: str | None = None
        suite_dict = copy.deepcopy(load(file_name))
        try:
            reproducers.populate(suite_dict.get("fixtures", []), server.url)
        except reproducers.SetupError as exc:
            self.setup_error = str(exc)
        self.tests = build_tests(file_name, suite_dict, server.url)

    def run(self, index: int) -> unittest.TestResult:
        """Run test ``index`` (gabbi first runs any earlier test that has not run)."""
        result = unittest.TestResult()
        self.tests[index].run(result)
        return result


def build_tests(file_name: str, suite_dict: dict, url: str) -> list[unittest.TestCase]:
    host_port = url.split("://", 1)[1].split("/", 1)
    host, _, port = host_port[0].partition(":")
    prefix = "/" + host_port[1] if len(host_port) > 1 else ""
    handler_objects = [handler() for handler in handlers.RESPONSE_HANDLERS]
    base_name = os.path.splitext(file_name)[0]
    suite = suitemaker.test_suite_from_dict(
        unittest.TestLoader(), base_name, suite_dict, str(gabbits_dir()), host, int(port),
        None, None, prefix=prefix, handlers=handler_objects, test_loader_name=__name__)
    return list(suite)
