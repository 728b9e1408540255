"""Payment runs: verified, due payments go out in schema-valid pain.001 files, each payment once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from saldo.iso20022.messages import MessageType
from saldo.iso20022.pain001 import read_credit_transfers
from saldo.iso20022.validate import validate_document
from saldo.kit.clock import today
from saldo.mediation.jobs import JobResources, execute_run
from saldo.mediation.models import RunStatus
from saldo.mediation.repository import RunRepository
from saldo.mediation.service.runs import plan_payment_runs
from saldo.settings import Settings
from tests.factories import auth, index_plan, load_migration, payment_body, se_iban
from tests.mediation.conftest import OWN_ACCOUNT, RegisterPayments, RunPayments


def statuses(client: TestClient, token: str, ids: list[int]) -> list[str]:
    return [client.get(f"/api/v1/payments/{i}", headers=auth(token)).json()["status"] for i in ids]


class TestPaymentRun:
    def test_verified_due_payments_go_out_in_valid_files_split_at_the_maximum(
        self,
        verified: RegisterPayments,
        run_payments: RunPayments,
        run_settings: Settings,
        session: Session,
        client: TestClient,
        token: str,
    ) -> None:
        ids = verified(5)
        run = run_payments(max_file=2)
        assert run.status is RunStatus.SENT
        assert (run.payments, run.files_planned) == (5, 3)
        files = RunRepository(session).files_of(run.id)
        assert [f.transactions for f in files] == [2, 2, 1]
        seen: list[str] = []
        for f in files:
            path = run_settings.outbox / f.path
            assert validate_document(path, MessageType.PAIN_001, count="CdtTrfTxInf") == f.transactions
            assert hashlib.sha256(path.read_bytes()).digest() == f.sha256
            manifest = json.loads(path.with_suffix(".manifest.json").read_text())
            assert manifest["sha256"] == f.sha256.hex()
            assert manifest["transactions"] == f.transactions
            seen += [t.end_to_end_id for t in read_credit_transfers(path)]
        assert sorted(seen) == sorted(str(i) for i in ids)
        assert statuses(client, token, ids) == ["sent"] * 5

    def test_the_file_carries_what_nordic_banks_need(
        self, verified: RegisterPayments, run_payments: RunPayments, run_settings: Settings, session: Session
    ) -> None:
        [pid] = verified(1, remittance_info="Bistånd <maj> & juni", amount_minor=123456)
        run = run_payments()
        [f] = RunRepository(session).files_of(run.id)
        root = etree.parse(str(run_settings.outbox / f.path)).getroot()
        ns = {"p": MessageType.PAIN_001.namespace}

        def one(path: str) -> str:
            found = root.xpath(path + "/text()", namespaces=ns)
            assert isinstance(found, list), path
            assert len(found) == 1, path
            return str(found[0])

        assert one("//p:GrpHdr/p:MsgId") == f.message_id
        assert one("//p:GrpHdr/p:NbOfTxs") == "1"
        assert one("//p:GrpHdr/p:CtrlSum") == "1234.56"
        assert one("//p:PmtInf/p:Dbtr/p:Nm") == "Testkommun"
        assert one("//p:DbtrAcct/p:Id/p:Othr/p:SchmeNm/p:Prtry") == "BGNR"
        assert one("//p:PmtTpInf/p:CtgyPurp/p:Cd") == "SSBE"
        assert one("//p:BtchBookg") == "true"
        assert one("//p:ReqdExctnDt/p:Dt") == today().isoformat()
        assert one("//p:CdtTrfTxInf/p:PmtId/p:EndToEndId") == str(pid)
        assert one("//p:CdtTrfTxInf/p:Cdtr/p:Nm") == "Anna Andersson"
        assert one("//p:CdtrAcct/p:Id/p:IBAN").startswith("SE")
        assert one("//p:RmtInf/p:Ustrd") == "Bistånd maj juni"  # < > & are outside the banks' character set
        # without the authority's number, the payer whose account is debited initiates, by its number
        assert one("//p:GrpHdr/p:InitgPty/p:Nm") == "Testkommun"
        assert one("//p:GrpHdr/p:InitgPty/p:Id/p:OrgId/p:Othr/p:Id") == one(
            "//p:PmtInf/p:Dbtr/p:Id/p:OrgId/p:Othr/p:Id"
        )

    def test_the_authority_initiates_by_its_own_number_when_it_is_set(
        self, verified: RegisterPayments, run_payments: RunPayments, run_settings: Settings, session: Session
    ) -> None:
        verified(1)
        run = run_payments(settings=run_settings.model_copy(update={"authority_organisation_number": "2021006255"}))
        [f] = RunRepository(session).files_of(run.id)
        root = etree.parse(str(run_settings.outbox / f.path)).getroot()
        ns = {"p": MessageType.PAIN_001.namespace}
        party = root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:InitgPty", ns)
        assert party is not None
        assert party.findtext("p:Nm", namespaces=ns) == run_settings.authority_name
        assert party.findtext("p:Id/p:OrgId/p:Othr/p:Id", namespaces=ns) == "2021006255"

    def test_running_again_writes_nothing_new_and_no_payment_twice(
        self, verified: RegisterPayments, run_payments: RunPayments, session: Session
    ) -> None:
        verified(3)
        run = run_payments(max_file=2)
        again = plan_payment_runs(session, execution_date=today(), requested_by="staff:test", max_file_transactions=2)
        assert again == []  # the day's run for the account is done
        files = RunRepository(session).files_of(run.id)
        assert len(files) == 2
        rows = session.execute(
            text("SELECT count(*), count(DISTINCT id) FROM payments WHERE run_id = :r"), {"r": run.id}
        )
        assert rows.one() == (3, 3)

    def test_a_files_payments_are_found_by_the_file_index_before_and_after_its_migration(
        self, verified: RegisterPayments, run_payments: RunPayments, session: Session
    ) -> None:
        """The index keyed by file alone serves a file's lookup, and its migration, down and up again
        in the test's transaction, leaves each file finding the same payments."""
        verified(5)
        run = run_payments(max_file=2)
        repository = RunRepository(session)

        def files() -> list[list[int]]:
            return [sorted(r[0] for r in repository.file_rows(run.id, f.sequence)) for f in repository.files_of(run.id)]

        def plan() -> str:
            return index_plan(session, "SELECT id FROM payments WHERE run_id = :r AND file_sequence = 1", {"r": run.id})

        found = files()
        assert sorted(len(f) for f in found) == [1, 2, 2]
        assert "ix_payments_run_id_file_sequence " in plan() + " "
        migration = load_migration("*_runs_payments_indexed_by_file.py")
        with Operations.context(MigrationContext.configure(session.connection())):
            migration.downgrade()
            assert "ix_payments_run_id_file_sequence_id" in plan()
            assert files() == found
            migration.upgrade()
        assert "ix_payments_run_id_file_sequence_id" not in plan()
        assert files() == found

    def test_payments_not_due_held_or_registered_stay_out(
        self, verified: RegisterPayments, run_payments: RunPayments, client: TestClient, token: str
    ) -> None:
        due = verified(2)
        later = verified(1, due=today() + dt.timedelta(days=5))
        held = verified(1)
        assert (
            client.post(
                f"/api/v1/payments/{held[0]}/hold", json={"reason": "utredning"}, headers=auth(token)
            ).status_code
            == 200
        )
        run = run_payments()
        assert run.payments == 2
        assert statuses(client, token, due + later + held) == ["sent", "sent", "verified", "held"]

    def test_a_sent_payment_cannot_be_moved_to_another_file(
        self, verified: RegisterPayments, run_payments: RunPayments, session: Session
    ) -> None:
        [pid] = verified(1)
        run_payments()
        with pytest.raises(DBAPIError, match="never in two files"), session.begin_nested():
            session.execute(text("UPDATE payments SET file_sequence = 2 WHERE id = :id"), {"id": pid})


def test_a_payment_registered_after_the_run_was_planned_is_checked_and_taken(
    verified: RegisterPayments,
    client: TestClient,
    token: str,
    session: Session,
    sessions: sessionmaker[Session],
    run_settings: Settings,
) -> None:
    early = verified(1)
    [run] = plan_payment_runs(session, execution_date=today(), requested_by="staff:test", max_file_transactions=10)
    session.commit()
    late = client.post("/api/v1/payments", json=payment_body(account=OWN_ACCOUNT), headers=auth(token)).json()["id"]
    wrong = client.post("/api/v1/payments", json=payment_body(account=se_iban(99)), headers=auth(token)).json()["id"]
    done = execute_run(JobResources(settings=run_settings, sessions=sessions, database_url="unused"), run.id)
    assert done.payments == 2
    assert statuses(client, token, [*early, late, wrong]) == ["sent", "sent", "held"]
