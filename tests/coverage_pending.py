"""The one list of documentation and persona-matrix work not done yet, and why.

Every API in ``AllInOne.ROUTE_TABLES`` needs an API reference page
(``tests/unit/test_api_reference.py``) and a persona matrix
(``tests/functional/test_policy_matrix.py``). An API listed here for one of them is
checked by ``test_pending_reference_pages_are_really_missing`` or
``test_pending_matrices_are_really_missing`` instead: the file must still be
missing, so the entry has to go when the file arrives and the gap stays visible until
then. Nothing here exempts an API from the policy enumeration
(``tests/unit/test_policy_enumeration.py``): every route of every API has its rules.

Shrink this list; never add to it to make a failing check pass.
"""

from __future__ import annotations

REFERENCE = "reference"  # doc/api-ref/source/<api>/index.rst and parameters.yaml
MATRIX = "matrix"  # tests/functional/policy_matrix/<api>.yaml

# api -> {what is missing -> why it is not there yet}
PENDING: dict[str, dict[str, str]] = {}


def pending(api: str, what: str) -> str | None:
    """Why ``what`` (REFERENCE or MATRIX) of ``api`` is not there yet, or None if it must be."""
    return PENDING.get(api, {}).get(what)
