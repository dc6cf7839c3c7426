"""OpenStack Placement's own gabbi suite, one pytest test per YAML test, against live servers.

Off by default; ``STRATUS_CONFORMANCE`` names the targets (see README.md beside this file).
"""

from __future__ import annotations

import os

import pytest
from gabbits import cases, exclusions, file_names, load, selected_targets
from reproducers import FIXTURES


def _params():
    for case in cases(selected_targets(os.environ.get("STRATUS_CONFORMANCE", ""))):
        marks = [pytest.mark.conformance,
                 pytest.mark.xdist_group(f"placement-{case.target}-{case.file}")]
        if case.excluded:
            marks.append(pytest.mark.skip(reason=f"excluded: {case.excluded}"))
        yield pytest.param(case, marks=marks, id=case.id)


PARAMS = list(_params())

# Defined only when targets are selected: an empty parametrisation would report a skip.
if PARAMS:
    @pytest.mark.parametrize("case", PARAMS)
    def test_gabbi(case, conformance):
        run = conformance.file_run(case)
        if run.setup_error:
            pytest.fail(f"fixture state could not be built: {run.setup_error}", pytrace=False)
        result = run.run(case.index)
        for _test, text in result.errors + result.failures:
            pytest.fail(text, pytrace=False)
        for _test, reason in result.skipped:
            pytest.skip(reason)
        if result.unexpectedSuccesses:
            pytest.fail("marked xfail in the YAML but passed", pytrace=False)
        if result.expectedFailures:
            pytest.xfail("marked xfail in the YAML")
        assert result.testsRun == 1


def test_every_fixture_a_file_names_has_a_reproducer():
    """A file naming a fixture we do not reproduce could never run: catch it at once."""
    named = {name for f in file_names() for name in load(f).get("fixtures", [])}
    assert named - set(FIXTURES) == set()


def test_every_exclusion_names_a_real_test_with_a_reason():
    """An exclusion that matches nothing (renamed test, typo) must not linger silently."""
    tests = {(f, t["name"]) for f in file_names() for t in load(f)["tests"]}
    for (file_name, test), reason in exclusions().items():
        assert (file_name, test) in tests, f"{file_name}: no test named {test!r}"
        assert reason.strip(), f"{file_name}: {test!r} excluded without a reason"


def test_all_79_files_are_read_from_the_installed_package():
    assert len(file_names()) == 79
