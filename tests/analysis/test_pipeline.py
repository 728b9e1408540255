"""The analysis from registry to findings on a generated country with planted anomalies: snapshot,
rules, selection and evaluation against the ground truth, on a real PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.analysis.models import AnalysisRun, Finding, RunStatus
from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service import run as run_module
from saldo.analysis.service.evaluate import evaluate_run
from saldo.analysis.service.linkage import link_identities
from saldo.analysis.service.run import AnalysisError, run_analysis
from saldo.analysis.service.snapshot import SnapshotRefusedError, _conform, export_snapshot, verify_snapshot
from saldo.cli.country import load_country
from saldo.settings import Settings
from saldo.synthetic.anomalies import RULES
from saldo.synthetic.country import generate_country

AS_OF = dt.date(2026, 11, 22)
RULE_TWO_IDS = "two_identifiers_same_benefit"
RULE_ORGANISATION = "organisation_paid_twice_under_two_identifiers"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("analysis-country")
    generate_country(folder, persons=4_000, seed=11, as_of=AS_OF, anomaly_rate=0.003)
    return folder


def test_the_analysis_finds_the_planted_cases_and_nothing_else(
    session: Session, sessions: sessionmaker[Session], settings: Settings, country: Path
) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    snapshot = export_snapshot(session, settings, created_by="staff:test")
    folder = Path(snapshot.path)
    assert verify_snapshot(folder) == []

    # No identifier or name leaves the registry: every person number of the country is absent.
    identifiers = {row["person_id"] for row in csv.DictReader((country / "registers" / "population.csv").open())}
    names = {row["surname"] for row in csv.DictReader((country / "persons.csv").open())}
    for path in folder.glob("*.parquet"):
        for column in pq.read_table(path).itercolumns():
            values = {str(v) for v in column.to_pylist()}
            assert not values & identifiers, path.name
            assert not values & names, path.name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["key_fingerprint"] == snapshot.key_fingerprint
    assert manifest["tables"]["persons"]["rows"] == 4_000
    # Splink joined to the personnummer the samordningsnummer and the Finnish identity numbers that the
    # population register does not record (half of the two-identifier cases; a quarter are Finnish).
    truth = list(csv.DictReader((country / "ground_truth.csv").open()))
    planted = len({row["case"] for row in truth if row["rule"] == RULE_TWO_IDS})
    foreign = session.scalar(text("SELECT count(*) FROM payees WHERE id_scheme = 'fi_hetu'"))
    assert foreign == planted // 4
    assert manifest["tables"]["person_links"]["rows"] >= planted // 2
    # Each provider paid again under a Norwegian number is linked to its Swedish organisation number.
    organisations = len({row["case"] for row in truth if row["rule"] == RULE_ORGANISATION})
    assert organisations > 0
    assert manifest["tables"]["organisation_links"]["rows"] == organisations

    run = run_analysis(session, settings, started_by="staff:test")
    assert run.status is RunStatus.FINISHED
    assert {r["id"] for r in run.rules} == set(RULES)
    # Half of the two-identifier cases are unknown to the population register: their recall rests on
    # identity linkage alone.
    evaluation = evaluate_run(session, run.id, country / "ground_truth.csv")
    for score in evaluation.rules:
        assert score.planted > 0, score.rule_id
        assert score.precision >= 0.9, score
        assert score.recall >= 0.9, score
    assert next(s for s in evaluation.rules if s.rule_id == RULE_TWO_IDS).recall == 1.0

    findings = session.scalars(select(Finding).where(Finding.run_id == run.id)).all()
    assert run.findings == len(findings)
    assert all(f.snapshot_id == snapshot.id and f.rule_version >= 1 for f in findings)
    assert all("{" not in f.reason_en and "{" not in f.reason_sv for f in findings)
    selected = [f for f in findings if f.selected]
    assert len(selected) == min(settings.analysis_capacity, len(findings))
    if len(selected) < len(findings):
        assert min(f.expected_value_minor for f in selected) >= max(
            f.expected_value_minor for f in findings if not f.selected
        )


@pytest.mark.spark
def test_identity_linkage_on_spark_gives_the_links_duckdb_gives(
    sessions: sessionmaker[Session], settings: Settings, country: Path, tmp_path: Path
) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    with sessions() as session:
        payees = AnalysisRepository(session).export("identities").to_pandas()
    on_duckdb = link_identities(payees)
    on_spark = link_identities(payees, engine="spark")
    pairs = lambda links: set(zip(links["person"], links["linked"], strict=True))  # noqa: E731
    assert len(on_duckdb) > 0
    assert any(linked.startswith("fi_hetu:") for linked in on_duckdb["linked"])  # a foreign identifier too
    assert pairs(on_spark) == pairs(on_duckdb)


def test_a_country_without_planted_anomalies_gives_no_findings(
    session: Session, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """Couples sharing an account, guardians receiving for children, deaths within a paid month, small
    side earnings, declared incomes a little low: none of the look-alikes is flagged."""
    generate_country(tmp_path, persons=4_000, seed=12, as_of=AS_OF, anomaly_rate=0)
    load_country(sessions, settings, tmp_path, loaded_by="staff:test")
    export_snapshot(session, settings, created_by="staff:test")
    run = run_analysis(session, settings, started_by="staff:test")
    assert run.findings == 0, run.rules


def test_a_changed_snapshot_is_not_analysed(
    session: Session, sessions: sessionmaker[Session], settings: Settings, country: Path
) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    snapshot = export_snapshot(session, settings, created_by="staff:test")
    payments = Path(snapshot.path) / "payments.parquet"
    payments.write_bytes(payments.read_bytes() + b"\0")
    with pytest.raises(AnalysisError, match="changed since the snapshot was taken"):
        run_analysis(session, settings, started_by="staff:test", snapshot_id=snapshot.id)


def test_a_run_that_fails_is_recorded_as_failed_with_its_error_and_keeps_no_findings(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    country: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    snapshot = export_snapshot(session, settings, created_by="staff:test")
    real = run_module.execute_rules

    def fails_after_the_first_rule(engine: object, rules: list[Any], **kwargs: Any) -> object:
        real(engine, rules[:1], **kwargs)  # one rule runs for real, then the engine gives out
        raise MemoryError("out of memory in the middle of the second rule")

    monkeypatch.setattr(run_module, "execute_rules", fails_after_the_first_rule)
    run = run_analysis(session, settings, started_by="staff:test", snapshot_id=snapshot.id)
    assert run.status is RunStatus.FAILED
    assert run.error == "MemoryError: out of memory in the middle of the second rule"
    assert run.finished_at is not None
    assert len(run.rules) == 1  # the rule that finished before the failure
    assert run.findings == 0
    assert session.scalar(select(func.count()).select_from(Finding).where(Finding.run_id == run.id)) == 0
    assert AnalysisRepository(session).latest_run() is None  # a failed run is never "the newest finished"

    monkeypatch.undo()
    again = run_analysis(session, settings, started_by="staff:test", snapshot_id=snapshot.id)
    assert again.status is RunStatus.FINISHED
    assert again.findings > 0


def test_an_unknown_engine_is_refused_before_a_run_is_recorded(
    session: Session, sessions: sessionmaker[Session], settings: Settings, country: Path
) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    export_snapshot(session, settings, created_by="staff:test")
    with pytest.raises(AnalysisError, match="unknown engine 'polars': duckdb or spark"):
        run_analysis(session, settings, started_by="staff:test", engine="polars")
    assert session.scalar(select(func.count()).select_from(AnalysisRun)) == 0


def test_a_table_with_an_excluded_category_cannot_enter_a_snapshot() -> None:
    import pyarrow as pa  # noqa: PLC0415

    with pytest.raises(SnapshotRefusedError, match="citizenship"):
        _conform(
            "payers", pa.table({"payer_id": [1], "kind": ["x"], "connection_model": ["full"], "citizenship": ["SE"]})
        )
