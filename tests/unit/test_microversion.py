"""Microversion negotiation as OpenStack clients expect it."""

import pytest

from stratus.common.wsgi.errors import BadRequest, NotAcceptable
from stratus.common.wsgi.microversion import Version, VersionRange

COMPUTE = VersionRange("compute", Version(2, 1), Version(2, 38),
                       legacy_header="x-openstack-nova-api-version")
PLACEMENT = VersionRange("placement", Version(1, 0), Version(1, 39))


def test_no_header_means_the_minimum():
    assert COMPUTE.negotiate({}) == Version(2, 1)


def test_latest_means_the_maximum():
    assert PLACEMENT.negotiate({"OpenStack-API-Version": "placement latest"}) == Version(1, 39)


def test_versions_compare_numerically():
    assert Version.parse("2.10") > Version.parse("2.9")
    assert Version(1, 15).matches((1, 10), (1, 20)) and not Version(1, 9).matches((1, 10))


def test_header_for_another_service_is_ignored():
    assert PLACEMENT.negotiate({"OpenStack-API-Version": "compute 2.30"}) == Version(1, 0)


def test_out_of_range_is_406_naming_the_range():
    with pytest.raises(NotAcceptable) as caught:
        PLACEMENT.negotiate({"OpenStack-API-Version": "placement 1.40"})
    assert caught.value.extra == {"min_version": "1.0", "max_version": "1.39"}
    assert "1.40" in caught.value.message


def test_malformed_version_is_400():
    for bad in ("placement 1.x", "placement 01.2", "placement 1"):
        with pytest.raises(BadRequest):
            PLACEMENT.negotiate({"OpenStack-API-Version": bad})


def test_legacy_nova_header_is_honoured_and_standard_header_wins():
    assert COMPUTE.negotiate({"X-OpenStack-Nova-API-Version": "2.25"}) == Version(2, 25)
    both = {"X-OpenStack-Nova-API-Version": "2.25", "OpenStack-API-Version": "compute 2.30"}
    assert COMPUTE.negotiate(both) == Version(2, 30)


def test_response_headers_echo_both_forms_and_vary():
    headers = dict(COMPUTE.response_headers(Version(2, 37)))
    assert headers["OpenStack-API-Version"] == "compute 2.37"
    assert headers["x-openstack-nova-api-version"] == "2.37"
    assert headers["Vary"] == "OpenStack-API-Version, x-openstack-nova-api-version"
