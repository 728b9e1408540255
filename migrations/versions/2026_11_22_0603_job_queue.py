"""job queue: the procrastinate schema that durable background jobs (payment runs) live in

procrastinate owns these tables and functions; its schema for the locked version is vendored in
``migrations/sql`` so a migration never depends on what is installed. Upgrading procrastinate means
a new revision that applies its migration scripts for the versions in between.

Revision ID: d80da03d57a3
Revises: bc081958e434
Create Date: 2026-11-22 06:03:17.330354+00:00
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "d80da03d57a3"
down_revision: str | None = "bc081958e434"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).parents[1] / "sql" / "procrastinate_3.10.0_schema.sql"


def upgrade() -> None:
    # On the driver's own cursor with no parameters at all: the script has $$-quoted bodies, casts
    # and literal % signs that a parameter style would misread.
    with op.get_bind().connection.cursor() as cursor:
        cursor.execute(SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    op.get_bind().exec_driver_sql(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status CASCADE;
        """
    )
    op.execute(
        "DO $$ DECLARE f record; BEGIN FOR f IN SELECT oid::regprocedure AS sig FROM pg_proc "
        "WHERE proname LIKE 'procrastinate%' LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE'; END LOOP; END $$"
    )
