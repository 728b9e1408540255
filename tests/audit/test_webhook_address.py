"""A payer's webhook points only to https on the public internet: never to this machine, a private
or link-local network, or the authority's own ranges — so it cannot scan or reach internal services."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from saldo.kit.outbound import RefusedAddressError, check_url, parse_networks
from tests.factories import auth, make_payer, make_token


@pytest.fixture
def payer_token(session: Session) -> str:
    token = make_token(session, make_payer(session))
    session.commit()
    return token


REFUSED = [
    ("http://93.184.215.14/hook", "is not an absolute https URL"),
    ("https://127.0.0.1:8000/internal-admin", "127.0.0.1 is not a public internet address"),
    ("https://localhost/hook", "localhost is this machine"),
    ("https://10.1.2.3/hook", "10.1.2.3 is not a public internet address"),
    ("https://192.168.0.10/hook", "192.168.0.10 is not a public internet address"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is not a public internet address"),
    ("https://[::1]/hook", "::1 is not a public internet address"),
    ("https://[::ffff:127.0.0.1]/hook", "127.0.0.1 is not a public internet address"),
    ("https://[fd00::1]/hook", "fd00::1 is not a public internet address"),
    ("https://0.0.0.0/hook", "0.0.0.0 is not a public internet address"),
    ("https://user:pw@93.184.215.14/hook", "carries no user name or password"),
    ("ftp://93.184.215.14/hook", "is not an absolute https URL"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_a_webhook_inside_the_network_is_refused(client: TestClient, payer_token: str, url: str, reason: str) -> None:
    response = client.put("/api/v1/webhook", json={"url": url}, headers=auth(payer_token))
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert client.get("/api/v1/webhook", headers=auth(payer_token)).status_code == 404


def test_a_public_https_webhook_is_accepted(client: TestClient, payer_token: str) -> None:
    response = client.put("/api/v1/webhook", json={"url": "https://93.184.215.14/saldo"}, headers=auth(payer_token))
    assert response.status_code == 200, response.text
    assert response.json()["secret"].startswith("whsec_")


def test_the_authoritys_own_public_ranges_are_refused_too() -> None:
    own = parse_networks(["93.184.215.0/24"])
    with pytest.raises(RefusedAddressError, match=r"inside the authority's own network 93\.184\.215\.0/24"):
        check_url("https://93.184.215.14/hook", own)
    check_url("https://93.184.216.14/hook", own)  # outside it: no error
