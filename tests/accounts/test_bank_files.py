"""Banks' daily register files: one row per holder, loaded whole or not at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saldo.accounts.errors import RecordsRejectedError
from saldo.accounts.models import BankAccount, BankFile
from saldo.accounts.service.files import BankFileSource, load_bank_file
from saldo.banks.schemas import BankPrincipal
from tests.factories import auth, make_bank, pnr, se_iban

HEADER = "account_scheme;account;opened_on;closed_on;holder_scheme;holder_id;holder_name\n"


def row(account: str, holder: str, name: str, opened: str = "2019-04-01", closed: str = "") -> str:
    return f"iban;{account};{opened};{closed};se_personnummer;{holder};{name}\n"


GOOD = (
    HEADER
    + row(se_iban(1), pnr(1), "Anna Andersson")
    + row(se_iban(1), pnr(2), "Berit Lind")
    + row(se_iban(2), pnr(3), "Carl Ek", closed="2026-01-31")
)


def upload(client: TestClient, token: str, content: str, as_of: str = "2026-02-01") -> tuple[int, dict[str, object]]:
    response = client.post(
        "/api/v1/bank/account-files",
        content=content.encode(),
        params={"as_of": as_of, "filename": "register.csv"},
        headers={**auth(token), "Content-Type": "text/csv"},
    )
    body: dict[str, object] = response.json()
    return response.status_code, body


class TestLoadingAFile:
    def test_a_file_is_loaded_and_a_resent_file_changes_nothing(self, client: TestClient, bank_token: str) -> None:
        status, body = upload(client, bank_token, GOOD)
        assert status == 201, body
        assert (body["rows"], body["accounts"], body["opened"], body["closed"], body["holders_added"]) == (
            3,
            2,
            2,
            1,
            3,
        )
        again_status, again = upload(client, bank_token, GOOD)
        assert again_status == 200
        assert again["already_loaded"] is True
        assert again["file_id"] == body["file_id"]

    def test_the_next_days_file_records_the_differences(self, client: TestClient, bank_token: str) -> None:
        upload(client, bank_token, GOOD)
        next_day = (
            HEADER + row(se_iban(1), pnr(1), "Anna Andersson") + row(se_iban(2), pnr(3), "Carl Ek", closed="2026-01-31")
        )
        status, body = upload(client, bank_token, next_day, as_of="2026-02-02")
        assert status == 201
        assert (body["changed"], body["unchanged"], body["holders_removed"]) == (1, 1, 1)

    def test_comma_separated_with_defaults(self, client: TestClient, bank_token: str) -> None:
        content = "account,opened_on,holder_id,holder_name\n" + f"{se_iban(5)},2020-01-01,{pnr(5)},Dana Öberg\n"
        status, body = upload(client, bank_token, content)
        assert status == 201, body
        assert body["opened"] == 1


class TestBadFiles:
    def test_every_bad_row_is_reported_with_its_line_and_nothing_is_loaded(
        self, client: TestClient, bank_token: str
    ) -> None:
        content = (
            HEADER
            + row(se_iban(1), pnr(1), "Anna Andersson")
            + row(se_iban(2), pnr(2), "Berit Lind")
            + row(se_iban(2), pnr(3), "Carl Ek", opened="2019-05-01")  # line 4: disagrees on the opening date
            + row("SE0000000000000000000000", pnr(3), "Carl Ek")  # line 5: bad IBAN
            + row(se_iban(3), "19800101-0000", "Dana Ek")  # line 6: bad personnummer
            + "iban;too;few\n"  # line 7
            + row(se_iban(1), pnr(4), "Erik Ek")  # line 8: account 1 again, not with its other rows
        )
        status, body = upload(client, bank_token, content)
        assert status == 422
        found = [(e["line"], e["field"]) for e in body["errors"]]  # type: ignore[union-attr]
        assert found == [(4, "opened_on"), (5, "account"), (6, "holder_id"), (7, None), (8, "account")]
        assert body["extra"] == {"error_total": 5}
        lookup = client.get("/api/v1/bank/accounts", params={"account": se_iban(1)}, headers=auth(bank_token))
        assert lookup.status_code == 404

    def test_a_wrong_header_is_refused(self, client: TestClient, bank_token: str) -> None:
        status, body = upload(client, bank_token, "konto;namn\nx;y\n")
        assert status == 422
        assert body["error"] == "file_unreadable"
        assert "missing account, opened_on, holder_id, holder_name" in str(body["detail"])

    @pytest.mark.parametrize("cut", ["header", "row"])
    def test_a_bare_carriage_return_is_refused_with_its_line(
        self, client: TestClient, bank_token: str, cut: str
    ) -> None:
        content = HEADER + row(se_iban(1), pnr(1), "Anna Andersson")
        content = content.replace(";", ";\r", 1) if cut == "header" else content.replace("Anna", "An\rna")
        status, body = upload(client, bank_token, content)
        assert (status, body["error"]) == (422, "file_unreadable")
        assert str(body["detail"]).startswith("line 1" if cut == "header" else "line 2")

    def test_an_empty_file_is_refused(self, client: TestClient, bank_token: str) -> None:
        status, body = upload(client, bank_token, "")
        assert (status, body["error"]) == (422, "file_unreadable")


def test_a_rejected_file_leaves_nothing_in_the_callers_transaction(session: Session, tmp_path: Path) -> None:
    bank = make_bank(session)
    principal = BankPrincipal(bank_id=bank.id, bic=bank.bic, name=bank.name, token_id=0)
    path = tmp_path / "register.csv"
    path.write_text(HEADER + row(se_iban(1), pnr(1), "Anna Andersson") + row("SE00", pnr(2), "Berit Lind"))
    source = BankFileSource.from_path(path, dt.date(2026, 2, 1))
    with pytest.raises(RecordsRejectedError):
        load_bank_file(session, bank=principal, source=source, max_errors=10)
    # the same session goes on, and neither the good account nor the file row is there
    assert session.scalar(select(func.count()).select_from(BankAccount)) == 0
    assert session.scalar(select(func.count()).select_from(BankFile)) == 0


def test_a_file_over_the_size_limit_is_refused(client: TestClient, bank_token: str) -> None:
    limit = client.app.state.settings.max_upload_bytes  # type: ignore[attr-defined]
    status, body = upload(client, bank_token, HEADER + "x" * limit)
    assert (status, body["error"]) == (413, "file_too_large")


def test_a_windows_export_with_bom_and_crlf_is_read(client: TestClient, bank_token: str) -> None:
    content = "\ufeff" + (HEADER + row(se_iban(1), pnr(1), "Anna Andersson")).replace("\n", "\r\n")
    status, body = upload(client, bank_token, content)
    assert (status, body["opened"]) == (201, 1)


def test_bad_utf8_is_reported_on_its_line(client: TestClient, bank_token: str) -> None:
    content = (HEADER + row(se_iban(1), pnr(1), "Anna Andersson")).encode() + b"iban;\xff\xfe;x\n"
    response = client.post(
        "/api/v1/bank/account-files",
        content=content,
        headers={**auth(bank_token), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "line 3: not UTF-8 text at byte 6 (save the file as UTF-8)"
