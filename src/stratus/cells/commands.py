"""``stratus-manage cell_v2``: set up and inspect cells, with nova-manage's exit codes.

Each command is a function ``(tool, args) -> exit status`` that prints what an operator
needs; the exit statuses are those nova-manage documents (listed in each docstring).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

import sqlalchemy as sa
from oslo_config import cfg

from stratus.cells import mappings, schema_cell, setup
from stratus.cells import schema_api as api
from stratus.cells.mappings import CellMapping, MappingNotFound
from stratus.cells.schema_cell import COMPUTE_BINARY
from stratus.common.db import make_engine

# map_instances works in batches of this size when --max-count is not given.
MAP_INSTANCES_BATCH = 50
BAD_INPUT = 127
INVALID = -1  # parse_max_count's answer to a value that is not a positive integer


class Tool:
    """What every cell_v2 command works with: configuration, API database, cell databases."""

    def __init__(self, conf: cfg.ConfigOpts, api_engine: sa.Engine):
        self.conf = conf
        self.api_engine = api_engine
        self.cell_dbs = mappings.CellDatabases(api_engine, cell_timeout_s=conf.cells.cell_timeout,
                                               cells_ttl_s=0)

    def close(self) -> None:
        self.cell_dbs.dispose()


# --- helpers -----------------------------------------------------------------------------

# What oslo.messaging's TransportURL.parse needs first: a driver scheme and "://".
_TRANSPORT_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SECRET_IN_URL = re.compile(r"(?P<user>[/,][^:/@,]*):(?P<secret>[^@/,]+)@")


def mask_url(url: str) -> str:
    """``url`` with each password replaced by ****."""
    return _SECRET_IN_URL.sub(lambda m: f"{m.group('user')}:****@", url)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """An ASCII table as nova-manage prints them."""
    widths = [max(len(str(v)) for v in column) for column in zip(headers, *rows, strict=False)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    render = lambda values: "| " + " | ".join(  # noqa: E731
        str(v).ljust(w) for v, w in zip(values, widths, strict=True)) + " |"
    return "\n".join([line, render(headers), line, *[render(r) for r in rows], line])


def parse_max_count(text: str | None, complaint: str) -> int | None:
    """--max-count as nova-manage takes it: None, a positive int, or INVALID (printed why)."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        print(complaint)
        return INVALID
    return value


def _transport_url(tool: Tool, given: str | None) -> str | None:
    """The transport URL to record (argument or [DEFAULT] transport_url), or None if invalid."""
    url = given or tool.conf.transport_url
    if not url:
        print("Must specify --transport-url if [DEFAULT]/transport_url is not set in the "
              "configuration file.")
        return None
    if not _TRANSPORT_URL.match(url):
        print(f"Invalid transport URL '{mask_url(url)}': expected driver://[user:pass@]host...")
        return None
    return url


def _database_url(given: str | None, default: str | None) -> str | None:
    url = given or default
    if not url:
        print("Must specify --database_connection if [cell1_database]/connection is not set "
              "in the configuration file.")
        return None
    try:
        sa.make_url(url)
    except sa.exc.ArgumentError:
        print(f"Invalid database connection '{mask_url(url)}'.")
        return None
    return url


def _cell_or_none(tool: Tool, cell_uuid: str) -> CellMapping | None:
    with tool.api_engine.connect() as conn:
        try:
            return mappings.get_cell_mapping(conn, cell_uuid)
        except MappingNotFound:
            return None


def _print_duplicate(other: CellMapping) -> None:
    print("The specified transport_url and/or database_connection combination already "
          f"exists for another cell with uuid {other.uuid}.")


# --- map_cell0, create/list/update/delete_cell --------------------------------------------

def map_cell0(tool: Tool, args: argparse.Namespace) -> int:
    """Map cell0. Exit 0 whether it was created now or already was."""
    url = _database_url(args.database_connection, tool.conf.cell0_database.connection)
    if url is None:
        return 1
    with tool.api_engine.begin() as conn:
        _, created = setup.ensure_cell0(conn, url)
    if not created:
        print("Cell0 is already setup")
    return 0


def create_cell(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0 created; 1 transport URL or database missing/invalid; 2 another cell has both."""
    transport_url = _transport_url(tool, args.transport_url)
    database_url = _database_url(args.database_connection, tool.conf.cell1_database.connection)
    if transport_url is None or database_url is None:
        return 1
    with tool.api_engine.begin() as conn:
        other = mappings.find_cell_mapping(conn, transport_url=transport_url,
                                           database_connection=database_url)
        if other is not None:
            _print_duplicate(other)
            return 2
        cell = mappings.create_cell_mapping(conn, name=args.name, transport_url=transport_url,
                                            database_connection=database_url,
                                            disabled=args.disabled)
    if args.verbose:
        print(cell.uuid)
    return 0


def list_cells(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0. Passwords in URLs are masked unless --verbose."""
    show = (lambda url: url) if args.verbose else mask_url
    with tool.api_engine.connect() as conn:
        cells = mappings.list_cell_mappings(conn)
    print(format_table(["Name", "UUID", "Transport URL", "Database Connection", "Disabled"],
                 [[c.name or "", c.uuid, show(c.transport_url), show(c.database_connection),
                   str(c.disabled)] for c in cells]))
    return 0


def update_cell(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0; 1 not found; 2 could not save; 3 transport+database of another cell;
    4 both --enable and --disable; 5 cell0 cannot be disabled."""
    if args.enable and args.disable:
        print("Cell cannot be disabled and enabled at the same time.")
        return 4
    cell = _cell_or_none(tool, args.cell_uuid)
    if cell is None:
        print(f"Cell with uuid {args.cell_uuid} was not found.")
        return 1
    if cell.is_cell0 and args.disable:
        print("Cell0 cannot be disabled.")
        return 5
    fields: dict = {}
    if args.name is not None:
        fields["name"] = args.name
    if args.transport_url is not None:
        if _transport_url(tool, args.transport_url) is None:
            return 2
        fields["transport_url"] = args.transport_url
    if args.database_connection is not None:
        if _database_url(args.database_connection, None) is None:
            return 2
        fields["database_connection"] = args.database_connection
    if args.enable or args.disable:
        fields["disabled"] = bool(args.disable)
    with tool.api_engine.begin() as conn:
        other = mappings.find_cell_mapping(
            conn, transport_url=fields.get("transport_url", cell.transport_url),
            database_connection=fields.get("database_connection", cell.database_connection))
        if other is not None and other.uuid != cell.uuid:
            _print_duplicate(other)
            return 3
        try:
            mappings.update_cell_mapping(conn, cell.uuid, **fields)
        except sa.exc.SQLAlchemyError as exc:
            print(f"Unable to update CellMapping: {str(exc).splitlines()[0]}")
            return 2
    return 0


def _instances_in_cell(tool: Tool, cell: CellMapping) -> tuple[int, int]:
    """(live, deleted) instances of the cell's database."""
    inst = schema_cell.instances
    with tool.cell_dbs.engine(cell).connect() as conn:
        rows = conn.execute(sa.select(inst.c.deleted != 0, sa.func.count())
                            .group_by(inst.c.deleted != 0)).all()
    counts = {bool(deleted): n for deleted, n in rows}
    return counts.get(False, 0), counts.get(True, 0)


def delete_cell(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0 deleted; 1 not found; 2 hosts mapped (no --force); 3 live instances;
    4 only deleted instances remain (no --force)."""
    cell = _cell_or_none(tool, args.cell_uuid)
    if cell is None:
        print(f"Cell with uuid {args.cell_uuid} was not found.")
        return 1
    with tool.api_engine.connect() as conn:
        hosts = mappings.list_host_mappings(conn, cell.id)
    if hosts and not args.force:
        print("There are existing hosts mapped to cell with uuid "
              f"{cell.uuid}. Use --force to delete them along with the cell.")
        return 2
    live, deleted = _instances_in_cell(tool, cell)
    if live:
        print(f"There are instances in cell with uuid {cell.uuid}.")
        return 3
    with tool.api_engine.begin() as conn:
        mapped = mappings.count_instance_mappings(conn, cell.id)
        if (deleted or mapped) and not args.force:
            print(f"There are instance mappings to cell with uuid {cell.uuid}, but all "
                  "instances have been deleted in the cell. Use --force to delete the "
                  "instance mappings along with the cell.")
            return 4
        conn.execute(sa.delete(api.instance_mappings)
                     .where(api.instance_mappings.c.cell_id == cell.id))
        conn.execute(sa.delete(api.host_mappings).where(api.host_mappings.c.cell_id == cell.id))
        mappings.delete_cell_mapping(conn, cell.uuid)
    return 0


# --- hosts -------------------------------------------------------------------------------

def _unmapped_hosts(tool: Tool, cell: CellMapping, by_service: bool) -> list[tuple[str, list]]:
    """(host, compute node ids to flag mapped) the cell has and the API may not know."""
    with tool.cell_dbs.engine(cell).connect() as conn:
        if by_service:
            svc = schema_cell.services
            hosts = conn.execute(sa.select(svc.c.host).distinct().where(
                svc.c.binary == COMPUTE_BINARY, svc.c.deleted == 0)).scalars().all()
            return [(host, []) for host in sorted(hosts)]
        nodes = schema_cell.compute_nodes
        rows = conn.execute(sa.select(nodes.c.id, nodes.c.host).where(
            nodes.c.mapped == 0, nodes.c.deleted == 0).order_by(nodes.c.host, nodes.c.id)).all()
    grouped: dict[str, list] = {}
    for node_id, host in rows:
        grouped.setdefault(host, []).append(node_id)
    return list(grouped.items())


def _discover_in_cell(tool: Tool, cell: CellMapping, by_service: bool,
                      say: Callable[[str], None]) -> tuple[list[str], list[str]]:
    """Map the cell's new hosts; (hosts mapped now, hosts already mapped to another cell)."""
    say(f"Getting computes from cell '{cell.name}': {cell.uuid}")
    candidates = _unmapped_hosts(tool, cell, by_service)
    with tool.api_engine.connect() as conn:
        known = {h: mappings.get_host_mapping(conn, h).cell.uuid
                 for h in mappings.mapped_hosts(conn, [h for h, _ in candidates])}
    say(f"Found {sum(1 for h, _ in candidates if h not in known)} unmapped computes in cell: "
        f"{cell.uuid}")
    mapped, conflicts = [], []
    for host, node_ids in candidates:
        say(f"Checking host mapping for compute host '{host}': {cell.uuid}")
        owner = known.get(host)
        if owner is None:
            say(f"Creating host mapping for compute host '{host}': {cell.uuid}")
            try:
                mappings.create_host_mapping(tool.api_engine, host, cell.id)
                mapped.append(host)
            except mappings.HostMappingExists:
                # Another discover_hosts got there first; fine if it chose this cell.
                with tool.api_engine.connect() as conn:
                    owner = mappings.get_host_mapping(conn, host).cell.uuid
        if owner is not None and owner != cell.uuid:
            conflicts.append(host)
            continue
        if node_ids:
            with tool.cell_dbs.engine(cell).begin() as conn:
                conn.execute(sa.update(schema_cell.compute_nodes)
                             .where(schema_cell.compute_nodes.c.id.in_(node_ids))
                             .values(mapped=1))
    return mapped, conflicts


def discover_hosts(tool: Tool, args: argparse.Namespace) -> int:
    """Map compute hosts not yet mapped. Exit 0 (with --strict: only if a host was mapped);
    1 --strict and nothing new, or a cell could not be read; 2 a host is mapped to another
    cell (two runs collided or a host moved): safe to re-run once settled."""
    say = print if args.verbose else (lambda _msg: None)
    with tool.api_engine.connect() as conn:
        if args.cell_uuid:
            try:
                cells = [mappings.get_cell_mapping(conn, args.cell_uuid)]
            except MappingNotFound as exc:
                print(exc)
                return 1
        else:
            cells = mappings.list_cell_mappings(conn)
    say(f"Found {len(cells)} cell mappings.")
    mapped: list[str] = []
    conflicts: list[str] = []
    for cell in cells:
        if cell.is_cell0:
            say("Skipping cell0 since it does not contain hosts.")
            continue
        try:
            new, clash = _discover_in_cell(tool, cell, args.by_service, say)
        except sa.exc.SQLAlchemyError as exc:
            print(f"ERROR: cell {cell.label} could not be read: "
                  f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}")
            return 1
        mapped += new
        conflicts += clash
    if conflicts:
        print("ERROR: Duplicate host mapping was encountered for "
              f"{', '.join(sorted(conflicts))}. This command should be run once after all "
              "compute hosts have been deployed and should not be run in parallel.")
        return 2
    if args.strict and not mapped:
        return 1
    return 0


def list_hosts(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0; 1 --cell_uuid names no cell."""
    cell_id = None
    if args.cell_uuid:
        cell = _cell_or_none(tool, args.cell_uuid)
        if cell is None:
            print(f"Cell with uuid {args.cell_uuid} was not found.")
            return 1
        cell_id = cell.id
    with tool.api_engine.connect() as conn:
        hosts = mappings.list_host_mappings(conn, cell_id)
    print(format_table(["Cell Name", "Cell UUID", "Hostname"],
                 [[h.cell.name or "", h.cell.uuid, h.host] for h in hosts]))
    return 0


def delete_host(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0; 1 cell not found; 2 host not mapped; 3 host mapped to another cell;
    4 the host still has instances."""
    cell = _cell_or_none(tool, args.cell_uuid)
    if cell is None:
        print(f"Cell with uuid {args.cell_uuid} was not found.")
        return 1
    with tool.api_engine.connect() as conn:
        try:
            host = mappings.get_host_mapping(conn, args.host)
        except MappingNotFound:
            print(f"The host {args.host} was not found.")
            return 2
    if host.cell.uuid != cell.uuid:
        print(f"The host {args.host} was not found in the cell {cell.uuid}.")
        return 3
    inst = schema_cell.instances
    with tool.cell_dbs.engine(cell).begin() as conn:
        if conn.execute(sa.select(inst.c.id).where(inst.c.host == args.host,
                                                   inst.c.deleted == 0).limit(1)).first():
            print(f"There are instances on the host {args.host}.")
            return 4
        # Let a later discover_hosts map the host's nodes again.
        conn.execute(sa.update(schema_cell.compute_nodes)
                     .where(schema_cell.compute_nodes.c.host == args.host).values(mapped=0))
    with tool.api_engine.begin() as conn:
        mappings.delete_host_mapping(conn, args.host)
    return 0


# --- cell of one: map_cell_and_hosts, simple_cell_setup ------------------------------------

def _map_local_cell_and_hosts(tool: Tool, transport_url: str, name: str | None,
                              verbose: bool) -> CellMapping | None:
    """Map the local cell ([cell1_database]) and its compute hosts; None if it has none."""
    database_url = tool.conf.cell1_database.connection
    engine = make_engine(database_url)
    try:
        return _map_hosts_of(tool, engine, database_url, transport_url, name, verbose)
    finally:
        engine.dispose()


def _map_hosts_of(tool: Tool, engine: sa.Engine, database_url: str, transport_url: str,
                  name: str | None, verbose: bool) -> CellMapping | None:
    nodes = schema_cell.compute_nodes
    with engine.connect() as conn:
        hosts = set(conn.execute(sa.select(nodes.c.host).where(nodes.c.deleted == 0)).scalars())
    if not hosts:
        print("No hosts found to map to cell, exiting.")
        return None
    with tool.api_engine.begin() as conn:
        known = mappings.mapped_hosts(conn, hosts)
        cell = None
        for host in sorted(known):
            cell = mappings.get_host_mapping(conn, host).cell
            if verbose:
                print(f"Host {host} is already mapped to cell {cell.uuid}")
        if known == hosts:
            print("All hosts are already mapped to cell(s).")
            return cell
        if cell is None:
            cell, _ = setup.ensure_cell(conn, name=name or "cell1",
                                        transport_url=transport_url,
                                        database_connection=database_url)
    for host in sorted(hosts - known):
        try:
            mappings.create_host_mapping(tool.api_engine, host, cell.id)
        except mappings.HostMappingExists:
            pass  # mapped meanwhile by a concurrent run
    with engine.begin() as conn:
        conn.execute(sa.update(nodes).where(nodes.c.host.in_(hosts)).values(mapped=1))
    if verbose:
        print(cell.uuid)
    return cell


def map_cell_and_hosts(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0 (also when there are no hosts yet); 1 transport URL missing/invalid."""
    transport_url = _transport_url(tool, args.transport_url)
    if transport_url is None:
        return 1
    _map_local_cell_and_hosts(tool, transport_url, args.name, args.verbose)
    return 0


def simple_cell_setup(tool: Tool, args: argparse.Namespace) -> int:
    """cell0, the local cell, its hosts and instances in one go. Exit 0 done (or already);
    1 transport URL missing/invalid, or no compute hosts yet."""
    transport_url = _transport_url(tool, args.transport_url)
    if transport_url is None:
        return 1
    with tool.api_engine.begin() as conn:
        cell0, created = setup.ensure_cell0(conn, tool.conf.cell0_database.connection)
    if not created:
        print("Cell0 is already setup")
    setup.sync_cell_database(cell0.database_connection)
    cell = _map_local_cell_and_hosts(tool, transport_url, None, False)
    if cell is None:
        return 1
    marker = None
    while True:
        _, marker = _map_instance_batch(tool, cell, MAP_INSTANCES_BATCH, marker)
        if marker is None:
            return 0


# --- instances: map_instances, verify_instance --------------------------------------------

def _stored_marker(conn: sa.Connection) -> tuple[int | None, str | None]:
    """(row id, instance uuid) of map_instances' saved resume point, if any."""
    im = api.instance_mappings
    row = conn.execute(sa.select(im.c.id, im.c.instance_uuid).where(
        im.c.project_id == mappings.INSTANCE_MIGRATION_MARKER)).first()
    if row is None:
        return None, None
    return row.id, row.instance_uuid.replace(" ", "-")


def _map_instance_batch(tool: Tool, cell: CellMapping, count: int,
                        marker: str | None) -> tuple[int, str | None]:
    """Map up to ``count`` instances after ``marker`` (oldest first, deleted ones too).

    Returns (instances mapped now, marker to resume from or None when the cell is done).
    """
    inst = schema_cell.instances
    query = sa.select(inst.c.id, inst.c.uuid, inst.c.project_id, inst.c.user_id)
    with tool.cell_dbs.engine(cell).connect() as conn:
        if marker is not None:
            after = conn.execute(sa.select(inst.c.id).where(inst.c.uuid == marker)).scalar()
            query = query.where(inst.c.id > (after or 0))
        rows = conn.execute(query.order_by(inst.c.id).limit(count)).all()
    if not rows:
        return 0, None
    with tool.api_engine.begin() as conn:
        known = mappings.get_instance_mappings(conn, [r.uuid for r in rows])
        new = [dict(instance_uuid=r.uuid, project_id=r.project_id, user_id=r.user_id,
                    cell_id=cell.id, queued_for_delete=False)
               for r in rows if r.uuid not in known]
        if new:
            conn.execute(sa.insert(api.instance_mappings), new)
    return len(new), (rows[-1].uuid if len(rows) == count else None)


def map_instances(tool: Tool, args: argparse.Namespace) -> int:
    """Map a cell's instances. Exit 0 all mapped; 1 more remain (run again: it resumes);
    127 bad --max-count; 255 the cell does not exist."""
    max_count = parse_max_count(args.max_count, "Must be greater than 0")
    if max_count == INVALID:
        return BAD_INPUT
    cell = _cell_or_none(tool, args.cell_uuid)
    if cell is None:
        print(f"Cell with uuid {args.cell_uuid} was not found.")
        return 255
    with tool.api_engine.begin() as conn:
        marker_id, marker = _stored_marker(conn)
        if marker_id is not None:
            conn.execute(sa.delete(api.instance_mappings)
                         .where(api.instance_mappings.c.id == marker_id))
    if args.reset:
        marker = None
    batch = max_count or MAP_INSTANCES_BATCH
    while True:
        _, marker = _map_instance_batch(tool, cell, batch, marker)
        if marker is None or max_count is not None:
            break
    if marker is None:
        return 0
    # Saved as a fake mapping whose uuid cannot be an instance's (spaces for dashes).
    with tool.api_engine.begin() as conn:
        conn.execute(sa.insert(api.instance_mappings).values(
            instance_uuid=marker.replace("-", " "),
            project_id=mappings.INSTANCE_MIGRATION_MARKER, cell_id=None))
    return 1


def verify_instance(tool: Tool, args: argparse.Namespace) -> int:
    """Exit 0 mapped to a cell holding it; 1 no mapping; 2 mapping without a cell;
    3 deleted but still mapped; 4 mapped but gone from the cell (archived)."""
    say = (lambda _msg: None) if args.quiet else print
    with tool.api_engine.connect() as conn:
        try:
            mapping = mappings.get_instance_mapping(conn, args.uuid)
        except MappingNotFound:
            say(f"Instance {args.uuid} is not mapped to a cell (upgrade is incomplete) or "
                "instance does not exist")
            return 1
    if mapping.cell is None:
        say(f"Instance {args.uuid} is not mapped to a cell")
        return 2
    inst = schema_cell.instances
    with tool.cell_dbs.engine(mapping.cell).connect() as conn:
        deleted = conn.execute(sa.select(inst.c.deleted).where(inst.c.uuid == args.uuid)).first()
    if deleted is None:
        say(f"The instance {args.uuid} has been archived but still has an instance mapping")
        return 4
    if deleted[0]:
        say(f"The instance {args.uuid} has been deleted but still has an instance mapping")
        return 3
    say(f"Instance {args.uuid} is in cell: {mapping.cell.name} ({mapping.cell.uuid})")
    return 0
