"""Cells v2 options: how long a cell may take to answer, where extra cells' databases live."""

from oslo_config import cfg

cells_opts = [
    cfg.FloatOpt("cell_timeout", default=60.0, min=0.1,
                 help="Seconds a cross-cell operation (server list, quota count) waits for "
                      "each cell; a cell slower than this is left out and logged."),
    cfg.StrOpt("database_connection_pattern", default=None, secret=True,
               help="Database URL of cell N for cells beyond [cell1_database], with {n} "
                    "for the cell number, e.g. sqlite:///$state_dir/cell{n}.sqlite or "
                    "postgresql+psycopg://stratus@db/stratus_cell{n}. Default: the "
                    "[cell1_database] URL with its last 'cell1' replaced by 'cell{n}'."),
    cfg.IntOpt("all_in_one_cells", default=1, min=1, max=64,
               help="How many cells (besides cell0) the all-in-one maps and syncs on start "
                    "(stratus all-in-one --cells N)."),
]

GROUPS = [("cells", cells_opts)]
