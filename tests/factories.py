"""Keyword-only factories with valid defaults."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from stdnum import luhn

from saldo.accesslog.service import Access, log_access
from saldo.banks.schemas import BankOut
from saldo.banks.service import create_bank, issue_bank_token
from saldo.kit.account_number import AccountScheme
from saldo.kit.clock import today
from saldo.kit.national_id import IdScheme
from saldo.payers.models import ConnectionModel, Payer, PayerKind
from saldo.payers.service import create_payer, issue_token
from saldo.staff.models import Role
from saldo.staff.service import create_staff

_serial = itertools.count(1)
VALID_PNR = "198112289874"
OTHER_PNR = "194907131843"
VALID_SAMORDNING = "197010632391"
VALID_IBAN = "SE4550000000058398257466"
VALID_BANKGIRO = "50501055"


def organisation_number(prefix: str = "212000") -> str:
    body = f"{prefix}{next(_serial) % 1000:03d}"
    return body + luhn.calc_check_digit(body)


def make_payer(
    session: Session,
    *,
    name: str = "Testkommun",
    kind: PayerKind = PayerKind.MUNICIPALITY,
    connection_model: ConnectionModel = ConnectionModel.FULL,
    benefits: Sequence[str] = ("EKB", "BB", "FOB", "SJP"),
    orgnr: str | None = None,
    bank_id: int | None = None,
) -> Payer:
    """A payer paying from Bankgiro VALID_BANKGIRO, held by the bank ``bank_id`` (needed to pay out)."""
    return create_payer(
        session,
        organisation_number=orgnr or organisation_number(),
        name=name,
        kind=kind,
        connection_model=connection_model,
        debtor_account_scheme=AccountScheme.SE_BANKGIRO,
        debtor_account=VALID_BANKGIRO,
        benefit_codes=benefits,
        bank_id=bank_id,
    )


def make_token(session: Session, payer: Payer) -> str:
    return issue_token(session, payer_id=payer.id, label="test").token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def payment_body(**overrides: object) -> dict[str, object]:
    """A valid payment as a payer sends it; due this month so it is inside every date window."""
    day = today()
    start = day.replace(day=1)
    body: dict[str, object] = {
        "reference": f"REF-{next(_serial):08d}",
        "payee_scheme": "se_personnummer",
        "payee_id": VALID_PNR,
        "payee_name": "Anna Andersson",
        "benefit": "EKB",
        "amount_minor": 125000,
        "currency": "SEK",
        "decision_reference": "BESLUT-4711",
        "period_start": start.isoformat(),
        "period_end": (start + dt.timedelta(days=27)).isoformat(),
        "due_date": day.isoformat(),
        "account_scheme": "iban",
        "account": VALID_IBAN,
        "remittance_info": "Ekonomiskt bistånd",
    }
    body.update(overrides)
    return body


CSV_HEADER = ",".join(payment_body().keys())


def csv_line(body: dict[str, object]) -> str:
    return ",".join("" if v is None else str(v) for v in body.values())


def csv_file(bodies: Sequence[dict[str, object]]) -> str:
    return "\n".join([CSV_HEADER, *(csv_line(b) for b in bodies)]) + "\n"


# --- the account register ---------------------------------------------------------------------


def se_iban(serial: int) -> str:
    """A valid Swedish IBAN (bank code 500) numbered ``serial``."""
    bban = f"500{serial:017d}"
    check = 98 - int(bban + "281400") % 97  # ISO 7064 MOD 97-10 over BBAN + "SE00"
    return f"SE{check:02d}{bban}"


def pnr(serial: int, born: str = "19800101") -> str:
    """A valid personnummer for someone born on ``born`` (YYYYMMDD), numbered ``serial`` (0-999)."""
    body = born[2:] + f"{serial % 1000:03d}"
    return born + f"{serial % 1000:03d}" + luhn.calc_check_digit(body)


def make_bank(
    session: Session, *, bic: str = "ESSESESS", name: str = "SEB", ranges: Sequence[str] | None = None
) -> BankOut:
    """A connected bank; by default SEB, which holds the accounts se_iban() numbers (bank code 500)."""
    return create_bank(session, bic=bic, name=name, ranges=ranges)


def make_bank_token(session: Session, bank: BankOut) -> str:
    return issue_bank_token(session, bank_id=bank.id, label="test").token


def account_record(
    account: str,
    *holders: tuple[str, str],
    opened_on: str = "2015-03-01",
    closed_on: str | None = None,
    scheme: str = "iban",
) -> dict[str, object]:
    """An account record as a bank sends it; ``holders`` are (personnummer, name) pairs."""
    return {
        "account_scheme": scheme,
        "account": account,
        "opened_on": opened_on,
        "closed_on": closed_on,
        "holders": [{"id_scheme": "se_personnummer", "identifier": i, "name": n} for i, n in holders],
    }


def make_staff(session: Session, username: str, personnummer: str, *roles: Role, name: str = "") -> None:
    """A member of staff who logs in with eID as ``personnummer``."""
    person = (IdScheme.SE_PERSONNUMMER, personnummer)
    create_staff(session, username=username, name=name or username, roles=list(roles), person=person)


def log_a_read(session: Session, personnummer: str, purpose: str) -> None:
    """An analyst's earlier read of a person's data, as the citizen's page shows it."""
    log_access(
        session,
        Access(
            actor="anna.analytiker",
            role="analyst",
            action="re_identify",
            purpose=purpose,
            person_scheme="se_personnummer",
            person_id=personnummer,
        ),
    )


def load_migration(pattern: str) -> ModuleType:
    """The one migration whose file name matches ``pattern`` (a glob), loaded as a module, so a test
    can run its upgrade and downgrade or read its SQL."""
    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    [path] = versions.glob(pattern)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def index_plan(session: Session, sql: str, params: dict[str, object] | None = None) -> str:
    """The plan (without costs) of ``sql`` when the table must be read through an index, as at
    national size: a test's few rows would otherwise be read whole."""
    session.execute(text("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"))
    lines = session.execute(text(f"EXPLAIN (COSTS OFF) {sql}"), params or {}).scalars()
    session.execute(text("RESET enable_seqscan; RESET enable_bitmapscan"))
    return "\n".join(lines)


def table_indexes(engine: Engine, table: str) -> dict[str, bool]:
    """Each index of ``table`` and whether it is valid (a failed concurrent build leaves it not)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = CAST(:table AS regclass)"
            ),
            {"table": table},
        )
        return {str(name): bool(valid) for name, valid in rows}
