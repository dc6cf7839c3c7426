"""The microversions placement speaks; doc/placement-version-history.md says what each adds.

Negotiation follows OpenStack Placement's wording and edge cases: any "X.Y" of integers
parses (so "0.9" is a 406, not a 400), and ``Vary`` names the header in lower case.
"""

from __future__ import annotations

import microversion_parse

from stratus.common.wsgi.errors import BadRequest, NotAcceptable
from stratus.common.wsgi.microversion import Version, VersionRange

MIN = Version(1, 0)
MAX = Version(1, 39)


class PlacementVersions(VersionRange):
    """1.0-1.39, negotiated as Placement does."""

    def negotiate(self, headers: dict[str, str]) -> Version:
        lowered = {key.lower(): value for key, value in headers.items()}
        requested = microversion_parse.get_version(lowered, service_type=self.service_type)
        if requested is None:
            return self.min
        text = requested.strip()
        if text == "latest":
            return self.max
        try:
            major, minor = (int(part) for part in text.split(".", 1))
        except (ValueError, TypeError):
            raise BadRequest(f"Invalid microversion: invalid version string: {text}",
                             code="placement.undefined_code") from None
        version = Version(major, minor)
        if not version.matches(self.min, self.max):
            raise NotAcceptable(f"Invalid microversion: Unacceptable version header: {text}",
                                min_version=str(self.min), max_version=str(self.max))
        return version

    def response_headers(self, version: Version) -> list[tuple[str, str]]:
        return [("OpenStack-API-Version", f"{self.service_type} {version}"),
                ("Vary", "openstack-api-version")]


RANGE = PlacementVersions("placement", MIN, MAX)
