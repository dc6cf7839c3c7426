"""One [<name>_database] group per logical database; all default to SQLite in the state dir."""

from oslo_config import cfg

# The logical databases Stratus keeps, in the order `db sync` visits them.
DATABASES = ("identity", "api", "cell0", "cell1", "placement", "image", "network")


# Services reach cells through their mappings; every cell's pool is sized as cell1's.
_CELLS_NOTE = {"cell1": " Also sizes the pools the services open to the other mapped cells."}


def _opts(name: str) -> list[cfg.Opt]:
    return [
        cfg.StrOpt("connection", secret=True,
                   default=f"sqlite:///$state_dir/{name}.sqlite",
                   help=f"SQLAlchemy URL of the {name} database: sqlite:///PATH, "
                        "postgresql+psycopg://USER@HOST/DB or mysql+pymysql://USER@HOST/DB"),
        cfg.IntOpt("pool_size", default=10, min=1,
                   help="Connections kept open." + _CELLS_NOTE.get(name, "")),
        cfg.IntOpt("max_overflow", default=20, min=0,
                   help="Connections beyond pool_size." + _CELLS_NOTE.get(name, "")),
        cfg.IntOpt("busy_timeout_ms", default=30000, min=0,
                   help="SQLite only: how long a writer waits for the database lock."),
        cfg.BoolOpt("connection_debug", default=False, help="Log every SQL statement."),
    ]


def group_name(name: str) -> str:
    return f"{name}_database"


GROUPS = [(group_name(name), _opts(name)) for name in DATABASES]
