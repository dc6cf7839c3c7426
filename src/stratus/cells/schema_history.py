"""Create the baseline shape of a schema module: its tables minus what later revisions added.

A baseline revision calls ``create_baseline``; every later revision adds its own columns
explicitly. The rule that keeps the two in step: a revision that adds a column or index lists
it in the schema module's ``ADDED_AFTER_BASELINE`` (tests/unit/test_cells_schema.py checks a
database synced to head matches the schema module exactly).
"""

from __future__ import annotations

import sqlalchemy as sa


def baseline_metadata(metadata: sa.MetaData, added_after: dict[str, tuple[str, ...]],
                      later_tables: frozenset[str] = frozenset()) -> sa.MetaData:
    """A copy of ``metadata`` without the columns and indexes named in ``added_after`` and
    without the tables named in ``later_tables``."""
    baseline = sa.MetaData()
    for table in metadata.sorted_tables:
        if table.name in later_tables:
            continue
        left_out = set(added_after.get(table.name, ()))
        # Columns are copied; constraints and indexes are rebuilt by column name.
        args: list = [column._copy() for column in table.columns if column.name not in left_out]
        args += [sa.UniqueConstraint(*[c.name for c in constraint.columns], name=constraint.name)
                 for constraint in table.constraints
                 if isinstance(constraint, sa.UniqueConstraint)]
        args += [sa.ForeignKeyConstraint([c.name for c in fk.columns],
                                         [e.target_fullname for e in fk.elements],
                                         name=fk.name, ondelete=fk.ondelete)
                 for fk in table.foreign_key_constraints]
        for index in table.indexes:
            if index.name not in left_out:
                args.append(sa.Index(index.name, *[c.name for c in index.columns],
                                     unique=index.unique))
        sa.Table(table.name, baseline, *args)
    return baseline


def create_baseline(bind: sa.Connection, metadata: sa.MetaData,
                    added_after: dict[str, tuple[str, ...]],
                    later_tables: frozenset[str] = frozenset()) -> None:
    """Create every table of ``metadata`` in its baseline shape on ``bind``."""
    baseline_metadata(metadata, added_after, later_tables).create_all(bind)
