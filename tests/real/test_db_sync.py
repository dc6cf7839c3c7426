"""``stratus-manage db sync`` / ``db version``, run as the installed console script, per backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from stratus.common.db import make_engine, migration
from stratus.conf.database import DATABASES, group_name
from stratus.identity import schema as identity_schema

# The console script of the interpreter running the tests (.venv or .venv-ci).
MANAGE = str(Path(sys.executable).parent / "stratus-manage")


def write_config(tmp_path: Path, urls: dict[str, str]) -> Path:
    lines = ["[DEFAULT]", f"state_dir = {tmp_path}", ""]
    for name, url in urls.items():
        lines += [f"[{group_name(name)}]", f"connection = {url}", ""]
    path = tmp_path / "stratus-test.conf"
    path.write_text("\n".join(lines))
    return path


def manage(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MANAGE, "--config-file", str(config), *args], cwd=config.parent,
                          capture_output=True, text=True, timeout=120)


def revisions(urls: dict[str, str]) -> dict[str, str | None]:
    found = {}
    for name, url in urls.items():
        engine = make_engine(url)
        try:
            found[name] = migration.current(engine)
        finally:
            engine.dispose()
    return found


def identity_shape(url: str) -> dict[str, list[tuple]]:
    """Tables, columns (name, type, nullability), unique constraints and foreign keys."""
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        shape = {}
        for table in inspector.get_table_names():
            columns = [(c["name"], str(c["type"]), c["nullable"])
                       for c in inspector.get_columns(table)]
            uniques = [tuple(sorted(u["column_names"]))
                       for u in inspector.get_unique_constraints(table)]
            fks = [(tuple(f["constrained_columns"]), f["referred_table"])
                   for f in inspector.get_foreign_keys(table)]
            shape[table] = sorted(columns) + sorted(uniques) + sorted(fks)
        return shape
    finally:
        engine.dispose()


def output_lines(result: subprocess.CompletedProcess) -> dict[str, str]:
    """stdout lines of db sync / db version, keyed by the database name they start with."""
    return {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}


def test_db_sync_brings_every_database_to_head(tmp_path, backend_urls):
    result = manage(write_config(tmp_path, backend_urls), "db", "sync")

    assert result.returncode == 0, result.stderr
    assert revisions(backend_urls) == {name: migration.head(name) for name in DATABASES}
    lines = output_lines(result)
    assert sorted(lines) == sorted(DATABASES)
    assert all("upgraded from empty" in line for line in lines.values()), result.stdout
    assert set(identity_schema.metadata.tables) <= set(identity_shape(backend_urls["identity"]))


def test_second_db_sync_is_a_no_op(tmp_path, backend_urls):
    config = write_config(tmp_path, backend_urls)
    assert manage(config, "db", "sync").returncode == 0
    revisions_before = revisions(backend_urls)
    shape_before = identity_shape(backend_urls["identity"])

    result = manage(config, "db", "sync")

    assert result.returncode == 0, result.stderr
    lines = output_lines(result)
    assert sorted(lines) == sorted(DATABASES)
    assert all("(up to date)" in line for line in lines.values()), result.stdout
    assert revisions(backend_urls) == revisions_before
    assert identity_shape(backend_urls["identity"]) == shape_before


def test_db_sync_named_database_syncs_only_that_one(tmp_path, backend_urls):
    result = manage(write_config(tmp_path, backend_urls), "db", "sync", "identity")

    assert result.returncode == 0, result.stderr
    assert list(output_lines(result)) == ["identity"]
    expected = {name: None for name in DATABASES}
    expected["identity"] = migration.head("identity")
    assert revisions(backend_urls) == expected


def test_db_version_prints_each_revision_and_exits_0(tmp_path, backend_urls):
    config = write_config(tmp_path, backend_urls)
    assert manage(config, "db", "sync", "identity").returncode == 0

    result = manage(config, "db", "version")

    assert result.returncode == 0, result.stderr
    lines = output_lines(result)
    assert sorted(lines) == sorted(DATABASES)
    assert lines["identity"].split()[1] == migration.head("identity")
    for name in DATABASES[1:]:
        assert "not synced" in lines[name], lines[name]


def test_migrated_identity_schema_matches_schema_module(backend_conf):
    """The identity migration and ``identity/schema.py`` describe the same tables.

    Autogenerate compares types too, so a column whose type differs between the two
    (say String(64) vs String(255)) is drift, not noise.
    """
    engine = make_engine(backend_conf[group_name("identity")].connection)
    try:
        migration.sync("identity", engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, identity_schema.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_db_sync_unknown_database_is_a_usage_error(tmp_path):
    result = manage(write_config(tmp_path, {}), "db", "sync", "nosuchdb")

    assert result.returncode == 2
    assert "invalid choice: 'nosuchdb'" in result.stderr
    assert result.stderr.startswith("usage: stratus-manage")


def test_db_sync_unreachable_server_exits_1_with_one_line(tmp_path):
    # Port 1 refuses at once, so the test does not wait on a connect timeout.
    urls = {"identity": "postgresql+psycopg://postgres@127.0.0.1:1/stratus_identity",
            "api": "mysql+pymysql://root@127.0.0.1:1/stratus_api"}
    config = write_config(tmp_path, urls)

    for name in urls:
        result = manage(config, "db", "sync", name)

        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("stratus-manage: ")
