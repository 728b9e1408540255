"""A small audit world on the real database: two payers, payments to three persons, an analysis
snapshot and run with findings about them (pseudonymised with the real key), and staff in each role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from saldo.analysis.models import AnalysisRun, Finding, RunStatus, Snapshot
from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.kit.clock import today
from saldo.payers.schemas import PayerPrincipal
from saldo.payers.service import authenticate
from saldo.payments.schemas import PaymentIn
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.register import register_payment
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import create_staff, issue_staff_token, principal_of
from tests.factories import make_payer, make_token, payment_body, pnr

SCHEME = "se_personnummer"


@dataclass
class World:
    payer_a: PayerPrincipal
    payer_b: PayerPrincipal
    token_a: str
    token_b: str
    persons: list[str]  # personnummer of the three payees
    payments: dict[str, list[int]]  # person -> payment ids
    run: AnalysisRun
    findings: dict[str, Finding]  # "double", "death", "small", "shadow"
    staff: dict[Role, StaffPrincipal]
    staff_tokens: dict[Role, str]
    pseudonyms: Pseudonymiser


def _pay(session: Session, settings: Settings, payer: PayerPrincipal, person: str, benefit: str, amount: int) -> int:
    body = payment_body(payee_id=person, benefit=benefit, amount_minor=amount)
    out, _ = register_payment(
        session,
        payer=payer,
        payment=PaymentIn.model_validate(body),
        policy=RegistrationPolicy.from_settings(settings),
        today=today(),
    )
    return out.id


def person_key(pseudonyms: Pseudonymiser, person: str) -> str:
    return pseudonyms.one("person", f"{SCHEME}:{person}")


@pytest.fixture
def world(session: Session, settings: Settings, tmp_path: Path) -> World:
    a, b = make_payer(session, name="Kommun A"), make_payer(session, name="Region B")
    token_a, token_b = make_token(session, a), make_token(session, b)
    payer_a, payer_b = authenticate(session, token_a), authenticate(session, token_b)
    persons = [pnr(101), pnr(102), pnr(103, born="19450302")]
    payments = {
        persons[0]: [
            _pay(session, settings, payer_a, persons[0], "EKB", 900_000),
            _pay(session, settings, payer_b, persons[0], "SJP", 1_500_000),
        ],
        persons[1]: [_pay(session, settings, payer_a, persons[1], "EKB", 20_000)],
        persons[2]: [_pay(session, settings, payer_a, persons[2], "BB", 125_000)],
    }
    pseudonyms = Pseudonymiser(load_or_create_key(settings.pseudonym_key_path))
    folder = tmp_path / "snapshot"
    folder.mkdir()
    keys = [person_key(pseudonyms, p) for p in persons] + [f"other-{i}" for i in range(37)]
    pq.write_table(
        pa.table(
            {
                "person_key": keys,
                "sex": ["F", "M", "F"] + ["M" if i % 2 else "F" for i in range(37)],
                "birth_month": [dt.date(1980, 1, 1), dt.date(1980, 1, 1), dt.date(1945, 3, 1)]
                + [dt.date(1990, 1, 1)] * 37,
                "region_code": ["01", "01", "12"] + ["14"] * 37,
            }
        ),
        folder / "persons.parquet",
    )
    snapshot = Snapshot(
        label="test", path=str(folder), manifest={}, key_fingerprint=pseudonyms.fingerprint, created_by="staff:test"
    )
    session.add(snapshot)
    session.flush()
    run = AnalysisRun(
        snapshot_id=snapshot.id,
        engine="duckdb",
        rules=[],
        status=RunStatus.FINISHED,
        capacity=10,
        started_by="staff:test",
    )
    session.add(run)
    session.flush()

    def finding(rule: str, person: str, ids: list[int], amount: int, *, shadow: bool = False) -> Finding:
        row = Finding(
            run_id=run.id,
            snapshot_id=snapshot.id,
            rule_id=rule,
            rule_version=1,
            subject_kind="person",
            subject_key=person_key(pseudonyms, person),
            payment_ids=ids,
            amount_at_risk_minor=amount,
            currency="SEK",
            facts={"benefit": "EKB"},
            reason_sv=f"Skäl för {rule}",
            reason_en=f"Reason for {rule}",
            expected_value_minor=amount,
            selected=not shadow,
            shadow=shadow,
        )
        session.add(row)
        session.flush()
        return row

    findings = {
        "double": finding("mutually_exclusive_benefits", persons[0], payments[persons[0]], 900_000),
        "small": finding("duplicate_payment", persons[1], payments[persons[1]], 20_000),
        "death": finding("payment_after_death", persons[2], payments[persons[2]], 125_000),
        "shadow": finding("no_right_of_residence", persons[1], payments[persons[1]], 20_000, shadow=True),
    }
    staff: dict[Role, StaffPrincipal] = {}
    tokens: dict[Role, str] = {}
    for role in Role:
        username = f"test.{role.value.replace('_', '')}"
        create_staff(session, username=username, name=f"Test {role.value}", roles=[role])
        staff[role] = principal_of(session, username)
        tokens[role] = issue_staff_token(session, username=username, label="test")
    session.commit()
    return World(payer_a, payer_b, token_a, token_b, persons, payments, run, findings, staff, tokens, pseudonyms)
