"""Cells v2: the API database, cell databases, mappings and their migrations.

What the compute API builds on (all SQLAlchemy Core; no HTTP here):

- ``schema_api`` / ``schema_cell``: the tables. API DB: cell/host/instance mappings,
  request_specs, build_requests (``instance`` is JSON), flavors (+extra specs, projects),
  key_pairs, quotas, server groups, aggregates. Cell DB: instances (soft delete:
  ``deleted`` = id, 0 while live; ``flavor`` JSON plus memory_mb/vcpus/root_gb/ephemeral_gb
  columns for quota sums), faults, actions/events, metadata, system metadata, tags,
  migrations, services, compute_nodes. ``CELL0_UUID`` names cell0.
- ``mappings``: data functions taking an API-DB ``sa.Connection`` (you pick the transaction):
  ``list_cell_mappings``, ``get_cell_mapping``, ``get_instance_mapping(s)`` (with its cell,
  or ``cell=None`` while a build request), ``create_instance_mapping``, ``set_instance_cell``,
  ``set_queued_for_delete``, ``delete_instance_mapping``, ``cell_ids_with_instances``,
  ``get_host_mapping``. ``CellDatabases(api_engine, cell_timeout_s=conf.cells.cell_timeout)``
  is the per-process cache of cell engines: ``cells()``, ``engine(cell)``, and
  ``scatter_gather(cells, fn(cell, engine), timeout)`` -> ``{cell_uuid: result | CellTimeout
  | CellFailed}`` (check with ``is_cell_failure``; failures are already logged).
- ``listing.list_instances(cell_dbs, where=[...], sort_keys=[("display_name", "asc")],
  limit=, marker=uuid | marker_values=)`` -> ``InstanceList(records=[CellRecord(cell, row)],
  down_cells=[...])``: merge-sorted keyset paging across cells, uuid as final tiebreaker;
  raises ``MarkerNotFound`` (answer 400) and ``ValueError`` for a bad sort key/direction.
- ``setup``: ``cell_database_url(conf, n)``, ``ensure_cell0``/``ensure_cell``,
  ``ensure_numbered_cells`` (the all-in-one's cell0 + N cells).
"""
