"""Settled months out of the row store, measured before anything is built (decision 0035): what it
would save, and what it would cost the reads that need them.

    .venv/bin/python -m benchmarks.archive --persons 145000 [--lookups 2000] [--runs 3] [--bytes-only]

On the national year (`benchmarks/national.py build`), which it reads and does not change. The
archived payments are those of the settled months: due before the month of the country's date, in a
final state. Every layout is built compactly, in scratch tables and files removed afterwards:

- **Parquet** (zstd), sorted by payee and due date as a citizen's page reads them, with row groups
  of 100,000 and of 10,000 payments.
- **A person's year as one row** in PostgreSQL, its payments compressed together (TOAST, pglz): as
  JSON, and as an array of the payments table's own rows.
- **What PostgreSQL keeps beside them:** the other payments, in a table with every index of the
  payments table; of the archived ones, either the payer's reference alone (unique: a payer sending
  an old reference again is refused), or the keys the payer's reads need (the id, the payer's
  listing, the reference, each indexed as today); or, for layout D, lean keys: the payer's listing
  as the primary key (also read for an id alone, by PostgreSQL 18's skip scan), the payee, and an
  8-byte digest of the reference; or the same with the reference itself, also with the payer and
  the payee as 4-byte integers beside a person's year rows that leave the reference to the keys.
  With --bytes-only, the bytes alone, without the reads.

For each: bytes an archived payment, and a person's archived payments read --lookups times for
random persons on one thread (DuckDB in process for Parquet, psycopg for PostgreSQL): p50, p99 and
reads a second, beside the same read from today's payments table; a page of a payer's listing and
one payment by id alone from the Parquet file by payer, and the same with a registration's check of
an archived reference through the lean keys and the person's year rows. Then layout D read through
views, beside today's table: a person's payments (one view of the payments that stay and the
archived ones), a page of a payer's listing and one payment by id (a page, or the payment, from the
payments that stay and from a view of the archived ones by payer). The
status history is not part of it."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg.types.composite import CompositeInfo, register_composite

from benchmarks.common import median, migrated_database, report, time_each
from benchmarks.national import AS_OF, database
from saldo.db.engine import resolve_database_url

FINAL = ("settled", "returned", "rejected", "cancelled", "reported")
ROW_GROUPS = (100_000, 10_000)
SCRATCH = (
    "archive_probe_live",
    "archive_probe_references",
    "archive_probe_reference_digests",
    "archive_probe_keys",
    "archive_probe_years_json",
    "archive_probe_years_rows",
    "archive_probe_lean_keys",
    "archive_probe_lean_keys_references",
    "archive_probe_narrow_keys_references",
    "archive_probe_years_rows_unreferenced",
)
_DUCKDB_TYPES = {"bigint": "BIGINT", "integer": "INTEGER", "date": "DATE", "timestamp with time zone": "TIMESTAMPTZ"}
_FINAL_LIST = ", ".join(f"'{status}'" for status in FINAL)
# Layout D read through views as a reader of today's payments table would read it: the payments that
# stay and the archived ones by payee; the archived ones by payer or id
EVERY_PAYMENT = {"payee": "archive_probe_every_payment_by_payee", "payer": "archive_probe_archived_by_payer"}
_COLUMNS = (
    "SELECT attname FROM pg_attribute WHERE attrelid = 'payments'::regclass AND attnum > 0 AND NOT attisdropped "
    "ORDER BY attnum"
)
PAGE = "WHERE payer_id = {} AND id > {} ORDER BY id LIMIT 100"  # a page of a payer's listing from a cursor
REFERENCE_DIGEST = "('x' || left(md5(reference), 16))::bit(64)::bigint"
ARCHIVED = f"due_date < DATE '{AS_OF.replace(day=1).isoformat()}' AND status IN ({_FINAL_LIST})"


def _scalar(connection: psycopg.Connection[Any], sql: str) -> int:
    row = connection.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


def write_parquet(connection: psycopg.Connection[Any], folder: Path) -> tuple[dict[int, Path], Path]:
    """The archived payments as CSV from PostgreSQL, then Parquet through DuckDB: by payee, one file
    for each row group size; and by payer and id, for a payer's listing."""
    columns = connection.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = 'payments'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    ).fetchall()
    raw = folder / "archived.csv"
    with (
        raw.open("wb") as out,
        connection.cursor().copy(
            f"COPY (SELECT * FROM payments WHERE {ARCHIVED}) TO STDOUT WITH (FORMAT csv)"  # type: ignore[arg-type]
        ) as copy,
    ):
        for chunk in copy:
            out.write(chunk)
    spec = "{" + ", ".join(f"'{name}': '{_DUCKDB_TYPES.get(kind, 'VARCHAR')}'" for name, kind in columns) + "}"
    files = {}
    with duckdb.connect() as duck:
        duck.execute(f"CREATE TABLE archived AS SELECT * FROM read_csv('{raw}', header = false, columns = {spec})")
        for size in ROW_GROUPS:
            files[size] = folder / f"archived_{size}.parquet"
            duck.execute(
                f"COPY (SELECT * FROM archived ORDER BY payee_id, due_date) TO '{files[size]}' "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {size})"
            )
        by_payer = folder / "archived_by_payer.parquet"
        duck.execute(
            f"COPY (SELECT * FROM archived ORDER BY payer_id, id) TO '{by_payer}' "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {min(ROW_GROUPS)})"
        )
    raw.unlink()
    return files, by_payer


def build_tables(connection: psycopg.Connection[Any]) -> dict[str, int]:
    """The scratch tables, built compactly; the bytes of each with its indexes and TOAST."""
    drop_tables(connection)
    statements = [
        f"CREATE TABLE archive_probe_live AS SELECT * FROM payments WHERE NOT ({ARCHIVED})",
        f"CREATE TABLE archive_probe_references AS SELECT payer_id, reference FROM payments WHERE {ARCHIVED}",
        "CREATE UNIQUE INDEX ON archive_probe_references (payer_id, reference)",
        # the same uniqueness on a 16-byte digest of the reference (MD5: a collision refuses a new
        # payment, never loses one, and is not expected below 2^64 references of a payer)
        "CREATE TABLE archive_probe_reference_digests AS SELECT payer_id, CAST(md5(reference) AS uuid) AS digest "
        f"FROM payments WHERE {ARCHIVED}",
        "CREATE UNIQUE INDEX ON archive_probe_reference_digests (payer_id, digest)",
        f"CREATE TABLE archive_probe_keys AS SELECT id, payer_id, reference, payee_id FROM payments WHERE {ARCHIVED}",
        "ALTER TABLE archive_probe_keys ADD PRIMARY KEY (id)",
        "CREATE UNIQUE INDEX ON archive_probe_keys (payer_id, reference)",
        "CREATE INDEX ON archive_probe_keys (payer_id, id)",
        # Layout D's keys: the payer's listing as the primary key, which PostgreSQL 18's skip scan
        # also reads for an id alone (a few hundred payers), the payee to find the person's year row
        # by, and the reference's uniqueness on an 8-byte digest (a collision is told apart by the
        # reference in the person's year row, so it refuses nothing new).
        "CREATE TABLE archive_probe_lean_keys AS SELECT payer_id, id, payee_id, "
        f"{REFERENCE_DIGEST} AS reference_digest FROM payments WHERE {ARCHIVED} ORDER BY payer_id, id",
        "ALTER TABLE archive_probe_lean_keys ADD PRIMARY KEY (payer_id, id)",
        "CREATE INDEX ON archive_probe_lean_keys (payer_id, reference_digest)",
        # the same with the reference itself, which a search by its beginning needs
        "CREATE TABLE archive_probe_lean_keys_references AS SELECT payer_id, id, payee_id, reference "
        f"FROM payments WHERE {ARCHIVED} ORDER BY payer_id, id",
        "ALTER TABLE archive_probe_lean_keys_references ADD PRIMARY KEY (payer_id, id)",
        "CREATE UNIQUE INDEX ON archive_probe_lean_keys_references (payer_id, reference)",
        # narrower still: the payer and the payee as 4-byte integers (ids well below 2^31), the
        # columns in the order that leaves no padding
        "CREATE TABLE archive_probe_narrow_keys_references AS SELECT id, payee_id::int AS payee_id, "
        f"payer_id::int AS payer_id, reference FROM payments WHERE {ARCHIVED} ORDER BY payer_id, id",
        "ALTER TABLE archive_probe_narrow_keys_references ADD PRIMARY KEY (payer_id, id)",
        "CREATE UNIQUE INDEX ON archive_probe_narrow_keys_references (payer_id, reference)",
        # a person's year as rows with the reference left to the keys (a view takes it from there)
        "CREATE TABLE archive_probe_years_rows_unreferenced (payee_id bigint, year int, payments payments[], "
        "PRIMARY KEY (payee_id, year)) WITH (toast_tuple_target = 128)",
        "INSERT INTO archive_probe_years_rows_unreferenced SELECT payee_id, extract(year FROM due_date)::int, "
        """array_agg(jsonb_populate_record(p, '{"reference": null}') ORDER BY due_date, id) """
        f"FROM payments p WHERE {ARCHIVED} GROUP BY 1, 2",
    ]
    for layout, payments in (("json", "jsonb"), ("rows", "payments[]")):
        aggregate = (
            "jsonb_agg(to_jsonb(p) ORDER BY due_date, id)" if layout == "json" else "array_agg(p ORDER BY due_date, id)"
        )
        statements += [
            # a row's values are compressed once they pass 128 bytes, not the default 2 kB
            f"CREATE TABLE archive_probe_years_{layout} (payee_id bigint, year int, payments {payments}, "
            "PRIMARY KEY (payee_id, year)) WITH (toast_tuple_target = 128)",
            f"INSERT INTO archive_probe_years_{layout} SELECT payee_id, extract(year FROM due_date)::int, {aggregate} "
            f"FROM payments p WHERE {ARCHIVED} GROUP BY 1, 2",
        ]
    definitions = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'payments' ORDER BY 1"
    ).fetchall()
    statements += [
        definition.replace(f"INDEX {name} ON public.payments", f"INDEX probe_{name} ON public.archive_probe_live", 1)
        for name, definition in definitions
    ]
    for statement in statements:
        connection.execute(statement)  # type: ignore[arg-type]
    connection.execute(f"VACUUM ANALYZE {', '.join(SCRATCH)}")  # type: ignore[arg-type]
    columns = [name for (name,) in connection.execute(_COLUMNS)]  # type: ignore[arg-type]

    def taking(keyed: set[str], key: str) -> str:  # a reader's condition on a key column reaches its index
        return ", ".join(f"{key}.{c}" if c in keyed else f"p.{c}" for c in columns)

    # a citizen's reads: the person's year rows by the payee, taken apart
    connection.execute(
        f"CREATE VIEW {EVERY_PAYMENT['payee']} AS SELECT * FROM archive_probe_live UNION ALL "  # type: ignore[arg-type]
        f"SELECT {taking({'payee_id'}, 'y')} FROM archive_probe_years_rows y, unnest(y.payments) p"
    )
    # a payer's and a bank's reads of the archived payments: the keys in their order, then each
    # payment from its person's row. Not in one view with the payments that stay: the planner then
    # reads every key of the payer before a page's first, so a reader takes its page from each.
    connection.execute(
        f"CREATE VIEW {EVERY_PAYMENT['payer']} AS "  # type: ignore[arg-type]
        f"SELECT {taking({'id', 'payer_id', 'payee_id'}, 'k')} FROM archive_probe_lean_keys k, LATERAL ("
        "SELECT p.* FROM archive_probe_years_rows y, unnest(y.payments) p "
        # LIMIT 1 (a key has one payment) keeps the planner from flattening the lateral read into a
        # join that reads every key of the payer before the page's first
        "WHERE y.payee_id = k.payee_id AND p.id = k.id LIMIT 1) p"
    )
    return {table: _scalar(connection, f"SELECT pg_total_relation_size('{table}')") for table in SCRATCH}


def drop_tables(connection: psycopg.Connection[Any]) -> None:
    connection.execute(f"DROP VIEW IF EXISTS {', '.join(EVERY_PAYMENT.values())}")  # type: ignore[arg-type]
    connection.execute(f"DROP TABLE IF EXISTS {', '.join(SCRATCH)} CASCADE")  # type: ignore[arg-type]


def _timed(
    read: Callable[[Any], int], items: list[Any], count: int, runs: int, chooser: random.Random
) -> dict[str, Any]:
    per_run = []
    for _ in range(runs):
        timed = time_each(read, chooser.sample(items, count))
        per_run.append(timed | {"payments_found": timed.pop("found")})
    return {
        "runs": per_run,
        **{key: median([run[key] for run in per_run]) for key in ("p50_ms", "p99_ms", "per_second")},
    }


def layout_d_lookups(
    connection: psycopg.Connection[Any],
    payees: list[int],
    cursors: list[tuple[int, int]],
    count: int,
    runs: int,
    chooser: random.Random,
) -> dict[str, Any]:
    """Layout D's reads of archived payments through the lean keys and the person's year rows; then
    the same reads of every payment, archived or not, beside today's table."""
    figures: dict[str, Any] = {}
    # Layout D: the keys' page, then each payment from its person's year row
    lean_page = (
        "SELECT p.* FROM (SELECT id, payee_id FROM archive_probe_lean_keys {} ) k "
        "JOIN archive_probe_years_rows y ON y.payee_id = k.payee_id, unnest(y.payments) p "
        "WHERE p.id = k.id ORDER BY p.id"
    )

    def listing_from_lean_keys(cursor: tuple[int, int]) -> int:
        sql = lean_page.format(PAGE.format("%s", "%s"))
        return len(connection.execute(sql, cursor).fetchall())  # type: ignore[arg-type]

    figures["a payer's listing page, lean keys and a person's year rows"] = _timed(
        listing_from_lean_keys, cursors, count, runs, chooser
    )

    def one_by_id_from_lean_keys(cursor: tuple[int, int]) -> int:  # the skip scan of (payer, id)
        sql = lean_page.format("WHERE id = %s")
        return len(connection.execute(sql, (cursor[1],)).fetchall())  # type: ignore[arg-type]

    figures["one archived payment by id alone, lean keys and a person's year rows"] = _timed(
        one_by_id_from_lean_keys, cursors, count, runs, chooser
    )
    listing, by_payer = PAGE.format("%s", "%s"), EVERY_PAYMENT["payer"]
    every: list[tuple[str, str, str, Callable[[Any], tuple[Any, ...]], list[Any]]] = [
        (
            "a person's payments",
            "SELECT * FROM payments WHERE payee_id = %s ORDER BY due_date",
            f"SELECT * FROM {EVERY_PAYMENT['payee']} WHERE payee_id = %s ORDER BY due_date",
            lambda payee: (payee,),
            payees,
        ),
        (
            "a payer's listing page",
            f"SELECT * FROM payments {listing}",
            f"(SELECT * FROM archive_probe_live {listing}) UNION ALL (SELECT * FROM {by_payer} {listing}) "
            "ORDER BY id LIMIT 100",
            lambda cursor: cursor,
            cursors,
        ),
        (
            "one payment by id alone",
            "SELECT * FROM payments WHERE id = %s",
            f"SELECT * FROM archive_probe_live WHERE id = %s UNION ALL SELECT * FROM {by_payer} WHERE id = %s",
            lambda cursor: (cursor[1],),
            cursors,
        ),
    ]
    for name, today, layout_d, parameters, items in every:
        for where, sql in (("today's payments table", today), ("layout D through the views", layout_d)):

            def read(item: Any, sql: str = sql, parameters: Any = parameters) -> int:
                values = parameters(item)
                values = values + values if sql.count("%s") > len(values) else values
                return len(connection.execute(sql, values).fetchall())  # type: ignore[arg-type]

            figures[f"{name}, archived or not, {where}"] = _timed(read, items, count, runs, chooser)
    references = [
        (int(a), str(b)) for a, b in connection.execute(f"SELECT payer_id, reference FROM payments WHERE {ARCHIVED}")
    ]

    digest_of_parameter = REFERENCE_DIGEST.replace("reference", "%s")

    def reference_known(payment: tuple[int, str]) -> int:  # a registration's check: the digest, then the row
        sql = (
            "SELECT p.id FROM archive_probe_lean_keys k JOIN archive_probe_years_rows y ON y.payee_id = k.payee_id, "
            f"unnest(y.payments) p WHERE k.payer_id = %s AND k.reference_digest = {digest_of_parameter} "
            "AND p.id = k.id AND p.reference = %s"
        )
        return len(connection.execute(sql, (payment[0], payment[1], payment[1])).fetchall())  # type: ignore[arg-type]

    figures["an archived reference sent again, lean keys and a person's year rows"] = _timed(
        reference_known, references, count, runs, chooser
    )
    return figures


def layout_d_filtered(
    connection: psycopg.Connection[Any], count: int, runs: int, chooser: random.Random
) -> dict[str, Any]:
    """A first page of a payer's listing narrowed to a payee, or to references beginning alike (an
    archived reference but its last two characters: up to 100 payments), archived or not: today's
    table beside layout D. With digests only, a search by a reference's beginning walks the payer's
    archived keys in id order until the page is full, so it is read count / 40 times."""
    figures: dict[str, Any] = {}
    archived = [
        (int(a), int(b), str(c))
        for a, b, c in connection.execute(f"SELECT payer_id, payee_id, reference FROM payments WHERE {ARCHIVED}")
    ]
    payee_live = "(SELECT * FROM archive_probe_live WHERE payer_id = %s AND payee_id = %s ORDER BY id LIMIT 100)"
    prefix = "payer_id = %s AND reference >= %s AND reference LIKE %s"
    prefix_live = f"(SELECT * FROM archive_probe_live WHERE {prefix} ORDER BY id LIMIT 100)"
    from_year_rows = (
        "SELECT p.* FROM archive_probe_years_rows y, unnest(y.payments) p "
        "WHERE y.payee_id = k.payee_id AND p.id = k.id LIMIT 1"
    )
    reads: list[tuple[str, str, Callable[[tuple[int, int, str]], tuple[Any, ...]], int]] = [
        (
            "narrowed to a payee, today's payments table",
            "SELECT * FROM payments WHERE payer_id = %s AND payee_id = %s ORDER BY id LIMIT 100",
            lambda item: item[:2],
            count,
        ),
        (
            "narrowed to a payee, layout D (the view by payee)",
            f"{payee_live} UNION ALL (SELECT * FROM {EVERY_PAYMENT['payee']} "
            "WHERE payee_id = %s AND payer_id = %s ORDER BY id LIMIT 100) ORDER BY id LIMIT 100",
            lambda item: (item[0], item[1], item[1], item[0]),
            count,
        ),
        (
            "references beginning alike, today's payments table",
            f"SELECT * FROM payments WHERE {prefix} ORDER BY id LIMIT 100",
            lambda item: (item[0], item[2][:-2], item[2][:-2] + "%"),
            count,
        ),
        (
            "references beginning alike, layout D with digests",
            f"{prefix_live} UNION ALL (SELECT * FROM {EVERY_PAYMENT['payer']} WHERE {prefix} "
            "ORDER BY id LIMIT 100) ORDER BY id LIMIT 100",
            lambda item: (item[0], item[2][:-2], item[2][:-2] + "%") * 2,
            max(1, count // 40),
        ),
        (
            "references beginning alike, layout D with the references in the keys",
            f"{prefix_live} UNION ALL (SELECT p.* FROM archive_probe_lean_keys_references k, "
            f"LATERAL ({from_year_rows}) p WHERE k.payer_id = %s AND k.reference >= %s AND k.reference LIKE %s "
            "ORDER BY k.id LIMIT 100) ORDER BY id LIMIT 100",
            lambda item: (item[0], item[2][:-2], item[2][:-2] + "%") * 2,
            count,
        ),
    ]
    for name, sql, parameters, reads_of in reads:

        def read(item: tuple[int, int, str], sql: str = sql, parameters: Any = parameters) -> int:
            return len(connection.execute(sql, parameters(item)).fetchall())  # type: ignore[arg-type]

        figures[f"a payer's first page {name}"] = _timed(read, archived, reads_of, runs, chooser)
    return figures


def narrow_lookups(
    connection: psycopg.Connection[Any],
    payees: list[int],
    cursors: list[tuple[int, int]],
    count: int,
    runs: int,
    chooser: random.Random,
) -> dict[str, Any]:
    """The proposal's reads of archived payments (decision 0035): the references in narrow keys
    (payer and payee as 4-byte integers), and a person's year rows without the reference, which a
    reader by payer takes from the keys."""
    figures: dict[str, Any] = {}
    year = AS_OF.year
    archived = [
        (int(a), str(b)) for a, b in connection.execute(f"SELECT payer_id, reference FROM payments WHERE {ARCHIVED}")
    ]
    from_year_row = (
        "SELECT p.* FROM archive_probe_years_rows_unreferenced y, unnest(y.payments) p "
        "WHERE y.payee_id = k.payee_id AND p.id = k.id LIMIT 1"
    )
    # every column of the payment, its reference from the key (the year row holds null there)
    columns = [name for (name,) in connection.execute(_COLUMNS)]  # type: ignore[arg-type]
    with_reference = ", ".join("k.reference" if c == "reference" else f"p.{c}" for c in columns)
    reads: list[tuple[str, str, Callable[[Any], tuple[Any, ...]], list[Any]]] = [
        (
            "a person's year as one row, rows, unnested in the server",
            "SELECT p.* FROM archive_probe_years_rows_unreferenced y, unnest(y.payments) p "
            "WHERE y.payee_id = %s AND y.year = %s",
            lambda payee: (payee, year),
            payees,
        ),
        (
            "a payer's listing page, the keys then a person's year rows",
            f"SELECT {with_reference} FROM (SELECT id, payee_id, reference FROM archive_probe_narrow_keys_references "
            f"{PAGE.format('%s', '%s')}) k, LATERAL ({from_year_row}) p ORDER BY p.id",
            lambda cursor: cursor,
            cursors,
        ),
        (
            "one archived payment by id alone, the keys then a person's year rows",
            f"SELECT {with_reference} FROM archive_probe_narrow_keys_references k, LATERAL ({from_year_row}) p "
            "WHERE k.id = %s",
            lambda cursor: (cursor[1],),
            cursors,
        ),
        (
            "an archived reference sent again, the keys alone",
            "SELECT id FROM archive_probe_narrow_keys_references WHERE payer_id = %s AND reference = %s",
            lambda payment: payment,
            archived,
        ),
        (
            "a payer's first page of references beginning alike, the keys then a person's year rows",
            f"SELECT {with_reference} FROM archive_probe_narrow_keys_references k, LATERAL ({from_year_row}) p "
            "WHERE k.payer_id = %s AND k.reference >= %s AND k.reference LIKE %s ORDER BY k.id LIMIT 100",
            lambda payment: (payment[0], payment[1][:-2], payment[1][:-2] + "%"),
            archived,
        ),
    ]
    for name, sql, parameters, items in reads:

        def read(item: Any, sql: str = sql, parameters: Any = parameters) -> int:
            return len(connection.execute(sql, parameters(item)).fetchall())  # type: ignore[arg-type]

        figures[f"{name} (references in narrow keys)"] = _timed(read, items, count, runs, chooser)
    return figures


def lookups(
    connection: psycopg.Connection[Any], files: dict[int, Path], by_payer: Path, count: int, runs: int
) -> dict[str, Any]:
    """A person's archived payments, read from each layout on one thread; and a page of a payer's
    listing from a random archived payment on, from Parquet and from today's table."""
    register_composite(CompositeInfo.fetch(connection, "payments"), connection)  # type: ignore[arg-type]
    payees = [int(r[0]) for r in connection.execute("SELECT payee_id FROM archive_probe_years_rows ORDER BY 1")]
    year = AS_OF.year
    chooser = random.Random(22)
    figures: dict[str, Any] = {}

    def from_table(payee: int) -> int:
        sql = f"SELECT * FROM payments WHERE payee_id = %s AND {ARCHIVED} ORDER BY due_date"
        return len(connection.execute(sql, (payee,)).fetchall())  # type: ignore[arg-type]

    figures["today's payments table, the overview's index"] = _timed(from_table, payees, count, runs, chooser)
    for layout in ("json", "rows"):

        def from_year(payee: int, layout: str = layout) -> int:
            sql = f"SELECT payments FROM archive_probe_years_{layout} WHERE payee_id = %s AND year = %s"
            row = connection.execute(sql, (payee, year)).fetchone()  # type: ignore[arg-type]
            return len(row[0]) if row else 0

        figures[f"a person's year as one row, {layout}"] = _timed(from_year, payees, count, runs, chooser)

    def unnested(payee: int) -> int:  # the rows taken apart by the server, as a page's query would
        sql = "SELECT p.* FROM archive_probe_years_rows y, unnest(y.payments) p WHERE y.payee_id = %s AND y.year = %s"
        return len(connection.execute(sql, (payee, year)).fetchall())  # type: ignore[arg-type]

    figures["a person's year as one row, rows, unnested in the server"] = _timed(unnested, payees, count, runs, chooser)
    for size, path in files.items():
        with duckdb.connect() as duck:
            duck.execute("SET threads = 1")
            statement = f"SELECT * FROM read_parquet('{path}') WHERE payee_id = $1 ORDER BY due_date"

            def from_parquet(payee: int, duck: duckdb.DuckDBPyConnection = duck, statement: str = statement) -> int:
                return len(duck.execute(statement, [payee]).to_arrow_table().to_pylist())

            figures[f"parquet, row groups of {size:,}"] = _timed(from_parquet, payees, count, runs, chooser)
    cursors = [(int(a), int(b)) for a, b in connection.execute(f"SELECT payer_id, id FROM payments WHERE {ARCHIVED}")]

    def listing_from_table(cursor: tuple[int, int]) -> int:
        sql = "SELECT * FROM payments " + PAGE.format("%s", "%s")
        return len(connection.execute(sql, cursor).fetchall())  # type: ignore[arg-type]

    figures["a payer's listing page, today's payments table"] = _timed(
        listing_from_table, cursors, count, runs, chooser
    )
    figures |= layout_d_lookups(connection, payees, cursors, count, runs, chooser)
    figures |= narrow_lookups(connection, payees, cursors, count, runs, chooser)
    figures |= layout_d_filtered(connection, count, runs, chooser)
    with duckdb.connect() as duck:
        duck.execute("SET threads = 1")
        statement = f"SELECT * FROM read_parquet('{by_payer}') " + PAGE.format("$1", "$2")

        def listing_from_parquet(cursor: tuple[int, int]) -> int:
            return len(duck.execute(statement, list(cursor)).to_arrow_table().to_pylist())

        figures["a payer's listing page, parquet by payer and id"] = _timed(
            listing_from_parquet, cursors, count, runs, chooser
        )
        by_id = f"SELECT * FROM read_parquet('{by_payer}') WHERE id = $1"

        def one_by_id(cursor: tuple[int, int]) -> int:  # a bank's late answer names the payment alone
            return len(duck.execute(by_id, [cursor[1]]).to_arrow_table().to_pylist())

        figures["one archived payment by id alone, parquet by payer and id"] = _timed(
            one_by_id, cursors, count, runs, chooser
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=145_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bytes-only", action="store_true", help="the bytes of each layout, without the reads")
    args = parser.parse_args()
    settings = migrated_database(database(args.persons), fresh=False)
    url = resolve_database_url(settings).replace("postgresql+psycopg://", "postgresql://", 1)
    with (
        tempfile.TemporaryDirectory(prefix="saldo-archive-") as scratch,
        psycopg.connect(url, autocommit=True) as connection,
    ):
        payments = _scalar(connection, "SELECT count(*) FROM payments")
        archived = _scalar(connection, f"SELECT count(*) FROM payments WHERE {ARCHIVED}")
        table_now = _scalar(connection, "SELECT pg_total_relation_size('payments')")
        began = time.perf_counter()
        files, by_payer = write_parquet(connection, Path(scratch))
        parquet_s = time.perf_counter() - began
        try:
            began = time.perf_counter()
            sizes = build_tables(connection)
            tables_s = time.perf_counter() - began
            read = lookups(connection, files, by_payer, args.lookups, args.runs) if not args.bytes_only else {}
        finally:
            drop_tables(connection)
        parquet = {size: path.stat().st_size for size, path in files.items()}
        payer_file = by_payer.stat().st_size

    def per_archived(size: int) -> float:
        return round(size / archived, 1)

    def per_payment(*sizes: int) -> float:
        return round(sum(sizes) / payments, 1)

    live, references, keys = sizes["archive_probe_live"], sizes["archive_probe_references"], sizes["archive_probe_keys"]
    digests, lean_keys = sizes["archive_probe_reference_digests"], sizes["archive_probe_lean_keys"]
    years_json, years_rows = sizes["archive_probe_years_json"], sizes["archive_probe_years_rows"]
    by_payee = parquet[min(ROW_GROUPS)]  # the two files the proposal reads: by payee, by payer
    report(
        f"archive probe, {args.persons:,} persons",
        {
            "payments": payments,
            "archived": archived,
            "kept": payments - archived,
            "seconds_to_build": {"parquet": round(parquet_s, 1), "postgresql tables": round(tables_s, 1)},
            "bytes_per_archived_payment": {
                **{f"parquet by payee, row groups of {size:,}": per_archived(b) for size, b in parquet.items()},
                "parquet by payer and id": per_archived(payer_file),
                "a person's year as one row, json": per_archived(years_json),
                "a person's year as one row, rows": per_archived(years_rows),
                "the payer's references, unique": per_archived(references),
                "the payer's references as digests, unique": per_archived(digests),
                "the payer's keys: id, listing, reference": per_archived(keys),
                "lean keys: (payer, id), payee, reference digest": per_archived(lean_keys),
                "lean keys with the reference instead of its digest": per_archived(
                    sizes["archive_probe_lean_keys_references"]
                ),
                "the same, the payer and the payee as 4-byte integers": per_archived(
                    sizes["archive_probe_narrow_keys_references"]
                ),
                "a person's year as one row, rows, the reference left to the keys": per_archived(
                    sizes["archive_probe_years_rows_unreferenced"]
                ),
            },
            "bytes_per_kept_payment_with_indexes": round(live / (payments - archived), 1),
            "bytes_per_payment_of_the_year": {
                "today's payments table, as built": per_payment(table_now),
                "A: kept, references; every archived read from the two parquet files": (
                    per_payment(live, references, by_payee, payer_file)
                ),
                "A with digests": per_payment(live, digests, by_payee, payer_file),
                "B: kept, references, a person's year as rows; the payer's reads from parquet by payer": (
                    per_payment(live, references, years_rows, payer_file)
                ),
                "B with digests": per_payment(live, digests, years_rows, payer_file),
                "C: kept, keys, a person's year as rows; nothing read from parquet": (
                    per_payment(live, keys, years_rows)
                ),
                "C with a person's year as json": per_payment(live, keys, years_json),
                "D: kept, lean keys, a person's year as rows; nothing read from parquet": (
                    per_payment(live, lean_keys, years_rows)
                ),
                "D with the references in the keys instead of digests": (
                    per_payment(live, sizes["archive_probe_lean_keys_references"], years_rows)
                ),
                "D with the references in narrow keys, and year rows without them": per_payment(
                    live, sizes["archive_probe_narrow_keys_references"], sizes["archive_probe_years_rows_unreferenced"]
                ),
            },
            "a_persons_archived_payments": read,
        },
    )


if __name__ == "__main__":
    main()
