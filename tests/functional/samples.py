"""API samples: request and response bodies captured from live requests, checked every run.

Like Nova's api_samples, the files under ``doc/api-ref/source/<api>/samples/`` are what
the API reference shows, and they are not written by hand: a functional test sends a
real request and hands the documents to :meth:`Samples.check`, which compares them with
the committed file after normalising what changes from run to run (ids, timestamps,
tokens, the server's address). A difference fails the test. To accept an intended
change, regenerate and review the diff::

    STRATUS_API_SAMPLES=write python -m pytest tests/functional/test_api_samples_*.py
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "doc" / "api-ref" / "source"
PUBLIC_URL = "http://controller:8080"
_UUID = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b")
# ISO 8601 times, and the "2026-01-01 12:00:00" stamps of a console log.
_TIME = re.compile(r"\b\d{4}-\d\d-\d\d([T ])\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_FERNET = re.compile(r"\bgAAAAA[A-Za-z0-9_\-=]{40,}")


class Samples:
    """Checks (or, with STRATUS_API_SAMPLES=write, writes) one API's samples."""

    def __init__(self, api: str, base_url: str, volatile_keys: tuple[str, ...] = (),
                 other_urls: tuple[str, ...] = ()):
        """``other_urls``: the base URLs of further clouds the samples are taken from;
        they read as the public URL too."""
        self.dir = SOURCE / api / "samples"
        self.base_url = base_url
        self.other_urls = other_urls
        self.volatile_keys = volatile_keys
        self.write = os.environ.get("STRATUS_API_SAMPLES") == "write"
        self.checked: set[str] = set()
        self.pinned: dict[str, str] = {}

    def pin(self, **ids: str) -> None:
        """Give ids a fixed made-up value by label, the same in every sample and run.

        For ids that key a dict whose order follows the ids themselves (placement's
        ``provider_summaries``), where counting ids in order of appearance is not stable.
        """
        for label, value in ids.items():
            digest = hashlib.sha1(f"pinned:{label}".encode()).hexdigest()[:32]
            self.pinned[value] = "-".join((digest[:8], digest[8:12], digest[12:16],
                                           digest[16:20], digest[20:32]))

    def check(self, name: str, document) -> None:
        """Compare ``document`` (normalised) with ``samples/<name>.json``."""
        text = json.dumps(self.normalise(name, document), indent=4, sort_keys=True) + "\n"
        path = self.dir / f"{name}.json"
        self.checked.add(path.name)
        if self.write:
            self.dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            return
        assert path.exists(), (f"no committed sample {path}; run with "
                               f"STRATUS_API_SAMPLES=write and commit it")
        committed = path.read_text()
        assert committed == text, (
            f"the live response no longer matches {path}.\n--- committed\n{committed}"
            f"--- live\n{text}If the change is intended, regenerate with "
            f"STRATUS_API_SAMPLES=write and review the diff.")

    def assert_all_checked(self) -> None:
        """Every committed sample was produced by this run: none is left unchecked."""
        stale = sorted(p.name for p in self.dir.glob("*.json") if p.name not in self.checked)
        if self.write:
            for name in stale:
                (self.dir / name).unlink()
            return
        assert not stale, f"samples no test produces any more (delete them): {stale}"

    def normalise(self, name: str, document):
        """Run-specific values replaced by stable ones, keeping their shape and identity.

        The n-th distinct id of a sample becomes the same made-up id on every run, so a
        sample still shows which ids are equal.
        """
        ids: dict[str, str] = {}

        def fake_id(match: re.Match) -> str:
            value = match.group(0)
            if value in self.pinned:
                return self.pinned[value]
            if value not in ids:
                digest = hashlib.sha1(f"{name}:{len(ids)}".encode()).hexdigest()[:32]
                if "-" in value:
                    digest = "-".join((digest[:8], digest[8:12], digest[12:16], digest[16:20],
                                       digest[20:32]))
                ids[value] = digest
            return ids[value]

        def fake_time(match: re.Match) -> str:
            separator, fraction, zone = match.group(1), match.group(2) or "", match.group(3)
            return (f"2026-01-01{separator}12:00:00" + (("." + "0" * (len(fraction) - 1))
                                                        if fraction else "") + (zone or ""))

        def walk(value, key=None):
            if key in self.volatile_keys:
                return [f"<{key}>"] if isinstance(value, list) else f"<{key}>"
            if isinstance(value, dict):  # keys may be ids too (placement's are)
                return {walk(k) if isinstance(k, str) else k: walk(v, k)
                        for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, str):
                for url in (self.base_url, *self.other_urls):
                    value = value.replace(url, PUBLIC_URL)
                value = _FERNET.sub("gAAAAABsample-token", value)
                value = _TIME.sub(fake_time, value)
                return _UUID.sub(fake_id, value)
            return value

        return walk(document)
