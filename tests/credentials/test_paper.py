"""The credential on paper for a person without a wallet: a PDF with what it says and a QR code of
the credential itself. The code is read back from the printed PDF by an independent decoder
(zbar's zbarimg) and checked on the verifier's paper page: valid, then revoked."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.credentials.conftest import CredentialPki, Peer
from tests.credentials.test_issuing import issue_pda1
from tests.factories import OTHER_PNR, VALID_PNR
from tests.web_login import dev_login

ZBARIMG = shutil.which("zbarimg")


def qr_of(pdf: bytes, folder: Path) -> str:
    """The QR code's text, read from the PDF's image by zbarimg (Debian's zbar-tools)."""
    if ZBARIMG is None:
        pytest.skip("zbarimg is installed by .ci/run (Debian package zbar-tools)")
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    path = folder / "qr.png"
    path.write_bytes(images[0].data)
    done = subprocess.run([ZBARIMG, "--quiet", "--raw", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_printed_pda1_is_checked_from_its_qr_code_until_it_is_revoked(
    issuer_client: TestClient, officer: dict[str, str], tmp_path: Path, credential_pki: CredentialPki, peer: Peer
) -> None:
    issued = issue_pda1(issuer_client, officer)
    number = issued["credential"]["document_number"]
    printed = issuer_client.get(f"/api/v1/staff/credentials/{number}/pdf", params={"lang": "sv"}, headers=officer)
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(printed.content)).pages[0].extract_text()
    assert number in text
    assert "Berlin" in text
    assert "Arbetsplats / Place of work" in text  # Swedish, with the English beside for inspectors abroad
    link = qr_of(printed.content, tmp_path)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://testserver/verifier/paper"
    checked = issuer_client.get(f"{parts.path}?{parts.query}", headers={"Accept-Language": "en"})
    assert checked.status_code == 200
    assert "Valid." in checked.text
    assert issued["credential"]["person_id"] in checked.text  # to compare with the identity document
    # the independent implementation reads the same paper credential (no key binding: it is paper)
    paper = checked.request.url.params["c"]
    uri, _, _ = issued["credential"]["status_list"].partition("#")
    answer = peer(
        "verify",
        presentation=paper,
        anchor_pem=credential_pki.anchor_pem,
        now=int(time.time()),
        status_lists={uri: issuer_client.get(uri.removeprefix("http://testserver")).text},
    )
    assert answer["ok"], answer
    assert answer["kb"] is None
    issuer_client.post(f"/api/v1/staff/credentials/{number}/revoke", json={"reason": "posting ended"}, headers=officer)
    again = issuer_client.get(f"{parts.path}?{parts.query}", headers={"Accept-Language": "en"})
    assert "The issuer has revoked the credential." in again.text
    assert "Berlin" not in again.text
    refused = issuer_client.get(f"/api/v1/staff/credentials/{number}/pdf", headers=officer)
    assert refused.status_code == 409  # a revoked credential is not printed again
    history = issuer_client.get(f"/api/v1/staff/credentials/{number}", headers=officer).json()["history"]
    assert [e["action"] for e in history] == ["issued", "offered", "printed", "revoked"]


def test_a_bent_paper_code_is_not_valid(issuer_client: TestClient) -> None:
    page = issuer_client.get(
        "/verifier/paper", params={"c": "eyJhbGciOiJub25lIn0.e30.~"}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200
    assert "Not valid." in page.text


def test_a_person_prints_their_own_and_only_their_own(issuer_web: TestClient, officer: dict[str, str]) -> None:
    mine = issue_pda1(issuer_web, officer, person_id=VALID_PNR)["credential"]["document_number"]
    theirs = issue_pda1(issuer_web, officer, person_id=OTHER_PNR)["credential"]["document_number"]
    issuer_web.cookies.clear()
    dev_login(issuer_web, VALID_PNR)
    assert f'href="/me/credentials/{mine}.pdf"' in issuer_web.get("/me").text
    own = issuer_web.get(f"/me/credentials/{mine}.pdf")
    assert own.status_code == 200
    assert own.headers["content-type"] == "application/pdf"
    other = issuer_web.get(f"/me/credentials/{theirs}.pdf")
    assert other.status_code == 404
