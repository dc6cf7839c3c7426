"""Microversion negotiation: parse the request header, check the range, echo the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

import microversion_parse

from stratus.common.wsgi.errors import BadRequest, NotAcceptable

_VERSION_RE = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(frozen=True, order=True)
class Version:
    """A microversion, compared numerically (2.10 > 2.9)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION_RE.match(text.strip())
        if not match:
            raise ValueError(text)
        return cls(int(match.group(1)), int(match.group(2)))

    def matches(self, low: Version | tuple | None = None,
                high: Version | tuple | None = None) -> bool:
        """True when low <= self <= high (either bound may be omitted)."""
        if low is not None and self < _as_version(low):
            return False
        return high is None or self <= _as_version(high)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def _as_version(value: Version | tuple) -> Version:
    return value if isinstance(value, Version) else Version(*value)


@dataclass(frozen=True)
class VersionRange:
    """What one API supports, and how its clients name it in headers.

    ``legacy_header`` is a per-service header older clients send (compute:
    ``X-OpenStack-Nova-API-Version``); when both are present the standard one wins.
    """

    service_type: str
    min: Version
    max: Version
    legacy_header: str | None = None

    def negotiate(self, headers: dict[str, str]) -> Version:
        """The version a request asked for; min when it asked for none.

        Raises BadRequest for a malformed version and NotAcceptable outside the range.
        """
        legacy = [self.legacy_header] if self.legacy_header else []
        # microversion-parse wants lower-cased header names.
        lowered = {key.lower(): value for key, value in headers.items()}
        try:
            requested = microversion_parse.get_version(
                lowered, service_type=self.service_type, legacy_headers=legacy)
        except (TypeError, ValueError) as exc:
            raise BadRequest(f"Invalid microversion header: {exc}") from exc
        if requested is None:
            return self.min
        if requested.strip().lower() == "latest":
            return self.max
        try:
            version = Version.parse(requested)
        except ValueError:
            raise BadRequest(
                f"API Version String {requested} is of invalid format. "
                "It must be of format 'major.minor'.",
                code="placement.version.invalid") from None
        if not version.matches(self.min, self.max):
            raise NotAcceptable(
                f"Version {version} is not supported by the API. "
                f"Minimum is {self.min} and maximum is {self.max}.",
                min_version=str(self.min), max_version=str(self.max))
        return version

    def response_headers(self, version: Version) -> list[tuple[str, str]]:
        """Headers that tell the client which version answered."""
        headers = [("OpenStack-API-Version", f"{self.service_type} {version}")]
        vary = ["OpenStack-API-Version"]
        if self.legacy_header:
            headers.append((self.legacy_header, str(version)))
            vary.append(self.legacy_header)
        headers.append(("Vary", ", ".join(vary)))
        return headers
