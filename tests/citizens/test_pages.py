"""The citizen's pages: login with eID, every payment from every payer, the account, the checks,
who looked, the statement — and nothing of anybody else's."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.http import rendering
from saldo.kit.clock import today
from saldo.kit.national_id import IdScheme
from saldo.staff.models import Role
from saldo.staff.service import create_staff
from tests.factories import (
    OTHER_PNR,
    VALID_PNR,
    account_record,
    auth,
    make_bank,
    make_bank_token,
    make_payer,
    make_token,
    payment_body,
    se_iban,
)
from tests.web_login import csrf_of, dev_login, start_assisting

CASEWORKER_PNR = "197802022389"


@pytest.fixture
def payments(web: TestClient, session: Session) -> None:
    """Anna (VALID_PNR) is paid by a municipality and a state agency; Olle (OTHER_PNR) by another."""
    kommun = make_token(session, make_payer(session, name="Exempelkommunen"))
    agency = make_token(session, make_payer(session, name="Försäkringskassan Test", benefits=("BB", "SJP")))
    other = make_token(session, make_payer(session, name="Annanstad kommun"))
    session.commit()
    for token, body in (
        (kommun, payment_body(amount_minor=125000)),
        (agency, payment_body(benefit="BB", amount_minor=125000 + 25000)),
        (other, payment_body(payee_id=OTHER_PNR, payee_name="Olle Berg", amount_minor=999900)),
    ):
        response = web.post("/api/v1/payments", json=body, headers=auth(token))
        assert response.status_code == 201, response.text


@pytest.mark.usefixtures("payments")
class TestOverview:
    def test_a_citizen_sees_every_payer_s_payments_to_them_and_nothing_else(self, web: TestClient) -> None:
        assert dev_login(web, VALID_PNR).headers["location"] == "/me"
        page = web.get("/me", params={"lang": "en"})
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"  # personal data stays out of caches
        assert "Exempelkommunen" in page.text
        assert "Försäkringskassan Test" in page.text
        shown = page.text.replace("\xa0", " ")
        assert "SEK 1,250.00" in shown
        assert "SEK 1,500.00" in shown
        assert "Annanstad kommun" not in shown
        assert "9,999.00" not in shown
        assert "Nobody at the payment authority has looked at your data." in page.text

    def test_the_json_behind_the_page_holds_the_same(self, web: TestClient) -> None:
        dev_login(web, VALID_PNR)
        body = web.get("/api/v1/me/overview").json()
        assert body["person_id"] == VALID_PNR
        assert sorted(p["amount_minor"] for p in body["payments"]) == [125000, 150000]
        assert {p["group"] for p in body["payments"]} == {"upcoming"}
        assert body["totals"] == [{"group": "upcoming", "currency": "SEK", "amount_minor": 275000, "payments": 2}]

    def test_a_held_payment_is_among_those_not_yet_paid_with_what_holding_means(
        self, web: TestClient, session: Session
    ) -> None:
        notice = "A held payment has been stopped for now"
        token = make_token(session, make_payer(session, name="Pensionsmyndigheten Test"))
        session.commit()
        created = web.post("/api/v1/payments", json=payment_body(amount_minor=432100), headers=auth(token))
        assert created.status_code == 201, created.text
        dev_login(web, VALID_PNR)
        assert notice not in web.get("/me", params={"lang": "en"}).text  # none of Anna's payments is held
        held = web.post(f"/api/v1/payments/{created.json()['id']}/hold", json={"reason": "check"}, headers=auth(token))
        assert held.status_code == 200, held.text
        page = web.get("/me", params={"lang": "en"}).text.replace("\xa0", " ")
        not_yet_paid, _, paid = page.partition('id="paid-heading"')
        assert notice in not_yet_paid
        assert "SEK 4,321.00" in not_yet_paid
        assert "SEK 4,321.00" not in paid

    @pytest.mark.parametrize("language", ["sv", "en", "fi", "lv"])
    def test_the_page_is_the_same_with_its_words_translated_when_compiled(
        self, web: TestClient, monkeypatch: pytest.MonkeyPatch, language: str
    ) -> None:
        dev_login(web, VALID_PNR)
        folded = web.get("/me", params={"lang": language}).text
        with monkeypatch.context() as patch:  # every _("…") called at render time instead
            patch.setattr(rendering.ConstantTranslations, "filter_stream", lambda _self, stream: stream)
            rendering.environment.cache_clear()
            called = web.get("/me", params={"lang": language}).text
        rendering.environment.cache_clear()
        assert "Exempelkommunen" in folded
        assert folded == called

    def test_the_page_speaks_swedish_english_and_finnish(self, web: TestClient) -> None:
        dev_login(web, VALID_PNR)
        assert "Dina offentliga utbetalningar" in web.get("/me", params={"lang": "sv"}).text
        finnish = web.get("/me", params={"lang": "fi"})
        assert '<html lang="fi">' in finnish.text
        assert "Julkiset maksusi" in finnish.text
        assert "1\xa0250,00\xa0SEK" in finnish.text  # Finnish writes money its own way
        # the choice is remembered in a cookie
        assert "Julkiset maksusi" in web.get("/me").text

    def test_the_browser_s_language_is_used_when_none_is_chosen(self, web: TestClient) -> None:
        dev_login(web, VALID_PNR)
        web.cookies.delete("saldo_lang")
        page = web.get("/me", headers={"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.5"})
        assert '<html lang="fi">' in page.text

    def test_an_earlier_year_shows_that_year_only(self, web: TestClient) -> None:
        dev_login(web, VALID_PNR)
        last_year = web.get("/api/v1/me/overview", params={"year": today().year - 1}).json()
        assert last_year["payments"] == []

    def test_the_statement_is_a_pdf_of_the_year(self, web: TestClient) -> None:
        dev_login(web, VALID_PNR)
        response = web.get(f"/me/statement/{today().year}.pdf", params={"lang": "sv"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        content = _pdf_text(response.content)
        assert "Sammanst" in content
        assert "Exempelkommunen" in content
        assert "Annanstad" not in content


class TestLogin:
    def test_pages_send_a_stranger_to_log_in_and_the_json_answers_401(self, web: TestClient) -> None:
        page = web.get("/me", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=%2Fme")
        assert web.get("/api/v1/me/overview").status_code == 401

    def test_an_eid_below_substantial_is_refused(self, web: TestClient) -> None:
        refused = dev_login(web, VALID_PNR, loa="low")
        assert refused.status_code == 400
        assert "below substantial" in refused.text
        assert web.get("/api/v1/me/overview").status_code == 401

    def test_a_login_answer_is_used_once(self, web: TestClient) -> None:
        start = web.get("/login/dev", follow_redirects=False)
        params = dict(parse_qsl(urlsplit(start.headers["location"]).query))
        answer = web.post(
            "/dev-idp/authorize", data={**params, "personnummer": VALID_PNR, "loa": "high"}, follow_redirects=False
        )
        back = urlsplit(answer.headers["location"])
        callback = f"{back.path}?{back.query}"
        assert web.get(callback, follow_redirects=False).status_code == 303
        replay = web.get(callback, follow_redirects=False)
        assert replay.status_code in (400, 403)

    def test_a_login_started_in_another_browser_is_refused(self, web: TestClient, web_app) -> None:  # type: ignore[no-untyped-def]
        start = web.get("/login/dev", follow_redirects=False)
        location = start.headers["location"]
        with TestClient(web_app) as other:
            params = dict(parse_qsl(urlsplit(location).query))
            answer = other.post(
                "/dev-idp/authorize", data={**params, "personnummer": VALID_PNR, "loa": "high"}, follow_redirects=False
            )
            back = urlsplit(answer.headers["location"])
            refused = other.get(back.path, params=dict(parse_qsl(back.query)), follow_redirects=False)
        assert refused.status_code == 400
        assert "not started in this browser" in refused.text

    def test_logout_ends_the_session_even_for_a_copied_cookie(self, web: TestClient) -> None:
        dev_login(web, VALID_PNR)
        cookie = web.cookies.get("saldo_session")
        page = web.get("/me")
        assert web.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
        web.cookies.set("saldo_session", cookie)
        assert web.get("/api/v1/me/overview").status_code == 401

    def test_an_idle_session_ends(self, web: TestClient, session: Session) -> None:
        dev_login(web, VALID_PNR)
        session.execute(text("UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes'"))
        session.commit()
        assert web.get("/api/v1/me/overview").status_code == 401

    def test_only_local_paths_are_returned_to(self, web: TestClient) -> None:
        landed = dev_login(web, VALID_PNR, next="https://evil.example/")
        assert landed.headers["location"] == "/me"


class TestAccount:
    @pytest.fixture
    def held(self, web: TestClient, session: Session) -> None:
        token = make_bank_token(session, make_bank(session))
        session.commit()
        records = [
            account_record(se_iban(1), (VALID_PNR, "Anna Andersson")),
            account_record(se_iban(2), (VALID_PNR, "Anna Andersson")),
        ]
        assert web.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(token)).status_code == 200

    @pytest.mark.usefixtures("held")
    def test_a_citizen_designates_one_of_their_accounts(self, web: TestClient, session: Session) -> None:
        dev_login(web, VALID_PNR)
        page = web.get("/me", params={"lang": "en"})
        assert se_iban(1) in page.text
        assert se_iban(2) in page.text
        changed = web.post(
            "/me/account", data={"account": f"iban:{se_iban(2)}", "csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert changed.status_code == 303
        after = web.get("/me").text
        assert f"Your public payments go to {se_iban(2)}" in after
        channel = session.execute(text("SELECT channel FROM account_designations ORDER BY id DESC LIMIT 1")).scalar()
        assert channel == "citizen"

    @pytest.mark.usefixtures("held")
    def test_a_form_without_the_session_s_csrf_token_is_refused(self, web: TestClient, session: Session) -> None:
        dev_login(web, VALID_PNR)
        refused = web.post("/me/account", data={"account": f"iban:{se_iban(2)}", "csrf": "forged"})
        assert refused.status_code == 403
        assert session.execute(text("SELECT count(*) FROM account_designations")).scalar() == 0

    @pytest.mark.usefixtures("held")
    def test_an_account_the_citizen_does_not_hold_is_refused_with_the_reason(self, web: TestClient) -> None:
        dev_login(web, VALID_PNR)
        page = web.get("/me", params={"lang": "en"})
        refused = web.post("/me/account", data={"account": f"iban:{se_iban(9)}", "csrf": csrf_of(page.text)})
        assert refused.status_code == 422
        assert "no bank has reported this account" in refused.text


@pytest.mark.usefixtures("payments")
class TestAssisted:
    @pytest.fixture
    def caseworker(self, session: Session) -> None:
        create_staff(
            session,
            username="karin.handlaggare",
            name="Karin Handläggare",
            roles=[Role.CASEWORKER],
            person=(IdScheme.SE_PERSONNUMMER, CASEWORKER_PNR),
        )
        session.commit()

    @pytest.mark.usefixtures("caseworker")
    def test_a_caseworker_serves_a_citizen_and_the_citizen_sees_it(self, web: TestClient, web_app) -> None:  # type: ignore[no-untyped-def]
        assert dev_login(web, CASEWORKER_PNR, provider="dev-staff", next="/staff").headers["location"] == "/staff"
        assert start_assisting(web, VALID_PNR, "assisted_service").status_code == 303
        page = web.get("/me", params={"lang": "en"})
        assert "You are acting for" in page.text
        assert "Exempelkommunen" in page.text
        with TestClient(web_app) as citizen:
            dev_login(citizen, VALID_PNR)
            own = citizen.get("/me", params={"lang": "en"}).text
        assert "The person asked for help by telephone" in own  # the purpose, in the citizen's words
        assert "Looked at your payments with you" in own  # the caseworker's read of her page, not only the start
        assert "Caseworker (assisted service)" in own

    @pytest.mark.usefixtures("caseworker")
    def test_a_caseworker_who_serves_nobody_yet_is_sent_to_choose_the_citizen(self, web: TestClient) -> None:
        dev_login(web, CASEWORKER_PNR, provider="dev-staff", next="/staff")
        sent = web.get("/me", follow_redirects=False)
        assert (sent.status_code, sent.headers["location"]) == (303, "/staff/assist")
        assert web.get("/api/v1/me/overview").status_code == 403

    def test_a_person_who_is_not_staff_cannot_log_in_as_staff(self, web: TestClient) -> None:
        refused = dev_login(web, VALID_PNR, provider="dev-staff", next="/staff")
        assert refused.status_code == 403
        assert "not registered as staff" in refused.text

    @pytest.mark.usefixtures("caseworker")
    @pytest.mark.parametrize(
        ("purpose", "other"), [("", ""), ("other", "....."), ("other", "x y"), ("supervision", ""), ("....", "")]
    )
    def test_acting_for_someone_needs_a_purpose(
        self, web: TestClient, session: Session, purpose: str, other: str
    ) -> None:
        dev_login(web, CASEWORKER_PNR, provider="dev-staff", next="/staff")
        form = web.get("/staff/assist", params={"lang": "en"})
        assert "The person asked for help by telephone" in form.text  # the published purposes to choose from
        data = {"personnummer": VALID_PNR, "purpose": purpose, "purpose_other": other, "csrf": csrf_of(form.text)}
        refused = web.post("/staff/assist", data=data, params={"lang": "en"})
        assert refused.status_code == 422
        assert "choose one of complaint, access_request, assisted_service or write in a sentence why" in refused.text
        assert session.execute(text("SELECT count(*) FROM access_log WHERE channel = 'assisted'")).scalar() == 0

    @pytest.mark.usefixtures("caseworker")
    def test_a_caseworker_may_say_why_in_a_sentence(self, web: TestClient, session: Session) -> None:
        dev_login(web, CASEWORKER_PNR, provider="dev-staff", next="/staff")
        form = web.get("/staff/assist")
        reason = "the person called about a returned payment"
        data = {"personnummer": VALID_PNR, "purpose": "other", "purpose_other": reason, "csrf": csrf_of(form.text)}
        assert web.post("/staff/assist", data=data, follow_redirects=False).status_code == 303
        logged = session.execute(text("SELECT purpose FROM access_log WHERE channel = 'assisted'")).scalars().all()
        assert logged == [reason]


def _pdf_text(pdf: bytes) -> str:
    """The text of a PDF, as an independent reader (pypdf) extracts it."""
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
