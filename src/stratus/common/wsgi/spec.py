"""What one method of a route accepts, as data: the API reference is checked against it.

A route's ``specs`` maps method -> :class:`Spec`. Body and query schemas are the same
compiled objects the handlers validate with: a :class:`~stratus.common.wsgi.body.Schema`,
or any object holding its JSON Schema document in ``schema`` (placement's ``Schema``, a
``jsonschema`` validator). A schema that changes with the microversion is a tuple of
:class:`Versioned`, one per range, so the version where each field starts or ends is
read from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from stratus.common.wsgi.body import Schema


@dataclass(frozen=True)
class Versioned:
    """A schema in force from ``min_version`` to ``max_version`` (inclusive; None: open)."""

    schema: Schema
    min_version: str | None = None
    max_version: str | None = None


Schemas = Schema | tuple[Versioned, ...] | None


@dataclass(frozen=True)
class Spec:
    """Request body and query schemas, extra request headers, and the versions served."""

    body: Schemas = None
    query: Schemas = None
    headers: tuple[str, ...] = ()
    min_version: str | None = None
    max_version: str | None = None


def versioned(schemas: Schemas) -> tuple[Versioned, ...]:
    """Any ``Schemas`` as a tuple of Versioned (empty when there is none)."""
    if schemas is None:
        return ()
    if not isinstance(schemas, tuple):  # one schema (any class with a ``schema`` document)
        return (Versioned(schemas),)
    return schemas
