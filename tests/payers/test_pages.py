"""The payer's pages: a person working for a payer logs in with eID, sends a payment file in the
browser and gets every bad record back (nothing stored), sees only its own payer's payments, and
records outcomes on its notifications."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from saldo.kit.clock import today
from saldo.payers.models import Payer
from saldo.payers.service import add_payer_user, issue_token
from saldo.payments.models import BatchFormat, PayerUpload, UploadStatus
from saldo.payments.service.hold import hold_payment, staff_actor
from saldo.payments.service.uploads import FAILED, STALE_AFTER, delete_left_behind, expected_records, upload_out
from tests.factories import OTHER_PNR, csv_file, make_payer, payment_body
from tests.web_login import csrf_of, dev_login

PETRA = "197004128711"
OLOF = "197608238825"


@pytest.fixture
def web_app(live_web_app: FastAPI) -> FastAPI:
    """A file sent in the browser is checked on a thread of its own, so these pages run on a
    database with real commits."""
    return live_web_app


@pytest.fixture
def session(live_engine: Engine) -> Iterator[Session]:
    with Session(live_engine) as session:
        yield session


@pytest.fixture
def payers(session: Session) -> tuple[Payer, Payer]:
    kommun = make_payer(session, name="Exempelkommunen")
    region = make_payer(session, name="Exempelregionen")
    add_payer_user(session, organisation_number=kommun.organisation_number, personnummer=PETRA, name="Petra")
    add_payer_user(session, organisation_number=region.organisation_number, personnummer=OLOF, name="Olof")
    session.commit()
    return kommun, region


def upload(web: TestClient, content: str, filename: str = "payments.csv") -> tuple[int, str]:
    """Send a file in the form; when its check starts, wait for it on the upload's progress (as the
    page's script does) and return the upload's page. A refusal before the check is returned as is."""
    form = web.get("/payer/upload")
    response = web.post(
        "/payer/upload",
        data={"csrf": csrf_of(form.text)},
        files={"file": (filename, content.encode(), "text/csv")},
        params={"lang": "en"},
        follow_redirects=False,
    )
    if response.status_code != 303:
        return response.status_code, response.text
    page = response.headers["location"]
    deadline = time.monotonic() + 60
    while web.get(f"{page}/progress").json()["state"] == "checking":
        assert time.monotonic() < deadline, "the upload's check did not finish"
        time.sleep(0.05)
    result = web.get(page, params={"lang": "en"})
    return result.status_code, result.text


@pytest.mark.usefixtures("payers")
class TestUpload:
    def test_a_good_file_is_registered_whole(self, web: TestClient, session: Session) -> None:
        assert dev_login(web, PETRA, provider="dev-payer", next="/payer").headers["location"] == "/payer"
        content = csv_file([payment_body(), payment_body(amount_minor=5000)])
        status, page = upload(web, content)
        assert status == 200
        assert "Payments read: 2. Registered now: 2; registered before: 0." in page
        again_status, again = upload(web, content)
        assert again_status == 200
        assert "This exact file was received before; nothing changed." in again
        assert session.execute(text("SELECT count(*) FROM payments")).scalar() == 2

    def test_a_file_with_bad_records_is_rejected_whole_with_every_reason(
        self, web: TestClient, session: Session
    ) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        bad = [payment_body(), payment_body(payee_id="198112289875"), payment_body(amount_minor=-5)]
        status, page = upload(web, csv_file(bad))
        assert status == 422
        assert "nothing from it is registered" in page
        assert '<td class="num">3</td><td><code>payee_id</code></td>' in page
        assert '<td class="num">4</td><td><code>amount_minor</code></td>' in page
        assert session.execute(text("SELECT count(*) FROM payments")).scalar() == 0

    def test_a_file_of_another_kind_is_refused(self, web: TestClient) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        status, page = upload(web, "hello", filename="payments.xlsx")
        assert status == 422
        assert "must be .csv, .ndjson or .json" in page

    def test_a_payer_sees_only_its_own_payments(self, web: TestClient, web_app) -> None:  # type: ignore[no-untyped-def]
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        upload(web, csv_file([payment_body(reference="KOMMUN-1")]))
        assert "KOMMUN-1" in web.get("/payer").text
        with TestClient(web_app) as other:
            dev_login(other, OLOF, provider="dev-payer", next="/payer")
            assert "KOMMUN-1" not in other.get("/payer").text


def test_a_person_who_is_no_payer_s_user_cannot_log_in_as_one(web: TestClient) -> None:
    refused = dev_login(web, "198112289874", provider="dev-payer", next="/payer")
    assert refused.status_code == 403
    assert "not registered as a user of a connected payer" in refused.text


def test_a_citizen_session_does_not_open_the_payer_pages(web: TestClient) -> None:
    dev_login(web, "198112289874")
    assert web.get("/payer", follow_redirects=False).status_code == 303


def decide(web: TestClient, payment_id: int, decision: str, reason: str) -> tuple[int, str]:
    page = web.get(f"/payer/payments/{payment_id}", params={"lang": "en"})
    assert page.status_code == 200, page.text
    response = web.post(
        f"/payer/payments/{payment_id}/{decision}",
        data={"csrf": csrf_of(page.text), "reason": reason},
        params={"lang": "en"},
        follow_redirects=False,
    )
    return response.status_code, response.text


def payment_id_of(session: Session, reference: str) -> int:
    found = session.execute(text("SELECT id FROM payments WHERE reference = :r"), {"r": reference}).scalar_one()
    return int(found)


@pytest.mark.usefixtures("payers")
class TestDecisions:
    def test_a_payer_holds_releases_and_cancels_its_payment_with_reasons_in_the_history(
        self, web: TestClient, session: Session
    ) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        upload(web, csv_file([payment_body(reference="KOMMUN-7")]))
        payment_id = payment_id_of(session, "KOMMUN-7")
        assert f'href="/payer/payments/{payment_id}"' in web.get("/payer").text

        assert decide(web, payment_id, "hold", "the decision is appealed")[0] == 303
        page = web.get(f"/payer/payments/{payment_id}", params={"lang": "en"}).text
        assert "the decision is appealed" in page
        assert "Release the payment" in page
        assert "Hold the payment" not in page
        assert decide(web, payment_id, "hold", "twice")[0] == 409

        assert decide(web, payment_id, "release", "the appeal was withdrawn")[0] == 303
        assert decide(web, payment_id, "cancel", "paid by mistake")[0] == 303
        page = web.get(f"/payer/payments/{payment_id}", params={"lang": "en"}).text
        assert "it can no longer be held or cancelled" in page
        payer_name = session.execute(text("SELECT name FROM payers WHERE id = :p"), {"p": self._payer_id(session)})
        assert f"Petra at {payer_name.scalar_one()}" in page  # people and payers named, not their codes
        assert ":user:" not in page
        history = session.execute(
            text(
                "SELECT e.to_status, n.reason, n.actor FROM payment_events e "
                "JOIN payment_event_notes n ON n.id = e.note_id WHERE e.payment_id = :p ORDER BY e.id"
            ),
            {"p": payment_id},
        ).all()
        assert [(str(h[0]), h[1]) for h in history] == [
            ("held", "held: the decision is appealed"),
            ("registered", "released: the appeal was withdrawn"),
            ("cancelled", "paid by mistake"),
        ]
        assert {h[2] for h in history} == {f"payer:{self._payer_id(session)}:user:{self._user_id(session)}"}
        status, refused = decide(web, payment_id, "cancel", "again")
        assert status == 409
        assert "can no longer be cancelled" in refused

    @staticmethod
    def _payer_id(session: Session) -> int:
        return int(session.execute(text("SELECT payer_id FROM payer_users WHERE name = 'Petra'")).scalar_one())

    @staticmethod
    def _user_id(session: Session) -> int:
        return int(session.execute(text("SELECT id FROM payer_users WHERE name = 'Petra'")).scalar_one())

    def test_a_decision_needs_a_reason_and_a_valid_form(self, web: TestClient, session: Session) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        upload(web, csv_file([payment_body(reference="KOMMUN-8")]))
        payment_id = payment_id_of(session, "KOMMUN-8")
        status, page = decide(web, payment_id, "hold", "   ")
        assert status == 422
        assert "reason: give the reason" in page
        forged = web.post(f"/payer/payments/{payment_id}/hold", data={"csrf": "forged", "reason": "x"})
        assert forged.status_code == 403
        assert decide(web, payment_id, "pay-twice", "x")[0] == 404
        assert session.execute(text("SELECT count(*) FROM payment_holds")).scalar() == 0

    def test_a_hold_the_authority_placed_is_not_released_by_the_payer(self, web: TestClient, session: Session) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        upload(web, csv_file([payment_body(reference="KOMMUN-9")]))
        payment_id = payment_id_of(session, "KOMMUN-9")
        hold_payment(session, payment_id=payment_id, actor=staff_actor("anna"), reason="suspected fraud")
        session.commit()
        page = web.get(f"/payer/payments/{payment_id}", params={"lang": "en"}).text
        assert "only the authority can release it" in page
        assert "Release the payment" not in page
        status, refused = decide(web, payment_id, "release", "we think it is fine")
        assert status == 409
        assert "only it can release it" in refused

    def test_another_payer_s_payment_is_not_found(self, web: TestClient, web_app, session: Session) -> None:  # type: ignore[no-untyped-def]
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        upload(web, csv_file([payment_body(reference="KOMMUN-10")]))
        payment_id = payment_id_of(session, "KOMMUN-10")
        with TestClient(web_app) as other:
            dev_login(other, OLOF, provider="dev-payer", next="/payer")
            assert other.get(f"/payer/payments/{payment_id}").status_code == 404
            page = other.get("/payer/upload").text
            attempt = other.post(f"/payer/payments/{payment_id}/cancel", data={"csrf": csrf_of(page), "reason": "x"})
            assert attempt.status_code == 404
        assert session.execute(text("SELECT status FROM payments WHERE id = :p"), {"p": payment_id}).scalar() == (
            "registered"
        )


@pytest.mark.usefixtures("payers")
class TestUploadProgress:
    def test_the_upload_s_page_and_progress_tell_how_far_the_check_came(self, web: TestClient) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        content = csv_file([payment_body(reference=f"PROGRESS-{n}") for n in range(3)])
        status, page = upload(web, content, filename="nightly.csv")
        assert status == 200
        assert "nightly.csv is accepted." in page
        upload_id = int(web.get("/payer/upload").text.split('href="/payer/uploads/')[1].split('"')[0])
        progress = web.get(f"/payer/uploads/{upload_id}/progress", params={"lang": "en"}).json()
        assert progress == {
            "state": "accepted",
            "records_checked": 3,
            "expected_records": 3,
            "percent": 100,
            "message": "3 of about 3 payments checked",
        }
        listed = web.get("/payer/upload", params={"lang": "en"}).text
        assert "Files sent" in listed
        assert "nightly.csv" in listed

    def test_another_payer_s_upload_is_not_found(self, web: TestClient, web_app: FastAPI) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        upload(web, csv_file([payment_body(reference="MINE-1")]))
        upload_id = int(web.get("/payer/upload").text.split('href="/payer/uploads/')[1].split('"')[0])
        with TestClient(web_app) as other:
            dev_login(other, OLOF, provider="dev-payer", next="/payer")
            assert other.get(f"/payer/uploads/{upload_id}").status_code == 404
            assert other.get(f"/payer/uploads/{upload_id}/progress").status_code == 404
            assert "MINE-1" not in other.get("/payer/upload").text

    def test_a_file_that_cannot_be_read_is_rejected_with_the_reason(self, web: TestClient, session: Session) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        status, page = upload(web, '{"payments": [', filename="broken.json")
        assert status == 422
        assert "broken.json is rejected: nothing from it is registered." in page
        assert session.execute(text("SELECT count(*) FROM payments")).scalar() == 0
        assert session.execute(text("SELECT status FROM payer_uploads")).scalar() == "rejected"


def test_a_check_that_stopped_reporting_is_shown_as_interrupted() -> None:
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    upload = PayerUpload(
        id=7,
        payer_id=1,
        sent_by="payer:1:user:1",
        filename="nightly.csv",
        format=BatchFormat.CSV,
        size_bytes=1000,
        expected_records=200,
        status=UploadStatus.CHECKING,
        records_checked=50,
        started_at=now - dt.timedelta(minutes=5),
        progress_at=now - STALE_AFTER - dt.timedelta(seconds=1),
    )
    seen = upload_out(upload, now=now)
    assert (seen.state, seen.percent, seen.error) == ("interrupted", 25, FAILED)
    upload.progress_at = now - dt.timedelta(seconds=2)
    assert upload_out(upload, now=now).state == "checking"


def test_expected_records_are_a_csv_s_lines_but_its_header(tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text(csv_file([payment_body(), payment_body(amount_minor=5)]), encoding="utf-8")
    assert expected_records(path, BatchFormat.CSV) == 2
    path.write_bytes(b'{"a": 1}\n{"a": 2}')  # no newline after the last line
    assert expected_records(path, BatchFormat.NDJSON) == 2
    assert expected_records(path, BatchFormat.JSON) is None


def test_files_left_behind_by_an_ended_process_are_deleted_after_a_day(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    old, fresh, other = tmp_path / "a.part", tmp_path / "b.part", tmp_path / "notes.txt"
    for path in (old, fresh, other):
        path.write_text("x")
    two_days_ago = (now - dt.timedelta(days=2)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    os.utime(fresh, (now.timestamp(), now.timestamp()))
    assert delete_left_behind(tmp_path, now=now) == 1
    assert (old.exists(), fresh.exists(), other.exists()) == (False, True, True)
    assert delete_left_behind(tmp_path / "never-made", now=now) == 0


@pytest.mark.usefixtures("payers")
class TestFinding:
    """A clerk finds a payment by reference or person, narrows by benefit, status and date, and reads
    the newest first."""

    @pytest.fixture
    def registered(self, web: TestClient, payers: tuple[Payer, Payer]) -> None:
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        later = (today() + dt.timedelta(days=20)).isoformat()
        rows = [
            payment_body(reference="SOC-2026-001"),
            payment_body(reference="SOC-2026-002", payee_id=OTHER_PNR, payee_name="Bertil Berg", benefit="BB"),
            payment_body(reference="SJP-100_A", benefit="SJP", due_date=later),
        ]
        status, page = upload(web, csv_file(rows))
        assert status == 200, page

    def references(self, web: TestClient, **params: str) -> list[str]:
        page = web.get("/payer", params={"lang": "en", **params})
        assert page.status_code == 200, page.text
        return re.findall(r'<a href="/payer/payments/\d+"><code>([^<]+)</code>', page.text)

    @pytest.mark.usefixtures("registered")
    def test_newest_first_and_found_by_reference_person_benefit_and_date(self, web: TestClient) -> None:
        assert self.references(web) == ["SJP-100_A", "SOC-2026-002", "SOC-2026-001"]
        assert self.references(web, reference="SOC-2026") == ["SOC-2026-002", "SOC-2026-001"]
        assert self.references(web, reference="SJP-100_") == ["SJP-100_A"]  # wildcards are only text
        assert self.references(web, reference="SOC-2026-00_") == []
        # a person by their number in any form the scheme takes, or by a part of the name
        assert self.references(web, person="19490713-1843") == ["SOC-2026-002"]
        assert self.references(web, person="490713-1843") == ["SOC-2026-002"]
        assert self.references(web, person="berg") == ["SOC-2026-002"]
        assert self.references(web, benefit="SJP") == ["SJP-100_A"]
        day = today().isoformat()
        assert self.references(web, due_to=day) == ["SOC-2026-002", "SOC-2026-001"]
        assert self.references(web, due_from=day, benefit="EKB", status="registered") == ["SOC-2026-001"]
        page = web.get("/payer", params={"lang": "en", "benefit": "BB"}).text
        assert "<td>Child allowance</td>" in page  # the benefit by its name, not its code
        assert "Show all" in page

    @pytest.mark.usefixtures("registered")
    def test_a_number_that_is_no_identifier_is_refused_saying_so(self, web: TestClient) -> None:
        page = web.get("/payer", params={"lang": "en", "person": "12345"})
        assert page.status_code == 422
        assert "is no valid personal or organisation number, nor a name" in page.text
        assert 'aria-invalid="true"' in page.text
        assert self.references(web, person="Nobody Atall") == []
        assert "No payment matches the search." in web.get("/payer", params={"person": "Nobody", "lang": "en"}).text

    def test_a_search_that_reads_its_limit_says_so_and_goes_on_further_back(
        self, web: TestClient, web_app: FastAPI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A name is tried on at most listing_read_limit payments a page, newest first: the page says
        how many it searched and offers the older ones, where the match is."""
        monkeypatch.setattr(
            web_app.state, "settings", web_app.state.settings.model_copy(update={"listing_read_limit": 1000})
        )
        dev_login(web, PETRA, provider="dev-payer", next="/payer")
        rows = [payment_body(reference=f"OLD-{n:04d}") for n in range(1001)]
        rows[0]["payee_name"] = "Gustav Gammal"
        status, page = upload(web, csv_file(rows))
        assert status == 200, page
        first = web.get("/payer", params={"lang": "en", "person": "Gammal"}).text
        assert (
            "No payment matches among the 1,000 payments searched so far; older payments are not searched yet." in first
        )
        further = re.search(r'<a href="/payer\?([^"]+)">Search older payments</a>', first)
        assert further is not None
        assert "person=Gammal" in further.group(1)
        older = web.get(f"/payer?{further.group(1).replace('&amp;', '&')}&lang=en").text
        assert re.findall(r'<a href="/payer/payments/\d+"><code>([^<]+)</code>', older) == ["OLD-0000"]
        assert "Search older payments" not in older
        assert "Older payments" not in older

    @pytest.mark.usefixtures("registered")
    def test_the_api_finds_the_same_way(self, web: TestClient, session: Session, payers: tuple[Payer, Payer]) -> None:
        token = issue_token(session, payer_id=payers[0].id, label="clerk test").token
        session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        newest = web.get("/api/v1/payments", params={"order": "newest", "limit": 2}, headers=headers).json()
        assert [p["reference"] for p in newest["items"]] == ["SJP-100_A", "SOC-2026-002"]
        rest = web.get(
            "/api/v1/payments", params={"order": "newest", "after": newest["next_after"]}, headers=headers
        ).json()
        assert [p["reference"] for p in rest["items"]] == ["SOC-2026-001"]
        found = web.get("/api/v1/payments", params={"person": "194907131843"}, headers=headers).json()
        assert [p["reference"] for p in found["items"]] == ["SOC-2026-002"]
        refused = web.get("/api/v1/payments", params={"person": "12345"}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"] == "invalid_identifier"
        assert refused.json()["detail"].startswith("person: ")
