"""The bank's answers: pain.002 and camt.054/053 move sent payments, whole files or nothing, and
whatever cannot be tied to one payment is reported, never guessed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.iso20022.camt import NotifiedEntry, NotifiedTransaction, write_debit_credit_notification
from saldo.iso20022.pain002 import ReportedTransaction, write_status_report
from saldo.kit.account_number import AccountScheme
from saldo.kit.clock import today
from saldo.mediation.models import PaymentRun
from saldo.mediation.repository import RunRepository
from saldo.mediation.service.files import block_id
from saldo.mediation.service.reconcile import get_run, unattributed_entries
from saldo.settings import Settings
from saldo.synthetic.bank import answer_payment_file
from tests.factories import VALID_BANKGIRO, auth, load_migration, make_bank, make_bank_token, make_payer, make_token
from tests.mediation.conftest import RegisterPayments, RunPayments

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def post(client: TestClient, bank_token: str, path: Path) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/api/v1/bank/payment-messages",
        content=path.read_bytes(),
        headers={**auth(bank_token), "Content-Type": "application/xml"},
        params={"filename": path.name},
    )
    return response.status_code, response.json()


def status_of(client: TestClient, token: str, pid: int) -> str:
    return str(client.get(f"/api/v1/payments/{pid}", headers=auth(token)).json()["status"])


def last_reason(client: TestClient, token: str, pid: int) -> str:
    return str(client.get(f"/api/v1/payments/{pid}/history", headers=auth(token)).json()[-1]["reason"])


def status_report(
    tmp_path: Path,
    original: str,
    rows: list[ReportedTransaction],
    *,
    block: str = "B1",
    name: str = "st.xml",
    group: str | None = "PART",
    group_reason: str | None = None,
    blocks: list[tuple[str, list[ReportedTransaction]]] | None = None,
    block_statuses: dict[str, tuple[str, str | None]] | None = None,
) -> Path:
    """A pain.002 answering ``original``: by default one block ``block`` listing ``rows``."""
    path = tmp_path / name
    with path.open("wb") as out:
        write_status_report(
            out,
            message_id=f"ST-{name}",
            created_at=NOW,
            original_message_id=original,
            group_status=group,
            group_reason=group_reason,
            blocks=[(block, rows)] if blocks is None else blocks,
            block_statuses=block_statuses,
        )
    return path


def notification(
    tmp_path: Path, entries: list[NotifiedEntry], *, account: str = VALID_BANKGIRO, name: str = "nt.xml"
) -> Path:
    path = tmp_path / name
    with path.open("wb") as out:
        write_debit_credit_notification(
            out,
            message_id=f"NT-{name}",
            created_at=NOW,
            account_scheme=AccountScheme.SE_BANKGIRO,
            account_number=account,
            entries=entries,
        )
    return path


@pytest.fixture
def sent(verified: RegisterPayments, run_payments: RunPayments) -> tuple[PaymentRun, list[int]]:
    ids = verified(3)
    return run_payments(), ids


def message_id_of(session: Session, run: PaymentRun) -> str:
    return RunRepository(session).files_of(run.id)[0].message_id


class TestStatusReport:
    def test_a_rejection_moves_the_payment_with_the_banks_reason(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, (a, b, c) = sent
        rows = [ReportedTransaction(str(a), "RJCT", "AC04"), ReportedTransaction(str(b), "ACCP")]
        code, body = post(client, bank_token, status_report(tmp_path, message_id_of(session, run), rows))
        assert code == 201, body
        assert (body["entries"], body["applied"], body["unchanged"], body["unmatched"]) == (2, 1, 1, 0)
        assert [status_of(client, token, p) for p in (a, b, c)] == ["rejected", "sent", "sent"]
        assert last_reason(client, token, a).startswith("rejected by the bank: AC04 (closed account number)")

    def test_reading_the_same_file_twice_changes_nothing(
        self, sent: tuple[PaymentRun, list[int]], session: Session, client: TestClient, bank_token: str, tmp_path: Path
    ) -> None:
        run, (a, _, _) = sent
        path = status_report(tmp_path, message_id_of(session, run), [ReportedTransaction(str(a), "RJCT", "AC01")])
        assert post(client, bank_token, path)[0] == 201
        code, body = post(client, bank_token, path)
        assert code == 200
        assert body["already_read"] is True
        assert body["applied"] == 0

    def test_entries_that_cannot_be_tied_to_one_payment_are_reported_not_applied(
        self,
        sent: tuple[PaymentRun, list[int]],
        verified: RegisterPayments,
        session: Session,
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, (a, _b, _) = sent
        [outside] = verified(1)  # verified, in no file
        rows = [
            ReportedTransaction("999999999", "RJCT", "AC01"),
            ReportedTransaction(str(outside), "RJCT", "AC01"),
            ReportedTransaction(str(a), "RJCT", "AC04"),
            ReportedTransaction(str(a), "ACCP"),
            ReportedTransaction("not-ours", "RJCT", "AC01"),
        ]
        code, body = post(client, bank_token, status_report(tmp_path, message_id_of(session, run), rows))
        assert code == 201, body
        assert (body["applied"], body["unmatched"]) == (0, 5)
        reasons = [e["reason"] for e in body["unmatched_entries"]]  # type: ignore[index]
        assert "no payment has end-to-end id 999999999" in reasons
        assert f"payment {outside} is not in the file this report answers" in reasons
        assert reasons.count(f"the message reports on payment {a} more than once") == 2  # contradictory
        assert status_of(client, token, a) == "sent"
        assert status_of(client, token, outside) == "verified"

    def test_a_rejected_group_rejects_every_payment_in_the_file(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, ids = sent
        path = status_report(tmp_path, message_id_of(session, run), [], group="RJCT", group_reason="FF01", blocks=[])
        code, body = post(client, bank_token, path)
        assert code == 201
        assert body["applied"] == 3
        assert {status_of(client, token, p) for p in ids} == {"rejected"}
        assert "FF01 (invalid file format)" in last_reason(client, token, ids[0])

    def test_a_rejected_block_rejects_that_payers_payments_only(
        self,
        verified: RegisterPayments,
        run_payments: RunPayments,
        session: Session,
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        ours = verified(2)
        region = make_token(session, make_payer(session, name="Region Testland"))
        session.commit()
        theirs = verified(1, as_payer=region, benefit="SJP")
        run = run_payments()
        file = RunRepository(session).files_of(run.id)[0]
        payer_id = client.get("/api/v1/payer", headers=auth(token)).json()["id"]
        block = block_id(file.message_id, payer_id, "SSBE", "SEK")
        path = status_report(
            tmp_path,
            file.message_id,
            [],
            blocks=[(block, []), ("SOMETHING-ELSE", [])],
            block_statuses={block: ("RJCT", "AM04"), "SOMETHING-ELSE": ("RJCT", "AM04")},
        )
        code, body = post(client, bank_token, path)
        assert code == 201, body
        assert (body["applied"], body["unmatched"]) == (2, 1)
        assert [status_of(client, token, p) for p in ours] == ["rejected", "rejected"]
        assert status_of(client, region, theirs[0]) == "sent"
        assert "AM04 (insufficient funds)" in last_reason(client, token, ours[0])
        assert body["unmatched_entries"][0]["end_to_end_id"] == "SOMETHING-ELSE"  # type: ignore[index]

    def test_a_report_for_a_file_saldo_never_sent_is_refused(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, _, _) = sent
        code, body = post(
            client, bank_token, status_report(tmp_path, "SOMEONE-ELSES", [ReportedTransaction(str(a), "RJCT")])
        )
        assert code == 422
        assert body["error"] == "message_refused"
        assert "which Saldo never sent" in str(body["detail"])


class TestNotification:
    def test_booked_debits_settle_and_returns_come_back_with_their_reason(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, b, c) = sent
        paid = [NotifiedTransaction(str(p), 125000, "SEK") for p in (a, b, c)]
        back = NotifiedTransaction(str(c), 125000, "SEK", return_reason="MD07")
        path = notification(tmp_path, [NotifiedEntry(today(), paid), NotifiedEntry(today(), [back])])
        code, body = post(client, bank_token, path)
        assert code == 201, body
        assert (body["entries"], body["applied"], body["unmatched"]) == (4, 4, 0)
        assert [status_of(client, token, p) for p in (a, b, c)] == ["settled", "settled", "returned"]
        history = client.get(f"/api/v1/payments/{c}/history", headers=auth(token)).json()
        assert [h["to_status"] for h in history[-2:]] == ["settled", "returned"]
        assert history[-1]["reason"].startswith("returned by the payee's bank: MD07 (the payee has died)")
        assert history[-1]["actor"] == "bank:ESSESESS:camt.054.001.08:NT-nt.xml"  # the bank and its message

    def test_a_return_read_before_its_debit_still_ends_returned(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, _, _) = sent
        back = NotifiedTransaction(str(a), 125000, "SEK", return_reason="AC04")
        paid = NotifiedTransaction(str(a), 125000, "SEK")
        assert (
            post(client, bank_token, notification(tmp_path, [NotifiedEntry(today(), [back])], name="r.xml"))[1][
                "applied"
            ]
            == 1
        )
        _code, body = post(client, bank_token, notification(tmp_path, [NotifiedEntry(today(), [paid])], name="d.xml"))
        assert (body["applied"], body["unchanged"]) == (0, 1)
        assert status_of(client, token, a) == "returned"

    def test_an_amount_or_currency_that_differs_is_unmatched(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, b, _) = sent
        entries = [
            NotifiedEntry(today(), [NotifiedTransaction(str(a), 125001, "SEK")]),
            NotifiedEntry(today(), [NotifiedTransaction(str(b), 125000, "EUR")]),
        ]
        code, body = post(client, bank_token, notification(tmp_path, entries))
        assert code == 201
        assert body["applied"] == 0
        assert body["unmatched"] == 2
        reasons = sorted(e["reason"] for e in body["unmatched_entries"])  # type: ignore[union-attr]
        assert reasons == [
            "amount 125001 differs from the payment's 125000 (minor units)",
            "currency EUR differs from the payment's SEK",
        ]
        assert status_of(client, token, a) == "sent"

    def test_a_notification_for_another_account_is_refused(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, _, _) = sent
        path = notification(
            tmp_path, [NotifiedEntry(today(), [NotifiedTransaction(str(a), 125000, "SEK")])], account="9999999"
        )
        code, body = post(client, bank_token, path)
        assert code == 422
        assert "no debtor account Saldo pays from" in str(body["detail"])


class TestBadFiles:
    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (b"<Document><unclosed>", "line"),
            (b"", "empty"),
            (
                b'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">'
                b"<CstmrPmtStsRpt>"
                b"<GrpHdr><MsgId>X</MsgId></GrpHdr></CstmrPmtStsRpt></Document>",
                "not valid",
            ),
            (b'<?xml version="1.0"?><Document xmlns="urn:example:other"/>', "not an ISO 20022 message"),
            (
                b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>'
                b"<GrpHdr><MsgId>&x;</MsgId><CreDtTm>2026-01-01T00:00:00</CreDtTm></GrpHdr></CstmrPmtStsRpt></Document>",
                "DOCTYPE",
            ),
        ],
    )
    def test_a_broken_file_is_refused_whole_with_where_and_why(
        self,
        sent: tuple[PaymentRun, list[int]],
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
        content: bytes,
        expected: str,
    ) -> None:
        _, ids = sent
        path = tmp_path / "bad.xml"
        path.write_bytes(content)
        code, body = post(client, bank_token, path)
        assert code == 422, body
        assert expected.lower() in (str(body["detail"]) + str(body["errors"])).lower()
        assert {status_of(client, token, p) for p in ids} == {"sent"}

    def test_a_file_invalid_after_valid_entries_applies_none_of_them(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, (a, _b, _) = sent
        good = status_report(tmp_path, message_id_of(session, run), [ReportedTransaction(str(a), "RJCT", "AC04")])
        broken = good.read_bytes().replace(
            b"</OrgnlPmtInfAndSts>", b"<TxInfAndSts><Bogus/></TxInfAndSts></OrgnlPmtInfAndSts>"
        )
        path = tmp_path / "broken.xml"
        path.write_bytes(broken)
        code, body = post(client, bank_token, path)
        assert code == 422
        assert body["errors"][0]["line"]
        assert status_of(client, token, a) == "sent"

    def test_a_pain001_sent_back_is_refused(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        run_settings: object,
        client: TestClient,
        bank_token: str,
    ) -> None:
        run, _ = sent
        [f] = RunRepository(session).files_of(run.id)
        code, body = post(client, bank_token, run_settings.outbox / f.path)  # type: ignore[attr-defined]
        assert code == 422
        assert "not an answer from the bank" in str(body["detail"])


class TestUnknownReferences:
    """An entry that names no payment Saldo sent is never lost: it counts in the run of the file a
    status report answers, and a camt entry on the account is listed with the account."""

    def test_a_status_report_entry_for_an_unknown_reference_keeps_its_run_unreconciled(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, (a, b, c) = sent
        rows = [ReportedTransaction(str(p), "RJCT", "AC04") for p in (a, b, c)]
        rows.append(ReportedTransaction("999999999", "RJCT", "AC01"))  # a transaction Saldo never sent
        code, body = post(client, bank_token, status_report(tmp_path, message_id_of(session, run), rows))
        assert code == 201, body
        assert (body["applied"], body["unmatched"]) == (3, 1)
        assert body["unmatched_entries"][0]["run_id"] == run.id  # type: ignore[index]
        authority = get_run(session, run.id)
        assert authority.reconciliation.outstanding.payments == 0
        assert authority.reconciliation.unmatched_entries == 1
        assert authority.reconciliation.reconciled is False  # every payment answered, yet one entry unexplained
        # The entry names none of the payer's payments: its view counts only what is its own.
        mine = client.get(f"/api/v1/payment-runs/{run.id}", headers=auth(token)).json()
        assert mine["reconciliation"]["unmatched_entries"] == 0
        assert mine["reconciliation"]["reconciled"] is True
        assert mine["unattributed_on_account"] is None

    def test_a_notification_entry_for_an_unknown_reference_is_listed_with_its_account(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        client: TestClient,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, (a, b, c) = sent
        paid = [NotifiedTransaction(str(p), 125000, "SEK") for p in (a, b, c)]
        stranger = NotifiedTransaction("888888888", 4200, "SEK")
        code, body = post(client, bank_token, notification(tmp_path, [NotifiedEntry(today(), [*paid, stranger])]))
        assert code == 201, body
        assert (body["applied"], body["unmatched"]) == (3, 1)
        assert body["unmatched_entries"][0]["run_id"] is None  # type: ignore[index]
        authority = get_run(session, run.id)
        assert authority.reconciliation.reconciled is True  # the entry is not guessed into the run
        assert authority.unattributed_on_account == 1  # but shown beside it
        [listed] = unattributed_entries(session, account=run.debtor_account)
        assert (listed.debtor_account_scheme, listed.debtor_account) == ("se_bankgiro", run.debtor_account)
        assert (listed.end_to_end_id, listed.amount_minor, listed.message_id) == ("888888888", 4200, "NT-nt.xml")
        assert listed.reason == "no payment has end-to-end id 888888888"
        assert unattributed_entries(session, account="0000000") == []


def test_the_synthetic_banks_answers_reconcile_a_run(
    verified: RegisterPayments,
    run_payments: RunPayments,
    session: Session,
    run_settings: object,
    client: TestClient,
    token: str,
    bank_token: str,
    tmp_path: Path,
) -> None:
    verified(40)
    run = run_payments(max_file=25)
    for f in RunRepository(session).files_of(run.id):
        answers = answer_payment_file(
            run_settings.outbox / f.path,
            tmp_path / "bank",
            seed=3,
            # The draw hangs on end-to-end ids, which hang on the database's sequences: at 10 % a run
            # of 40 had no rejection once in about 70 orders of the tests; at 30 % once in a million.
            reject_rate=0.3,
            return_rate=0.3,  # type: ignore[attr-defined]
        )
        assert post(client, bank_token, answers.status_report)[0] == 201
        assert post(client, bank_token, answers.notification)[1]["unmatched"] == 0
    body = client.get(f"/api/v1/payment-runs/{run.id}", headers=auth(token)).json()
    r = body["reconciliation"]
    assert r["outstanding"]["payments"] == 0
    assert r["unmatched_entries"] == 0
    assert r["reconciled"] is True
    assert r["settled"]["payments"] + r["rejected"]["payments"] + r["returned"]["payments"] == 40
    assert r["rejected"]["payments"] > 0
    assert r["returned"]["payments"] > 0
    assert body["files_written"] == 2
    assert len(body["files"]) == 2


STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt>
<GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-11-22T18:00:00+00:00</CreDtTm></GrpHdr>
<Stmt><Id>STMT-1</Id>
<Acct><Id><Othr><Id>{account}</Id></Othr></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="SEK">1000000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2026-11-22</Dt></Dt></Bal>
<Ntry><Amt Ccy="SEK">1250.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-22</Dt></BookgDt>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>{paid}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="SEK">1250.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>{pending}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
</Stmt>
</BkToCstmrStmt>
</Document>
"""


def test_a_statement_settles_booked_entries_and_leaves_pending_ones(
    sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, bank_token: str, tmp_path: Path
) -> None:
    _, (a, b, _) = sent
    path = tmp_path / "camt053.xml"
    path.write_text(STATEMENT.format(account=VALID_BANKGIRO, paid=a, pending=b), encoding="utf-8")
    code, body = post(client, bank_token, path)
    assert code == 201, body
    assert (body["message_type"], body["applied"], body["unchanged"], body["unmatched"]) == ("camt.053.001.08", 1, 1, 0)
    assert [status_of(client, token, p) for p in (a, b)] == ["settled", "sent"]


class TestEntriesOutOfTheOrdinary:
    def test_an_amount_with_more_decimals_than_its_currency_is_unmatched(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, _, _) = sent
        path = notification(tmp_path, [NotifiedEntry(today(), [NotifiedTransaction(str(a), 125000, "SEK")])])
        transaction = b"1250.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls>"
        path.write_bytes(path.read_bytes().replace(transaction, transaction.replace(b"1250.00", b"1250.001")))
        code, body = post(client, bank_token, path)
        assert code == 201, body
        assert body["unmatched"] == 1
        assert body["unmatched_entries"][0]["reason"] == "the amount cannot be read in currency SEK"  # type: ignore[index]
        assert status_of(client, token, a) == "sent"

    def test_a_status_report_answering_something_other_than_a_pain001_is_refused(
        self, sent: tuple[PaymentRun, list[int]], session: Session, client: TestClient, bank_token: str, tmp_path: Path
    ) -> None:
        run, (a, _, _) = sent
        path = status_report(tmp_path, message_id_of(session, run), [ReportedTransaction(str(a), "RJCT", "AC04")])
        path.write_bytes(path.read_bytes().replace(b"<OrgnlMsgNmId>pain.001.001.09", b"<OrgnlMsgNmId>pacs.008.001.08"))
        code, body = post(client, bank_token, path)
        assert code == 422
        assert "answers a pacs.008.001.08 message" in str(body["detail"])

    def test_a_message_with_several_statements_applies_each(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, bank_token: str, tmp_path: Path
    ) -> None:
        """ISO 20022 allows any number of notifications or statements in one message."""
        _, (a, b, c) = sent
        first = STATEMENT.format(account=VALID_BANKGIRO, paid=a, pending=b)
        second = STATEMENT.format(account=VALID_BANKGIRO, paid=c, pending=999_999_999)
        start, end = second.index("<Stmt>"), second.index("</Stmt>") + len("</Stmt>")
        cut = first.index("</Stmt>") + len("</Stmt>")
        path = tmp_path / "two.xml"
        path.write_text(first[:cut] + "\n" + second[start:end] + first[cut:], encoding="utf-8")
        code, body = post(client, bank_token, path)
        assert code == 201, body
        assert (body["applied"], body["unchanged"], body["unmatched"]) == (2, 1, 1)
        assert [status_of(client, token, p) for p in (a, b, c)] == ["settled", "sent", "settled"]

    def test_a_statement_of_an_account_saldo_does_not_pay_from_refuses_the_whole_message(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, b, _) = sent
        one = STATEMENT.format(account=VALID_BANKGIRO, paid=a, pending=b)
        other = STATEMENT.format(account="99999999", paid=b, pending=a)
        start, end = other.index("<Stmt>"), other.index("</Stmt>") + len("</Stmt>")
        cut = one.index("</Stmt>") + len("</Stmt>")
        path = tmp_path / "two.xml"
        path.write_text(one[:cut] + "\n" + other[start:end] + one[cut:], encoding="utf-8")
        code, body = post(client, bank_token, path)
        assert code == 422, body
        assert "account 99999999, which is no debtor account Saldo pays from" in str(body["detail"])
        assert status_of(client, token, a) == "sent"  # its first statement's booking was not applied either

    def test_a_credit_that_is_no_return_is_unmatched(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, _, _) = sent
        path = notification(tmp_path, [NotifiedEntry(today(), [NotifiedTransaction(str(a), 125000, "SEK")])])
        path.write_bytes(path.read_bytes().replace(b"DBIT", b"CRDT"))
        code, body = post(client, bank_token, path)
        assert code == 201, body
        assert body["unmatched_entries"][0]["reason"] == "a credit to the account that is not a return of a payment"  # type: ignore[index]


# (group status, block status, the listed payment's own status) -> (listed payment, unlisted payment)
# "-" : not given; a block of "none" is not in the report at all, nor is any transaction.
STATUS_TABLE = [
    ("RJCT", "-", "-", "rejected", "rejected"),
    ("RJCT", "-", "ACCP", "rejected", "rejected"),
    ("RJCT", "ACCP", "ACCP", "rejected", "rejected"),
    ("RJCT", "none", "-", "rejected", "rejected"),
    ("PART", "RJCT", "-", "rejected", "rejected"),
    ("PART", "RJCT", "ACCP", "rejected", "rejected"),
    ("PART", "-", "RJCT", "rejected", "sent"),
    ("PART", "-", "-", "sent", "sent"),
    ("PART", "ACCP", "-", "sent", "sent"),
    ("PART", "PART", "RJCT", "rejected", "sent"),
    ("ACCP", "-", "RJCT", "rejected", "sent"),
    ("ACTC", "-", "-", "sent", "sent"),
    ("ACSP", "-", "RJCT", "rejected", "sent"),
    ("ACCP", "none", "-", "sent", "sent"),
    ("ACTC", "none", "-", "sent", "sent"),
    ("ACSP", "none", "-", "sent", "sent"),
    ("-", "RJCT", "-", "rejected", "rejected"),
    ("-", "-", "RJCT", "rejected", "sent"),
    ("-", "RJCT", "ACSP", "rejected", "rejected"),
]


@pytest.mark.parametrize(("group", "block", "own", "listed", "unlisted"), STATUS_TABLE)
def test_group_block_and_transaction_statuses_combine_as_iso_20022_says(
    sent: tuple[PaymentRun, list[int]],
    session: Session,
    client: TestClient,
    token: str,
    bank_token: str,
    tmp_path: Path,
    group: str,
    block: str,
    own: str,
    listed: str,
    unlisted: str,
) -> None:
    """A rejected group or block rejects every payment in it, listed or not; otherwise the listed
    payments carry their own status (else their block's, else the group's) and the rest stay sent."""
    run, (a, b, _) = sent
    file = RunRepository(session).files_of(run.id)[0]
    payer_id = client.get("/api/v1/payer", headers=auth(token)).json()["id"]
    ours = block_id(file.message_id, payer_id, "SSBE", "SEK")
    given = {"-": None, "none": None}
    path = status_report(
        tmp_path,
        file.message_id,
        [ReportedTransaction(str(a), given.get(own, own) or "")],
        block=ours,
        group=given.get(group, group),
        group_reason="FF01" if group == "RJCT" else None,
        blocks=[] if block == "none" else None,
        block_statuses={ours: (block, "AM04" if block == "RJCT" else None)} if block not in given else None,
    )
    code, body = post(client, bank_token, path)
    assert code == 201, body
    assert body["unmatched"] == 0
    assert (status_of(client, token, a), status_of(client, token, b)) == (listed, unlisted)


def test_a_listed_rejection_keeps_its_own_reason_inside_a_rejected_group(
    sent: tuple[PaymentRun, list[int]],
    session: Session,
    client: TestClient,
    token: str,
    bank_token: str,
    tmp_path: Path,
) -> None:
    run, (a, b, _) = sent
    rows = [ReportedTransaction(str(a), "RJCT", "AC04")]
    path = status_report(tmp_path, message_id_of(session, run), rows, group="RJCT", group_reason="FF01")
    code, body = post(client, bank_token, path)
    assert code == 201, body
    assert "AC04" in last_reason(client, token, a)
    assert "FF01" in last_reason(client, token, b)


def test_other_bytes_under_a_message_id_already_used_are_flagged(
    sent: tuple[PaymentRun, list[int]], session: Session, bank_token: str, client: TestClient, tmp_path: Path
) -> None:
    run, (a, b, _) = sent
    original = message_id_of(session, run)
    first = status_report(tmp_path, original, [ReportedTransaction(str(a), "RJCT", "AC04")], name="one.xml")
    code, body = post(client, bank_token, first)
    assert code == 201, body
    assert "message_id_seen_before" not in body["summary"]  # type: ignore[operator]
    second = status_report(tmp_path, original, [ReportedTransaction(str(b), "RJCT", "AC04")], name="two.xml")
    second.write_bytes(second.read_bytes().replace(b"ST-two.xml", b"ST-one.xml"))  # the bank's MsgId again
    code, again = post(client, bank_token, second)
    assert code == 201, again
    assert again["summary"]["message_id_seen_before"] == [body["id"]]  # type: ignore[index]


class TestOnlyTheBankHoldingTheAccountAnswers:
    """A bank's answers move only the payments Saldo sent to that bank: the runs from the debtor
    accounts it holds. Another bank's pain.002 or camt is refused whole, and changes nothing."""

    @pytest.fixture
    def other_bank_token(self, session: Session) -> str:
        token = make_bank_token(session, make_bank(session, bic="HANDSESS", name="Handelsbanken"))
        session.commit()
        return token

    def test_a_run_goes_to_the_bank_holding_its_debtor_account(
        self, sent: tuple[PaymentRun, list[int]], session: Session, run_settings: Settings
    ) -> None:
        run, _ = sent
        [file] = RunRepository(session).files_of(run.id)
        assert file.path.startswith("ESSESESS/pain.001.001.09/")  # the bank's own folder of the outbox
        written = (run_settings.outbox / file.path).read_text(encoding="utf-8")
        assert "<DbtrAgt><FinInstnId><BICFI>ESSESESS</BICFI></FinInstnId></DbtrAgt>" in written

    def test_another_banks_status_report_is_refused(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        client: TestClient,
        token: str,
        other_bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, (a, b, _) = sent
        rows = [ReportedTransaction(str(a), "RJCT", "AC04"), ReportedTransaction(str(b), "RJCT", "AC04")]
        code, body = post(client, other_bank_token, status_report(tmp_path, message_id_of(session, run), rows))
        assert code == 422, body
        assert body["detail"] == (
            f"nothing was applied: the report answers message {message_id_of(session, run)!r}, "
            "which Saldo never sent to your bank"
        )
        assert [status_of(client, token, p) for p in (a, b)] == ["sent", "sent"]

    def test_another_banks_notification_about_the_account_is_refused(
        self, sent: tuple[PaymentRun, list[int]], client: TestClient, token: str, other_bank_token: str, tmp_path: Path
    ) -> None:
        _, (a, _, _) = sent
        paid = NotifiedTransaction(str(a), 125000, "SEK")
        back = NotifiedTransaction(str(a), 125000, "SEK", return_reason="AC04")
        path = notification(tmp_path, [NotifiedEntry(today(), [paid]), NotifiedEntry(today(), [back])])
        code, body = post(client, other_bank_token, path)
        assert code == 422, body
        assert body["detail"] == (
            f"nothing was applied: the message is about account {VALID_BANKGIRO}, "
            "which Saldo does not pay from through your bank"
        )
        assert status_of(client, token, a) == "sent"

    def test_the_same_file_from_another_bank_after_the_right_one_is_refused_too(
        self,
        sent: tuple[PaymentRun, list[int]],
        client: TestClient,
        token: str,
        bank_token: str,
        other_bank_token: str,
        tmp_path: Path,
    ) -> None:
        _, (a, _, _) = sent
        path = notification(tmp_path, [NotifiedEntry(today(), [NotifiedTransaction(str(a), 125000, "SEK")])])
        assert post(client, bank_token, path)[0] == 201
        code, body = post(client, other_bank_token, path)
        assert code == 422, body
        assert body["detail"] == "nothing was applied: the message answers payments Saldo never sent to your bank"

    def test_the_history_names_the_bank_and_its_message(
        self,
        sent: tuple[PaymentRun, list[int]],
        session: Session,
        client: TestClient,
        token: str,
        bank_token: str,
        tmp_path: Path,
    ) -> None:
        run, (a, _, _) = sent
        rows = [ReportedTransaction(str(a), "RJCT", "AC04")]
        assert post(client, bank_token, status_report(tmp_path, message_id_of(session, run), rows))[0] == 201
        history = client.get(f"/api/v1/payments/{a}/history", headers=auth(token)).json()
        assert history[-1]["actor"] == "bank:ESSESESS:pain.002.001.10:ST-st.xml"


def test_the_migration_gives_entries_read_before_it_the_run_and_account_they_are_recorded_with_now(
    sent: tuple[PaymentRun, list[int]], session: Session, client: TestClient, bank_token: str, tmp_path: Path
) -> None:
    """Entries read before unmatched entries named their run get, from the migration, the same run
    and account as entries read now (the migration runs down and up again in the test's transaction)."""
    run, (a, b, _) = sent
    report = [ReportedTransaction(str(a), "ACCP"), ReportedTransaction("999999999", "RJCT", "AC01")]
    post(client, bank_token, status_report(tmp_path, message_id_of(session, run), report))
    stranger = NotifiedTransaction("888888888", 4200, "SEK")
    wrong_amount = NotifiedTransaction(str(b), 1, "SEK")
    post(client, bank_token, notification(tmp_path, [NotifiedEntry(today(), [stranger, wrong_amount])]))
    columns = "SELECT id, run_id, debtor_account_scheme, debtor_account FROM unmatched_entries ORDER BY id"
    recorded = session.execute(text(columns)).all()
    assert [r[1:] for r in recorded] == [
        (run.id, None, None),
        (None, "se_bankgiro", run.debtor_account),
        (run.id, "se_bankgiro", run.debtor_account),
    ]
    migration = load_migration("*_unmatched_entries_name_their_run.py")
    with Operations.context(MigrationContext.configure(session.connection())):
        migration.downgrade()
        migration.upgrade()
    assert session.execute(text(columns)).all() == recorded
