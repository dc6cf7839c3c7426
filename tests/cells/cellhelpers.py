"""The cells_env fixture (synced API and cell databases on each backend) and helpers that
write instances, compute nodes and services the way the compute services will."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from stratus.cells import mappings, schema_cell, setup
from stratus.cells import schema_api as api
from stratus.cmd import manage
from stratus.common.db import make_engine, migration
from stratus.conf.database import DATABASES, group_name

# backend_conf gives seven fresh databases; these tests use the (otherwise unused) network
# database as the third cell database, "cell2", so PostgreSQL and MySQL need no extra setup.
CELL2_DATABASE = "network"


@dataclasses.dataclass
class CellsEnv:
    """Synced databases of one backend, and the engines to reach them."""

    conf: object
    tmp_path: Path
    urls: dict[str, str]
    engines: dict[str, sa.Engine]
    capsys: pytest.CaptureFixture

    @property
    def api(self) -> sa.Engine:
        return self.engines["api"]

    def cell_url(self, name: str) -> str:
        return self.urls[CELL2_DATABASE if name == "cell2" else name]

    def cell_engine(self, name: str) -> sa.Engine:
        return self.engines[CELL2_DATABASE if name == "cell2" else name]

    def manage(self, *argv: str) -> tuple[int, str]:
        """Run stratus-manage in this process; (exit status, stdout + stderr)."""
        self.capsys.readouterr()
        try:
            code = manage.main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out = self.capsys.readouterr()
        return code, out.out + out.err

    def map_cells(self, *names: str) -> dict[str, mappings.CellMapping]:
        """Map cell0 and the named cells; returns {name: mapping}."""
        found = {}
        with self.api.begin() as conn:
            found["cell0"], _ = setup.ensure_cell0(conn, self.urls["cell0"])
            for name in names:
                found[name], _ = setup.ensure_cell(conn, name=name, transport_url="fake://",
                                                   database_connection=self.cell_url(name))
        return found

    def cell_dbs(self, **kwargs) -> mappings.CellDatabases:
        return mappings.CellDatabases(self.api, cells_ttl_s=0, **kwargs)


def instance_row(**fields) -> dict:
    """A row of schema_cell.instances with defaults for what the test does not care about."""
    row = dict(uuid=str(uuid.uuid4()), display_name="vm", project_id="p1", user_id="u1",
               vm_state="active", power_state=1, flavor=json.dumps({"cur": {"name": "m1"}}),
               memory_mb=512, vcpus=1, root_gb=1, ephemeral_gb=0, deleted=0,
               created_at=api.utcnow())
    row.update(fields)
    return row


def add_instances(env: CellsEnv, cell: mappings.CellMapping | None, cell_name: str,
                  rows: list[dict], *, map_them: bool = True) -> None:
    """Write instances into a cell database and (unless map_them=False) their mappings."""
    with env.cell_engine(cell_name).begin() as conn:
        conn.execute(sa.insert(schema_cell.instances), rows)
    if map_them:
        with env.api.begin() as conn:
            conn.execute(sa.insert(api.instance_mappings), [
                dict(instance_uuid=r["uuid"], project_id=r["project_id"],
                     user_id=r["user_id"], cell_id=cell.id if cell else None,
                     queued_for_delete=bool(r.get("deleted")))
                for r in rows])


def add_compute_node(env: CellsEnv, cell_name: str, host: str, node: str | None = None) -> None:
    with env.cell_engine(cell_name).begin() as conn:
        conn.execute(sa.insert(schema_cell.compute_nodes).values(
            uuid=str(uuid.uuid4()), host=host, hypervisor_hostname=node or host,
            hypervisor_type="fake", vcpus=4, memory_mb=4096, local_gb=40))


def add_service(env: CellsEnv, cell_name: str, host: str, binary: str = "nova-compute") -> None:
    with env.cell_engine(cell_name).begin() as conn:
        conn.execute(sa.insert(schema_cell.services).values(
            uuid=str(uuid.uuid4()), host=host, binary=binary, topic="compute"))


@pytest.fixture
def cells_env(backend_conf, tmp_path, capsys) -> Iterator[CellsEnv]:
    """API, cell0, cell1 and cell2 databases at head, no mappings yet; stratus.conf names them."""
    urls = {name: backend_conf[group_name(name)].connection for name in DATABASES}
    lines = ["[DEFAULT]", f"state_dir = {tmp_path}", "transport_url = fake://", ""]
    for name, url in urls.items():
        lines += [f"[{group_name(name)}]", f"connection = {url}", ""]
    (tmp_path / "stratus.conf").write_text("\n".join(lines))
    engines = {name: make_engine(urls[name]) for name in ("api", "cell0", "cell1",
                                                          CELL2_DATABASE)}
    migration.sync("api", engines["api"])
    for name in ("cell0", "cell1", CELL2_DATABASE):
        migration.sync(setup.CELL_TREE, engines[name])
    env = CellsEnv(backend_conf, tmp_path, urls, engines, capsys)
    try:
        yield env
    finally:
        for engine in engines.values():
            engine.dispose()
