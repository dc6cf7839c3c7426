"""Response bodies of the compute API, in Nova's shapes; microversion branches live here."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode


def links(base: str, collection: str, ident: str) -> list[dict]:
    """Nova's self (versioned) and bookmark (unversioned) links of one resource."""
    return [{"rel": "self", "href": f"{base}/v2.1/{collection}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/{collection}/{ident}"}]


def paged(name: str, items: list[dict], *, base: str, path: str, params: dict,
          limit: int | None, marker_of=lambda item: item["id"]) -> dict:
    """``{name: items}``, plus ``{name}_links`` with a "next" link when the page is full."""
    body = {name: items}
    if limit is not None and items and len(items) >= limit:
        query = {k: v for k, v in params.items() if k != "marker"}
        query["limit"] = limit
        query["marker"] = marker_of(items[-1])
        body[f"{name}_links"] = [{"rel": "next", "href":
                                  f"{base}/v2.1/{path}?{urlencode(query, doseq=True)}"}]
    return body


def isotime(value: datetime.datetime | None) -> str | None:
    """Nova's server timestamps: 2016-01-01T00:00:00Z."""
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def isotime_micro(value: datetime.datetime | None) -> str | None:
    """The naive ISO form key pairs and services use: 2016-01-01T00:00:00.000000."""
    return None if value is None else value.isoformat(timespec="microseconds")
