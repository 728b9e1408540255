"""Analysis snapshots: what the rules read, exported from the registry to Parquet, pseudonymised.

Identifiers become keyed pseudonyms before anything is written; names and addresses are never read;
birth dates are cut to the month; the excluded data categories cannot be written (each table is
checked against the published snapshot schema). The manifest holds every file's rows and SHA-256,
so any finding can be traced to exactly the data it came from."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

import saldo
from saldo.analysis.models import Snapshot
from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.linkage import link_identities, link_organisations
from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.analysis.service.tables import SNAPSHOT_TABLES
from saldo.kit import crash_points
from saldo.kit.data_categories import excluded_reason
from saldo.kit.digest import sha256_of_file
from saldo.kit.leftovers import remove_left_behind
from saldo.settings import Settings

FORMAT_VERSION = 1


class SnapshotRefusedError(ValueError):
    """A table about to be written does not match the published snapshot schema."""


@dataclass(frozen=True)
class Key:
    """A pseudonym column: the keyed pseudonym, in ``domain``, of the text ``value`` gives (an SQL
    expression over the exported table); a NULL value has no pseudonym."""

    domain: str
    value: str


def _of_identifier(scheme: str, identifier: str) -> str:
    """``scheme:identifier``, NULL when either is NULL."""
    return f"{scheme} || ':' || {identifier}"


def _month(column: str) -> str:
    return f"CAST(date_trunc('month', {column}) AS DATE)"


PERSON = Key("person", _of_identifier("person_scheme", "person_id"))

# How each table's snapshot form is made from what the registry exports (saldo.analysis.repository):
# every column an SQL expression over the exported rows, or a pseudonym. A table not named here is
# written as it is exported. Each result is checked against the published schema (tables.py).
SHAPES: dict[str, dict[str, str | Key]] = {
    "payments": {
        "payment_id": "payment_id",
        "payer_id": "payer_id",
        "payee_key": Key("person", _of_identifier("payee_scheme", "payee_identifier")),
        "payee_kind": "payee_kind",
        "benefit": "benefit",
        "amount_minor": "amount_minor",
        "currency": "currency",
        "decision_key": Key("decision", _of_identifier("CAST(payer_id AS VARCHAR)", "decision_reference")),
        "period_start": "period_start",
        "period_end": "period_end",
        "period_month": _month("period_start"),
        "due_date": "due_date",
        "account_key": Key("account", _of_identifier("account_scheme", "account_number")),
        "status": "status",
    },
    "persons": {
        "person_key": PERSON,
        "previous_key": Key("person", _of_identifier("'se_samordningsnummer'", "previous_id")),
        "sex": "sex",
        "birth_month": _month("birth_date"),
        "death_date": "death_date",
        "emigration_date": "emigration_date",
        "immigration_date": "immigration_date",
        "household_key": Key("household", "household_id"),
        "municipality_code": "municipality_code",
        "region_code": "substr(municipality_code, 1, 2)",
        "residence_permit_until": "residence_permit_until",
    },
    "representations": {
        "representative_key": Key("person", _of_identifier("representative_scheme", "representative_id")),
        "represented_key": Key("person", _of_identifier("represented_scheme", "represented_id")),
        "basis": "basis",
        "valid_from": "valid_from",
        "valid_until": "valid_until",
    },
    "cross_border_facts": {
        "person_key": PERSON,
        "kind": "kind",
        "start_date": "start_date",
        "end_date": "end_date",
        "benefit_type": "benefit_type",
        "country": "country",
        "institution": "institution",
    },
    "income": {
        "person_key": PERSON,
        "employer_key": Key("employer", "employer_id"),
        "month": "month",
        "amount_minor": "amount_minor",
    },
    "decisions": {
        "decision_key": Key("decision", _of_identifier("CAST(payer_id AS VARCHAR)", "reference")),
        "payer_id": "payer_id",
        "payee_key": Key("person", _of_identifier("payee_scheme", "payee_id")),
        "benefit": "benefit",
        "period_start": "period_start",
        "period_end": "period_end",
        "amount_minor": "amount_minor",
        "currency": "currency",
        "household_size": "household_size",
        "declared_income_minor": "declared_income_minor",
    },
    "person_links": {
        "person_key": Key("person", "CAST(person AS VARCHAR)"),
        "linked_key": Key("person", "CAST(linked AS VARCHAR)"),
        "match_probability": "probability",
    },
    # payees share one pseudonym space, persons and organisations
    "organisation_links": {
        "organisation_key": Key("person", "CAST(organisation AS VARCHAR)"),
        "linked_key": Key("person", "CAST(linked AS VARCHAR)"),
        "match_probability": "probability",
    },
}
BATCH_ROWS = 1 << 20  # rows written at a time: one Parquet row group


def export_snapshot(
    session: Session, settings: Settings, *, created_by: str, progress: Callable[[str], None] | None = None
) -> Snapshot:
    """Write a new snapshot of the registry's analysis data and record it.

    Each table streams from PostgreSQL through a DuckDB work database on disk into its Parquet file,
    so no table has to fit in memory. Each distinct identifier is pseudonymised once per snapshot,
    whichever tables it appears in."""
    note = progress or (lambda _step: None)
    pseudonyms = Pseudonymiser(load_or_create_key(settings.pseudonym_key_path))
    repository = AnalysisRepository(session)
    now = dt.datetime.now(dt.UTC)
    label = now.strftime("%Y%m%dT%H%M%S%fZ")
    folder = settings.snapshots / label
    settings.snapshots.mkdir(parents=True, exist_ok=True)
    remove_leftovers(settings.snapshots)
    partial = Path(tempfile.mkdtemp(prefix=f".{label}-", dir=settings.snapshots))
    try:
        with tempfile.TemporaryDirectory(prefix=f".{label}-work-", dir=settings.snapshots) as scratch:
            work = _Work(Path(scratch), pseudonyms, threads=settings.analysis_threads)
            try:
                files: dict[str, dict[str, object]] = {}
                for name in SNAPSHOT_TABLES:
                    note(name)
                    links = _identity_links(name, repository, settings)
                    if links is not None:
                        files[name] = work.write(name, links, partial)
                        continue
                    with repository.export_stream(name) as exported:
                        files[name] = work.write(name, exported, partial)
                    crash_points.reach("snapshot.table_written")
            finally:
                work.close()
        manifest = {
            "format_version": FORMAT_VERSION,
            "label": label,
            "created_at": now.isoformat(timespec="seconds"),
            "created_by": created_by,
            "source": {"system": "saldo", "version": saldo.__version__, "database": _database_name(session)},
            "key_fingerprint": pseudonyms.fingerprint,
            "tables": files,
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return repository.add_snapshot(
        Snapshot(
            label=label,
            path=str(folder),
            manifest=manifest,
            key_fingerprint=pseudonyms.fingerprint,
            created_by=created_by,
        )
    )


# A snapshot being written lives in dot-folders beside the finished ones (the partial snapshot and
# its DuckDB work database). A process that died while writing one left them; they are removed by
# the next export once nothing has touched them for a day (an export takes minutes, so a running
# one's are never taken).
LEFTOVER = re.compile(r"^\.\d{8}T\d{6,}Z-")
LEFTOVER_AFTER = dt.timedelta(days=1)


def remove_leftovers(snapshots: Path, *, now: dt.datetime | None = None) -> list[str]:
    """Removes what exports that died left in ``snapshots``, untouched for LEFTOVER_AFTER; their names."""
    removed = remove_left_behind(
        snapshots,
        lambda entry: entry.is_dir() and LEFTOVER.match(entry.name) is not None,
        after=LEFTOVER_AFTER,
        now=now,
    )
    return [entry.name for entry in removed]


def _identity_links(name: str, repository: AnalysisRepository, settings: Settings) -> pa.Table | None:
    """Splink's links between payees' identifiers (persons, organisations), computed before anything
    is pseudonymised, on the analysis engine; None for a table that is not a table of links."""
    engine = settings.analysis_engine
    if engine == "spark" and name in ("person_links", "organisation_links"):
        from saldo.analysis.service.backends.spark import spark_session  # noqa: PLC0415 — starts a JVM

        spark_session(master=settings.spark_master, threads=settings.analysis_threads)  # Splink then uses this one
    if name == "person_links":
        links = link_identities(repository.export("identities").to_pandas(), engine=engine)
    elif name == "organisation_links":
        links = link_organisations(repository.export("organisation_identities").to_pandas(), engine=engine)
    else:
        return None
    return pa.Table.from_pandas(links, preserve_index=False)


class _Work:
    """A DuckDB database in the snapshot's scratch folder: each exported table is loaded into it,
    shaped (SHAPES) and written out; the pseudonyms computed so far are kept in it, one table per
    domain, so an identifier seen in several tables is pseudonymised once. It spills to disk past
    its memory limit."""

    def __init__(self, scratch: Path, pseudonyms: Pseudonymiser, *, threads: int) -> None:
        self.pseudonyms = pseudonyms
        self.connection = duckdb.connect(
            str(scratch / "work.duckdb"),
            config={"threads": threads, "preserve_insertion_order": False, "temp_directory": str(scratch / "spill")},
        )
        self.domains: set[str] = set()

    def close(self) -> None:
        self.connection.close()

    def write(self, name: str, raw: pa.RecordBatchReader | pa.Table, folder: Path) -> dict[str, object]:
        """Loads ``raw``, writes the snapshot form of table ``name`` to ``folder``; its manifest entry."""
        self.connection.register("exported", raw)
        self.connection.execute("CREATE OR REPLACE TABLE exported_rows AS SELECT * FROM exported")
        self.connection.unregister("exported")
        shape = SHAPES.get(name) or {column: _quoted(column) for column in raw.schema.names}
        columns, joins = [], []
        for number, (column, source) in enumerate(shape.items()):
            if isinstance(source, Key):
                self._pseudonymise(source)
                joins.append(
                    f"LEFT JOIN pseudonyms_{source.domain} AS k{number} ON k{number}.pseudonymised = {_text(source)}"
                )
                columns.append(f"k{number}.pseudonym AS {_quoted(column)}")
            else:
                columns.append(f"{source} AS {_quoted(column)}")
        query = f"SELECT {', '.join(columns)} FROM exported_rows {' '.join(joins)}"  # noqa: S608 — from SHAPES and the export's own column names
        reader = self.connection.sql(query).to_arrow_reader(BATCH_ROWS)
        _conform(name, reader.schema.empty_table())  # refused before anything is written
        path = folder / f"{name}.parquet"
        rows = 0
        with pq.ParquetWriter(path, SNAPSHOT_TABLES[name], compression="zstd") as writer:
            for batch in reader:
                table = _conform(name, pa.Table.from_batches([batch]))
                writer.write_table(table, row_group_size=BATCH_ROWS)
                rows += table.num_rows
        self.connection.execute("DROP TABLE exported_rows")
        return {"file": path.name, "rows": rows, "sha256": sha256_of_file(path).hex(), "columns": list(shape)}

    def _pseudonymise(self, key: Key) -> None:
        """Adds to the domain's pseudonyms every value of ``key`` in the loaded table not there yet."""
        table = f"pseudonyms_{key.domain}"
        if key.domain not in self.domains:
            self.connection.execute(f"CREATE TABLE {table} (pseudonymised VARCHAR, pseudonym VARCHAR)")
            self.domains.add(key.domain)
        new = self.connection.sql(
            f"""SELECT DISTINCT value FROM (SELECT {_text(key)} AS value FROM exported_rows)
                WHERE value IS NOT NULL AND value NOT IN (SELECT pseudonymised FROM {table})"""  # noqa: S608 — from SHAPES
        ).to_arrow_table()
        for chunk in new.column("value").chunks:
            for start in range(0, len(chunk), BATCH_ROWS):
                values = chunk.slice(start, BATCH_ROWS)
                computed = pa.table(
                    {"value": values, "pseudonym": pa.array(self.pseudonyms.many(key.domain, values.to_pylist()))}
                )
                self.connection.register("computed", computed)
                self.connection.execute(f"INSERT INTO {table} SELECT value, pseudonym FROM computed")  # noqa: S608 — from SHAPES
                self.connection.unregister("computed")


def _text(key: Key) -> str:
    return f"CAST(({key.value}) AS VARCHAR)"


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _conform(name: str, table: pa.Table) -> pa.Table:
    """``table`` cast to the published schema; refuses any column outside it or of an excluded category."""
    schema = SNAPSHOT_TABLES[name]
    for column in table.column_names:
        reason = excluded_reason(column)
        if reason is not None:
            raise SnapshotRefusedError(f"{name}.{column} may not enter a snapshot: {reason}")
    if table.column_names != schema.names:
        raise SnapshotRefusedError(f"{name} has columns {table.column_names}; the snapshot schema has {schema.names}")
    return table.cast(schema)


def _database_name(session: Session) -> str:
    url = session.get_bind().engine.url
    return f"{url.host or 'embedded'}/{url.database}"


def verify_snapshot(folder: Path) -> list[str]:
    """Faults of a snapshot on disk against its manifest: missing files, changed rows or hashes."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    faults = []
    for name, entry in manifest["tables"].items():
        path = folder / str(entry["file"])
        if not path.exists():
            faults.append(f"{name}: {path.name} is missing")
        elif sha256_of_file(path).hex() != entry["sha256"]:
            faults.append(f"{name}: {path.name} has changed since the snapshot was taken (SHA-256 differs)")
    return faults
