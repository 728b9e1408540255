"""Analysis snapshots: what the rules read, exported from the registry to Parquet, pseudonymised.

Identifiers become keyed pseudonyms before anything is written; names and addresses are never read;
birth dates are cut to the month; the excluded data categories cannot be written (each table is
checked against the published snapshot schema). The manifest holds every file's rows and SHA-256,
so any finding can be traced to exactly the data it came from."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

import saldo
from saldo.analysis.models import Snapshot
from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.linkage import link_identities, link_organisations
from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.analysis.service.tables import SNAPSHOT_TABLES
from saldo.kit.data_categories import excluded_reason
from saldo.kit.digest import sha256_of_file
from saldo.settings import Settings

FORMAT_VERSION = 1


class SnapshotRefusedError(ValueError):
    """A table about to be written does not match the published snapshot schema."""


def export_snapshot(
    session: Session, settings: Settings, *, created_by: str, progress: Callable[[str], None] | None = None
) -> Snapshot:
    """Write a new snapshot of the registry's analysis data and record it."""
    note = progress or (lambda _step: None)
    pseudonyms = Pseudonymiser(load_or_create_key(settings.pseudonym_key_path))
    repository = AnalysisRepository(session)
    now = dt.datetime.now(dt.UTC)
    label = now.strftime("%Y%m%dT%H%M%S%fZ")
    folder = settings.snapshots / label
    settings.snapshots.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{label}-", dir=settings.snapshots))
    try:
        files: dict[str, dict[str, object]] = {}
        for name in SNAPSHOT_TABLES:
            note(name)
            raw = _identity_links(name, repository, partial, settings)
            table = _pseudonymised(name, raw if raw is not None else repository.export(name, partial), pseudonyms)
            files[name] = _write(partial, name, table)
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


def _identity_links(name: str, repository: AnalysisRepository, scratch: Path, settings: Settings) -> pa.Table | None:
    """Splink's links between payees' identifiers (persons, organisations), computed before anything
    is pseudonymised, on the analysis engine; None for a table that is not a table of links."""
    engine = settings.analysis_engine
    if engine == "spark" and name in ("person_links", "organisation_links"):
        from saldo.analysis.service.backends.spark import spark_session  # noqa: PLC0415 — starts a JVM

        spark_session(master=settings.spark_master, threads=settings.analysis_threads)  # Splink then uses this one
    if name == "person_links":
        links = link_identities(repository.export("identities", scratch).to_pandas(), engine=engine)
    elif name == "organisation_links":
        links = link_organisations(repository.export("organisation_identities", scratch).to_pandas(), engine=engine)
    else:
        return None
    return pa.Table.from_pandas(links, preserve_index=False)


def _pseudonymised(name: str, raw: pa.Table, keys: Pseudonymiser) -> pa.Table:
    """The snapshot form of one exported table."""
    if name == "person_links":
        columns = {
            "person_key": keys.column("person", pc.cast(raw["person"], pa.string())),
            "linked_key": keys.column("person", pc.cast(raw["linked"], pa.string())),
            "match_probability": raw["probability"],
        }
    elif name == "organisation_links":  # payees share one pseudonym space, persons and organisations
        columns = {
            "organisation_key": keys.column("person", pc.cast(raw["organisation"], pa.string())),
            "linked_key": keys.column("person", pc.cast(raw["linked"], pa.string())),
            "match_probability": raw["probability"],
        }
    elif name == "payments":
        payee = pc.binary_join_element_wise(raw["payee_scheme"], raw["payee_identifier"], ":")
        account = pc.binary_join_element_wise(raw["account_scheme"], raw["account_number"], ":")
        decision = pc.binary_join_element_wise(pc.cast(raw["payer_id"], pa.string()), raw["decision_reference"], ":")
        start = raw["period_start"]
        month = pc.cast(pc.floor_temporal(start, unit="month"), pa.date32())
        columns = {
            "payment_id": raw["payment_id"],
            "payer_id": raw["payer_id"],
            "payee_key": keys.column("person", payee),
            "payee_kind": raw["payee_kind"],
            "benefit": raw["benefit"],
            "amount_minor": raw["amount_minor"],
            "currency": raw["currency"],
            "decision_key": keys.column("decision", decision),
            "period_start": start,
            "period_end": raw["period_end"],
            "period_month": month,
            "due_date": raw["due_date"],
            "account_key": keys.column("account", account),
            "status": raw["status"],
        }
    elif name == "persons":
        person = pc.binary_join_element_wise(raw["person_scheme"], raw["person_id"], ":")
        previous = pc.binary_join_element_wise(pa.scalar("se_samordningsnummer"), raw["previous_id"], ":")
        columns = {
            "person_key": keys.column("person", person),
            "previous_key": keys.column("person", previous),
            "sex": raw["sex"],
            "birth_month": pc.cast(pc.floor_temporal(raw["birth_date"], unit="month"), pa.date32()),
            "death_date": raw["death_date"],
            "emigration_date": raw["emigration_date"],
            "immigration_date": raw["immigration_date"],
            "household_key": keys.column("household", raw["household_id"]),
            "municipality_code": raw["municipality_code"],
            "region_code": pc.utf8_slice_codeunits(raw["municipality_code"], 0, 2),
            "residence_permit_until": raw["residence_permit_until"],
        }
    elif name == "representations":
        representative = pc.binary_join_element_wise(raw["representative_scheme"], raw["representative_id"], ":")
        represented = pc.binary_join_element_wise(raw["represented_scheme"], raw["represented_id"], ":")
        columns = {
            "representative_key": keys.column("person", representative),
            "represented_key": keys.column("person", represented),
            "basis": raw["basis"],
            "valid_from": raw["valid_from"],
            "valid_until": raw["valid_until"],
        }
    elif name == "cross_border_facts":
        person = pc.binary_join_element_wise(raw["person_scheme"], raw["person_id"], ":")
        columns = {"person_key": keys.column("person", person)} | {
            column: raw[column]
            for column in ("kind", "start_date", "end_date", "benefit_type", "country", "institution")
        }
    elif name == "income":
        person = pc.binary_join_element_wise(raw["person_scheme"], raw["person_id"], ":")
        columns = {
            "person_key": keys.column("person", person),
            "employer_key": keys.column("employer", raw["employer_id"]),
            "month": raw["month"],
            "amount_minor": raw["amount_minor"],
        }
    elif name == "decisions":
        decision = pc.binary_join_element_wise(pc.cast(raw["payer_id"], pa.string()), raw["reference"], ":")
        payee = pc.binary_join_element_wise(raw["payee_scheme"], raw["payee_id"], ":")
        columns = {
            "decision_key": keys.column("decision", decision),
            "payer_id": raw["payer_id"],
            "payee_key": keys.column("person", payee),
            "benefit": raw["benefit"],
            "period_start": raw["period_start"],
            "period_end": raw["period_end"],
            "amount_minor": raw["amount_minor"],
            "currency": raw["currency"],
            "household_size": raw["household_size"],
            "declared_income_minor": raw["declared_income_minor"],
        }
    else:
        columns = {column: raw[column] for column in raw.column_names}
    return _conform(name, pa.table(columns))


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


def _write(folder: Path, name: str, table: pa.Table) -> dict[str, object]:
    path = folder / f"{name}.parquet"
    pq.write_table(table, path, compression="zstd")
    return {
        "file": path.name,
        "rows": table.num_rows,
        "sha256": sha256_of_file(path).hex(),
        "columns": table.column_names,
    }


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
