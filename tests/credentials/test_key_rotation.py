"""The issuer's key is rotated by replacing its files: credentials signed with the old key stay
valid (each carries its chain), new ones and the status lists are signed with the new key."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from saldo.credentials.service import sd_jwt_vc, status_list
from saldo.credentials.service.keys import issue_issuer
from saldo.kit.clock import utcnow
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import app_in_transaction
from tests.credentials.conftest import CredentialPki, issuer_settings
from tests.credentials.test_issuing import issue_ehic
from tests.credentials.wallet import Wallet
from tests.factories import auth


def _header(jwt: str) -> dict[str, object]:
    header: dict[str, object] = sd_jwt_vc.b64url_json(jwt.split(".", maxsplit=1)[0])
    return header


def test_a_rotated_key_keeps_old_credentials_valid(
    tmp_path: Path,
    settings: Settings,
    credential_pki: CredentialPki,
    engine: Engine,
    connection: Connection,
    session: Session,
) -> None:
    key, chain = tmp_path / "issuer.key", tmp_path / "issuer.pem"
    issue_issuer(credential_pki.anchor, "Försäkringskassan", "SE").write(key, chain)
    configured = issuer_settings(settings, credential_pki).model_copy(
        update={"credentials_key": key, "credentials_chain": chain}
    )
    create_staff(session, username="rota", name="Rota", roles=[Role.ISSUER])
    officer = auth(issue_staff_token(session, username="rota", label="t"))
    session.commit()
    with TestClient(app_in_transaction(configured, engine, connection)) as client:
        old_wallet, new_wallet = Wallet(), Wallet()
        first = issue_ehic(client, officer)
        old = old_wallet.receive(client, first["offer"]["credential_offer_uri"], first["offer"]["tx_code"])
        issue_issuer(credential_pki.anchor, "Försäkringskassan", "SE").write(key, chain)  # the new key
        second = issue_ehic(client, officer)
        new = new_wallet.receive(client, second["offer"]["credential_offer_uri"], second["offer"]["tx_code"])
        assert _header(old)["x5c"] != _header(new)["x5c"]
        for wallet, credential in ((old_wallet, old), (new_wallet, new)):
            presentation = wallet.present(credential, disclose=set(), audience="https://v.example", nonce="r")
            verified = sd_jwt_vc.verify(
                presentation,
                anchors=[credential_pki.anchor.certificate],
                accepted_vcts={"urn:eudi:ehic:1"},
                audience="https://v.example",
                nonce="r",
                now=utcnow(),
                status_of=lambda _uri, _idx: 0,
            )
            assert verified.vct == "urn:eudi:ehic:1"
        # a change to the list signs it again, now with the new key
        client.post(
            f"/api/v1/staff/credentials/{first['credential']['document_number']}/revoke",
            json={"reason": "rotation test"},
            headers=officer,
        )
        uri, _, index = first["credential"]["status_list"].partition("#")
        token = client.get(uri.removeprefix("http://testserver")).text
        assert _header(token)["x5c"] == _header(new)["x5c"]
        listed = status_list.read(token, uri=uri, anchors=[credential_pki.anchor.certificate], now=utcnow())
        assert listed.status(int(index)) == 1
