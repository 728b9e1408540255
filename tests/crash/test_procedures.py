"""A web process killed (SIGKILL) while it writes a person's application, and while it writes an
issuer's decision on one, before either commits: the browser sends the same form again and there is
one application; the issuer grants again and there is one decision and one credential."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text

from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.crash.conftest import Lab, free_port, wait_until
from tests.credentials.issuer_files import issuer_environment
from tests.factories import VALID_PNR
from tests.procedures.test_applications import pda1_form
from tests.web_login import csrf_of, dev_login


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _lost_answer(call: Callable[[], httpx.Response], lab: Lab, server: Any, point: str) -> None:
    """Make ``call`` in a thread, kill the server where it halts, and check no answer came."""
    lost: dict[str, Any] = {}

    def run() -> None:
        try:
            lost["answer"] = call()
        except httpx.HTTPError as error:
            lost["error"] = error

    asking = threading.Thread(target=run)
    asking.start()
    lab.kill_at(server, point)
    asking.join(timeout=60)
    assert "answer" not in lost


def _counts(lab: Lab) -> tuple[int, int, int]:
    with lab.engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM applications), (SELECT count(*) FROM legislation_decisions), "
                "(SELECT count(*) FROM credentials)"
            )
        ).one()
    return int(found[0]), int(found[1]), int(found[2])


def test_an_application_and_its_decision_land_once_after_the_server_died_writing_them(lab: Lab) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = issuer_environment(lab.folder / "issuer", base) | {"SALDO_DEV_LOGIN": "1"}
    with lab.sessions() as session:
        create_staff(session, username="crash.issuer", name="Ida", roles=[Role.ISSUER])
        officer = {"Authorization": f"Bearer {issue_staff_token(session, username='crash.issuer', label='t')}"}
        session.commit()

    point = "procedures.before_commit_application"
    server = lab.start("serve", "--port", str(port), halt_at=point, **env)
    wait_until(lambda: _up(base), "the server answering")
    browser = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    assert dev_login(browser, VALID_PNR).status_code == 303
    page = browser.get("/me/applications/new/pda1").text
    key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf_of(page), "form_key": key, **pda1_form()}
    _lost_answer(lambda: browser.post("/me/applications/new/pda1", data=form), lab, server, point)
    assert _counts(lab) == (0, 0, 0)

    point = "procedures.before_commit_decision"
    server = lab.start("serve", "--port", str(port), halt_at=point, **env)
    wait_until(lambda: _up(base), "the server answering again")
    sent = browser.post("/me/applications/new/pda1", data=form)  # the same form, sent again
    assert sent.status_code == 303, sent.text
    again = browser.post("/me/applications/new/pda1", data=form)
    assert again.headers["location"] == sent.headers["location"]
    reference = sent.headers["location"].split("/")[-1].split("?")[0]
    assert _counts(lab) == (1, 0, 0)
    decision = {"starting_date": pda1_form()["starting_date"], "ending_date": pda1_form()["ending_date"]}
    with httpx.Client(base_url=base, timeout=60) as client:
        grant = f"/api/v1/staff/applications/{reference}/grant"
        _lost_answer(lambda: client.post(grant, json=decision, headers=officer), lab, server, point)
    assert _counts(lab) == (1, 0, 0)

    lab.start("serve", "--port", str(port), **env)
    wait_until(lambda: _up(base), "the server answering a third time")
    with httpx.Client(base_url=base, timeout=60) as client:
        granted = client.post(grant, json=decision, headers=officer)
        assert granted.status_code == 200, granted.text
        assert client.post(grant, json=decision, headers=officer).status_code == 409
    assert _counts(lab) == (1, 1, 1)
    with lab.engine.connect() as connection:
        state, credential = connection.execute(
            text("SELECT a.state, c.document_number FROM applications a JOIN credentials c ON c.id = a.credential_pk")
        ).one()
    assert state == "granted"
    assert credential == granted.json()["credential"]
    browser.close()
