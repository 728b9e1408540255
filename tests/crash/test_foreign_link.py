"""A web process killed (SIGKILL) while it writes the letter that links a foreign eID, before it
commits: nothing of it is left — no letter, no code waiting — and the browser's second try, on a
server started anew, writes one letter and one code."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from tests.crash.conftest import Lab, free_port, wait_until
from tests.crash.test_procedures import _lost_answer, _up
from tests.crossborder.connector import Connector, Person, key_and_certificate
from tests.factories import account_record, auth, make_bank, make_bank_token, pnr, se_iban

AINO = Person("FI/SE/020290-456B", "Aino", "Laine", "1990-02-02")
AINO_HERE = pnr(18, "19900202")


def _written(lab: Lab) -> tuple[int, int]:
    with lab.engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM letters WHERE kind = 'foreign_eid_link'), "
                "(SELECT count(*) FROM foreign_links WHERE state = 'pending')"
            )
        ).one()
    return int(found[0]), int(found[1])


def test_the_letter_is_written_once_after_the_server_died_writing_it(lab: Lab) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    connector = Connector(lab.folder)
    sp_key, sp_cert = key_and_certificate(lab.folder, "saldo-sp")
    connector.sp_cert = sp_cert
    env = {
        "SALDO_PUBLIC_URL": base,
        "SALDO_EIDAS_CONNECTOR_METADATA": str(connector.metadata()),
        "SALDO_EIDAS_SP_KEY": str(sp_key),
        "SALDO_EIDAS_SP_CERT": str(sp_cert),
    }
    with lab.sessions() as session:
        token = make_bank_token(session, make_bank(session))
        session.commit()

    point = "crossborder.before_commit_letter"
    server = lab.start("serve", "--port", str(port), halt_at=point, **env)
    wait_until(lambda: _up(base), "the server answering")
    records = [
        account_record(se_iban(2), (AINO_HERE, "Aino Laine")),
        account_record(se_iban(3), (pnr(19, "19900202"), "Aino Laine")),
    ]
    assert httpx.post(f"{base}/api/v1/bank/accounts", json={"accounts": records}, headers=auth(token)).is_success
    connector.trust(httpx.get(f"{base}/auth/saml/metadata").text)
    browser = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    started = browser.get("/login/eidas")
    answer = browser.post("/auth/saml/acs", data={"SAMLResponse": connector.answer(started.headers["location"], AINO)})
    landed = answer.headers["location"]
    assert landed.startswith("/login/foreign/"), answer.text
    _lost_answer(lambda: browser.post(f"{landed}/letter", data={"number": AINO_HERE}), lab, server, point)
    assert _written(lab) == (0, 0)

    server = lab.start("serve", "--port", str(port), **env)
    wait_until(lambda: _up(base), "the server answering again")
    again = browser.post(f"{landed}/letter", data={"number": AINO_HERE})  # the browser sends the form again
    assert again.status_code == 200, again.text
    assert _written(lab) == (1, 1)
    lab.kill(server)
