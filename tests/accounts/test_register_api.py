"""Banks feed the account register through the API: accounts, holders, closings, history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import account_record, auth, pnr, se_iban

ANNA = (pnr(1), "Anna Andersson")
BERIT = (pnr(2), "Berit Lind")
IBAN = se_iban(1)


def report(client: TestClient, token: str, *records: dict[str, object], as_of: str = "2026-01-15") -> dict[str, object]:
    response = client.post(
        "/api/v1/bank/accounts", json={"as_of": as_of, "accounts": list(records)}, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def show(client: TestClient, token: str, account: str, on: str | None = None) -> dict[str, object]:
    params = {"account": account, **({"on": on} if on else {})}
    response = client.get("/api/v1/bank/accounts", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


class TestReportingAccounts:
    def test_a_new_account_is_opened_with_its_holders(self, client: TestClient, bank_token: str) -> None:
        summary = report(client, bank_token, account_record(IBAN, ANNA, BERIT))
        assert summary["opened"] == 1
        assert summary["holders_added"] == 2
        account = show(client, bank_token, IBAN)
        assert account["bank_bic"] == "ESSESESS"
        assert {h["name"] for h in account["holders"]} == {"Anna Andersson", "Berit Lind"}  # type: ignore[union-attr]
        changes = [e["change"] for e in account["history"]]  # type: ignore[union-attr]
        assert changes == ["opened", "holder_added", "holder_added"]

    def test_reporting_the_same_account_again_changes_nothing(self, client: TestClient, bank_token: str) -> None:
        report(client, bank_token, account_record(IBAN, ANNA))
        summary = report(client, bank_token, account_record(IBAN, ANNA))
        assert (summary["unchanged"], summary["changed"], summary["opened"]) == (1, 0, 0)
        assert len(show(client, bank_token, IBAN)["history"]) == 2  # type: ignore[arg-type]

    def test_the_register_answers_who_held_the_account_on_a_date(self, client: TestClient, bank_token: str) -> None:
        report(client, bank_token, account_record(IBAN, ANNA), as_of="2026-01-15")
        summary = report(client, bank_token, account_record(IBAN, BERIT), as_of="2026-03-01")
        assert (summary["holders_added"], summary["holders_removed"]) == (1, 1)
        before = show(client, bank_token, IBAN, on="2026-02-01")
        after = show(client, bank_token, IBAN, on="2026-03-01")
        assert [h["name"] for h in before["holders"]] == ["Anna Andersson"]  # type: ignore[union-attr]
        assert [h["name"] for h in after["holders"]] == ["Berit Lind"]  # type: ignore[union-attr]

    def test_a_renamed_holder_and_a_closing_are_recorded(self, client: TestClient, bank_token: str) -> None:
        report(client, bank_token, account_record(IBAN, ANNA))
        renamed = (ANNA[0], "Anna Berg")
        summary = report(client, bank_token, account_record(IBAN, renamed, closed_on="2026-01-31"))
        assert (summary["holders_renamed"], summary["closed"]) == (1, 1)
        account = show(client, bank_token, IBAN)
        assert account["closed_on"] == "2026-01-31"
        renames = [e for e in account["history"] if e["change"] == "holder_renamed"]  # type: ignore[union-attr]
        assert renames[0]["detail"] == {"before": "Anna Andersson", "after": "Anna Berg"}

    def test_a_closed_account_can_be_reopened(self, client: TestClient, bank_token: str) -> None:
        report(client, bank_token, account_record(IBAN, ANNA, closed_on="2026-01-10"))
        summary = report(client, bank_token, account_record(IBAN, ANNA))
        assert summary["reopened"] == 1
        assert show(client, bank_token, IBAN)["closed_on"] is None


class TestScoping:
    def test_another_bank_cannot_change_an_account(
        self, client: TestClient, bank_token: str, other_bank_token: str
    ) -> None:
        report(client, bank_token, account_record(IBAN, ANNA))
        response = client.post(
            "/api/v1/bank/accounts", json={"accounts": [account_record(IBAN, BERIT)]}, headers=auth(other_bank_token)
        )
        assert response.status_code == 422
        assert "outside the account ranges your bank holds" in response.json()["errors"][0]["reason"]
        assert [h["name"] for h in show(client, bank_token, IBAN)["holders"]] == ["Anna Andersson"]  # type: ignore[union-attr]

    def test_another_bank_cannot_see_an_account(
        self, client: TestClient, bank_token: str, other_bank_token: str
    ) -> None:
        report(client, bank_token, account_record(IBAN, ANNA))
        response = client.get("/api/v1/bank/accounts", params={"account": IBAN}, headers=auth(other_bank_token))
        assert response.status_code == 404

    def test_a_payer_token_is_not_a_bank_token(self, client: TestClient, payer_token: str) -> None:
        response = client.post("/api/v1/bank/accounts", json={"accounts": []}, headers=auth(payer_token))
        assert response.status_code == 401


class TestAccountRanges:
    """A bank reports only accounts inside the ranges it holds, so it cannot take over another
    bank's customer's account (and with it, their payouts)."""

    def test_an_account_in_another_banks_range_is_refused_and_nothing_is_registered(
        self, client: TestClient, bank_token: str, other_bank_token: str
    ) -> None:
        # Nordea reports an SEB account (IBAN bank code 500) nobody has reported yet, and a clearing
        # number of Handelsbanken's: both refused, naming whose range it is, and nothing is applied.
        own = account_record("3300-8112289874", ANNA, scheme="se_clearing")  # Nordea personkonto
        seb = account_record(se_iban(3), ANNA)
        handelsbanken = account_record("6000-123456789", ANNA, scheme="se_clearing")
        response = client.post(
            "/api/v1/bank/accounts", json={"accounts": [own, seb, handelsbanken]}, headers=auth(other_bank_token)
        )
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert [(e["record"], e["field"]) for e in errors] == [(2, "account"), (3, "account")]
        assert errors[0]["reason"] == (
            "the account is outside the account ranges your bank holds (iban:SE300, iban:SE950); "
            "it is in the range of SEB (ESSESESS)"
        )
        assert "se_clearing:3000-3399" in errors[1]["reason"]
        checked = client.get("/api/v1/bank/accounts", params={"account": se_iban(3)}, headers=auth(bank_token))
        assert checked.status_code == 404
        mine = client.get(
            "/api/v1/bank/accounts",
            params={"account": "3300-8112289874", "account_scheme": "se_clearing"},
            headers=auth(other_bank_token),
        )
        assert mine.status_code == 404  # the whole request was refused

    def test_an_account_outside_every_range_cannot_be_designated_as_a_payout_account(
        self, client: TestClient, bank_token: str, other_bank_token: str
    ) -> None:
        report(client, bank_token, account_record(IBAN, ANNA))
        designated = client.post(
            "/api/v1/bank/designations",
            json={
                "payee": {"id_scheme": "se_personnummer", "identifier": ANNA[0]},
                "account_scheme": "iban",
                "account": IBAN,
            },
            headers=auth(bank_token),
        )
        assert designated.status_code == 200, designated.text
        taken = account_record(se_iban(4), ANNA)  # Nordea claims a second SEB account for Anna
        refused = client.post("/api/v1/bank/accounts", json={"accounts": [taken]}, headers=auth(other_bank_token))
        assert refused.status_code == 422
        swap = client.post(
            "/api/v1/bank/designations",
            json={
                "payee": {"id_scheme": "se_personnummer", "identifier": ANNA[0]},
                "account_scheme": "iban",
                "account": se_iban(4),
            },
            headers=auth(other_bank_token),
        )
        assert swap.status_code == 404, swap.text  # no account of Nordea's: it was never registered


class TestBadRecords:
    def test_every_bad_field_is_reported_and_nothing_is_applied(self, client: TestClient, bank_token: str) -> None:
        good = account_record(se_iban(7), ANNA)
        bad_checksum = account_record(IBAN[:-1] + str((int(IBAN[-1]) + 1) % 10), ANNA)
        unknown_clearing = account_record("0001-1234567", ANNA, scheme="se_clearing")
        empty_name = account_record(se_iban(8), (pnr(3), "  "))
        absurd_name = account_record(se_iban(9), (pnr(4), "1234 5678"))
        bad_pnr = account_record(se_iban(10), ("198001010000", "Carl Ek"))
        future = account_record(se_iban(11), ANNA, opened_on="2030-01-01")
        backwards = account_record(se_iban(12), ANNA, opened_on="2020-01-01", closed_on="2019-01-01")
        twice = account_record(se_iban(13), ANNA, ANNA)
        records = [good, bad_checksum, unknown_clearing, empty_name, absurd_name, bad_pnr, future, backwards, twice]
        response = client.post(
            "/api/v1/bank/accounts", json={"as_of": "2026-01-15", "accounts": records}, headers=auth(bank_token)
        )
        assert response.status_code == 422
        fields = [(e["field"], e["reason"]) for e in response.json()["errors"]]
        assert [f for f, _ in fields] == [
            "accounts.1.account",
            "accounts.2.account",
            "accounts.3.holders.0.name",
            "accounts.4.holders.0.name",
            "accounts.5.holders.0.identifier",
            "accounts.6.opened_on",
            "accounts.7.closed_on",
            "accounts.8.holders.1.identifier",
        ]
        assert "clearing" in fields[1][1].lower()
        lookup = client.get("/api/v1/bank/accounts", params={"account": se_iban(7)}, headers=auth(bank_token))
        assert lookup.status_code == 404  # the good record was not applied either

    def test_the_same_account_twice_in_one_request_is_refused(self, client: TestClient, bank_token: str) -> None:
        response = client.post(
            "/api/v1/bank/accounts",
            json={"accounts": [account_record(IBAN, ANNA), account_record(IBAN, BERIT)]},
            headers=auth(bank_token),
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["reason"].startswith("the account appears twice")

    def test_too_many_accounts_in_one_request(self, client: TestClient, bank_token: str) -> None:
        limit = client.app.state.settings.max_account_records  # type: ignore[attr-defined]
        records = [account_record(se_iban(i), ANNA) for i in range(limit + 1)]
        response = client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank_token))
        assert response.status_code == 422
        assert "at most" in response.json()["errors"][0]["reason"]
