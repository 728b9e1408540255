"""The auditor's dashboard over a full analysis run: how long the page takes to render.

Target (issue: web): the dashboard over a full analysis run renders in under 1 s.

    uv run python -m benchmarks.workbench [--findings 180000] [--requests 20]

A fresh database holds one finished analysis run with --findings findings spread over the thirteen
rules (the rules benchmark found 1,788 per million payments, so 180,000 is about Sweden's 100 million
payments), a tenth of them selected, and 5,000 notifications of which 4,000 have outcomes over twelve
months. A staff member logs in (a session as an eID login opens it) and `/staff/workbench` is asked
--requests times from `saldo serve`; the figure is the median and the slowest whole response."""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import fresh_database, report, start_server
from saldo.analysis.service.catalogue import load_catalogue
from saldo.db.engine import create_db_engine
from saldo.identity.models import Audience
from saldo.identity.service import open_session
from saldo.identity.service.oidc import VerifiedIdentity
from saldo.kit.national_id import IdScheme
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import create_staff
from tests.factories import make_payer

ANALYST = "197503149127"


def build(settings_url: str, findings: int) -> str:
    """The run, its findings, notifications and outcomes; returns an analyst's session secret."""
    engine = create_db_engine(Settings(database_url=settings_url))
    rules = [rule.id for rule in load_catalogue()]
    with Session(engine) as session:
        payer = make_payer(session, name="Benchkommunen")
        create_staff(
            session,
            username="bench.analyst",
            name="Bench",
            roles=[Role.ANALYST],
            person=(IdScheme.SE_PERSONNUMMER, ANALYST),
        )
        session.execute(
            text(
                """
                INSERT INTO analysis_snapshots (label, path, manifest, key_fingerprint, created_by) VALUES ('bench',
                '/nonexistent', '{}', 'bench', 'bench')
                """
            )
        )
        session.execute(
            text(
                """
                INSERT INTO analysis_runs (snapshot_id, engine, rules, status, capacity, started_by, finished_at)
                SELECT id, 'duckdb', '[]', 'finished', :capacity, 'bench', now() FROM analysis_snapshots
                """
            ),
            {"capacity": findings // 10},
        )
        session.execute(
            text(
                """
                INSERT INTO findings (run_id, snapshot_id, rule_id, rule_version, subject_kind, subject_key,
                payment_ids, amount_at_risk_minor, currency, facts, reason_sv, reason_en, expected_value_minor,
                selected, shadow)
                SELECT r.id, r.snapshot_id,
                (CAST(:rules AS text[]))[1 + i % cardinality(CAST(:rules AS text[]))], 1, 'person', md5(i::text),
                ARRAY[i], 1000 + (i * 7919) % 2000000, 'SEK', '{}', 'skäl', 'reason', 1000 + (i *
                7919) % 2000000, i % 10 = 0, false FROM analysis_runs r, generate_series(1, :n) i
                """
            ),
            {"rules": rules, "n": findings},
        )
        session.execute(
            text(
                """
                INSERT INTO cases (reference, status, rule_id, subject_kind, amount_at_risk_minor, currency,
                purpose, opened_by)
                SELECT 'B-' || i, 'open', (CAST(:rules AS text[]))[1 + i % cardinality(CAST(:rules AS text[]))],
                'person', 10000, 'SEK', 'bench', 'bench' FROM generate_series(1, 5000) i
                """
            ),
            {"rules": rules},
        )
        session.execute(
            text(
                """
                INSERT INTO notifications (payer_id, case_id, person_scheme, person_id, payment_ids, rule_id,
                rule_version, reason_sv, reason_en, evidence, amount_at_risk_minor, currency, created_by,
                created_at) SELECT :payer, c.id, 'se_personnummer', '198112289874', ARRAY[1], c.rule_id, 1, 'skäl',
                'reason', '{}', 10000, 'SEK', 'bench', now() - (c.id % 365) * interval '1 day' FROM cases c
                """
            ),
            {"payer": payer.id},
        )
        session.execute(
            text(
                """
                INSERT INTO notification_outcomes (notification_id, kind, amount_minor, currency, recorded_by,
                recorded_at) SELECT n.id, CASE WHEN n.id % 4 = 0 THEN 'no_error' ELSE 'payment_stopped' END, 10000,
                'SEK', 'bench', n.created_at + interval '20 days' FROM notifications n WHERE n.id % 5 <> 0
                """
            )
        )
        identity = VerifiedIdentity(
            provider="bench",
            subject=ANALYST,
            person_scheme="se_personnummer",
            person_id=ANALYST,
            name="Bench",
            loa="high",
        )
        secret, _ = open_session(session, identity, audience=Audience.STAFF, max_hours=24)
        session.commit()
    engine.dispose()
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=180_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    settings = fresh_database("saldo_bench_workbench")
    assert settings.database_url is not None
    secret = build(settings.database_url, args.findings)
    server, base = start_server(settings, 1)
    seconds: list[float] = []
    try:
        with httpx.Client(base_url=base, cookies={"saldo_session": secret}, timeout=60) as client:
            assert client.get("/staff/workbench").status_code == 200  # warm up
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get("/staff/workbench")
                seconds.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:200]
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(
        "workbench",
        {
            "findings": args.findings,
            "requests": args.requests,
            "median_s": round(statistics.median(seconds), 4),
            "slowest_s": round(max(seconds), 4),
        },
    )


if __name__ == "__main__":
    main()
