"""Credentials: issuing PDA1/EHIC SD-JWT VCs, verifying presentations, and a status list of ten
million entries.

    .venv/bin/python -m benchmarks.credentials [--credentials 2000] [--presentations 20000]
        [--list-size 10000000] [--revoked 100000] [--runs 3]

Issuance: `saldo serve` (two workers) as the issuer. (1) the whole OpenID4VCI path per credential,
as staff and a wallet do it over HTTP — issue (record, status entry, offer), token, nonce, credential —
from eight client threads; (2) the credential endpoint in batch, ten key proofs a request, which is
how a wallet or a bulk renewal collects many. Verification: presentations of a PDA1 checked on two
processes (signature, x5c chain to the root, disclosures, key binding with nonce and audience, status
from a kept list), and the same through the verifier's HTTP answer endpoint. Status list: a list of
``--list-size`` entries with ``--revoked`` revoked at random, signed, served by the server, fetched
and checked; then one more revocation, and how soon a fetch shows it.
Targets (issue 20): verification ≥ 2,000 presentations/s on 2 cores with a warm status list;
issuance ≥ 500 credentials/s; a 10 M-entry list served, fetched and checked, revocation within ttl."""

from __future__ import annotations

import argparse
import datetime as dt
import html
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from jwcrypto.jwk import JWK
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import WORK, drop_database, free_port, fresh_database, median, report, start_server
from saldo.credentials import service
from saldo.credentials.schemas import IssueIn
from saldo.credentials.service import issuance, sd_jwt_vc, status_list
from saldo.credentials.service.keys import load_anchors
from saldo.db.engine import create_db_engine, create_session_factory
from saldo.kit.clock import today, utcnow
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.credentials.issuer_files import issuer_environment
from tests.credentials.wallet import Wallet, answer_request, offer_from_uri

DATABASE = "saldo_bench_credentials"
PERSON = "198506124117"
AUDIENCE = "redirect_uri:https://inspector.example/verifier/response"


def _staff_headers(database_url: str) -> dict[str, str]:
    engine = create_db_engine_from(database_url)
    with Session(engine) as session:
        create_staff(session, username="bench.issuer", name="Bench", roles=[Role.ISSUER])
        token = issue_staff_token(session, username="bench.issuer", label="bench")
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def create_db_engine_from(url: str) -> Any:
    return create_db_engine(Settings(database_url=url, data_dir=WORK))


def _ehic_body(day: dt.date) -> dict[str, Any]:
    return {
        "type": "ehic",
        "person_scheme": "se_personnummer",
        "person_id": PERSON,
        "starting_date": day.isoformat(),
        "ending_date": (day + dt.timedelta(days=3 * 365)).isoformat(),
    }


def _whole_path(base: str, staff: dict[str, str], count: int, threads: int) -> float:
    """Credentials per second, each issued by staff and collected by a wallet over HTTP."""
    day = today()

    def one(_: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            issued = client.post("/api/v1/staff/credentials", json=_ehic_body(day), headers=staff)
            assert issued.status_code == 201, issued.text
            offer = issued.json()["offer"]
            Wallet().receive(client, offer["credential_offer_uri"], offer["tx_code"])

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


def _batch_collection(base: str, staff: dict[str, str], requests: int, threads: int) -> float:
    """Credentials per second from the credential endpoint with ten key proofs a request."""
    day = today()
    prepared: list[tuple[str, list[str]]] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(requests):
            offer = client.post("/api/v1/staff/credentials", json=_ehic_body(day), headers=staff).json()["offer"]
            wallet = Wallet()
            token = wallet.token(client, offer_from_uri(offer["credential_offer_uri"]), offer["tx_code"]).json()
            proofs = []
            for _ in range(10):
                nonce = client.post("/credentials/nonce").json()["c_nonce"]
                proofs.append(wallet.proof(audience=base, nonce=nonce, key=JWK.generate(kty="EC", crv="P-256")))
            prepared.append((token["access_token"], proofs))

    def one(item: tuple[str, list[str]]) -> int:
        with httpx.Client(base_url=base, timeout=30) as client:
            answer = client.post(
                "/credentials/credential",
                json={"credential_configuration_id": "ehic_dc_sd_jwt", "proofs": {"jwt": item[1]}},
                headers={"Authorization": f"Bearer {item[0]}"},
            )
            assert answer.status_code == 200, answer.text
            return len(answer.json()["credentials"])

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        issued = sum(pool.map(one, prepared))
    return issued / (time.perf_counter() - started)


def _collect_in_process(settings: Settings, env: dict[str, str], requests: int) -> float:
    """Credentials per second from the issuer's own work (``issuance.collect``: ten proofs checked,
    nonces taken, ten SD-JWT VCs signed, the history written, committed) on one core, no HTTP."""
    issuer_settings = settings.model_copy(
        update={
            "eessi_institution": env["SALDO_EESSI_INSTITUTION"],
            "credentials_key": Path(env["SALDO_CREDENTIALS_KEY"]),
            "credentials_chain": Path(env["SALDO_CREDENTIALS_CHAIN"]),
            "public_url": env["SALDO_PUBLIC_URL"],
        }
    )
    engine = create_db_engine(issuer_settings)
    sessions = create_session_factory(engine)
    issuer = service.issuer_from_settings(issuer_settings)
    prepared = []
    with sessions() as session:
        for _ in range(requests):
            now = utcnow()
            credential = service.issue(session, issuer, IssueIn.model_validate(_ehic_body(today())), by="b", now=now)
            offer = issuance.make_offer(session, issuer, credential, by="bench", now=now)
            session.flush()
            code = offer.body["grants"][issuance.PRE_AUTHORIZED]["pre-authorized_code"]
            token, _ = issuance.redeem(
                session, grant_type=issuance.PRE_AUTHORIZED, code=code, tx_code=offer.tx_code, now=now
            )
            wallet = Wallet()
            proofs = [
                wallet.proof(
                    audience=issuer.url,
                    nonce=issuance.new_nonce(session, now=now),
                    key=JWK.generate(kty="EC", crv="P-256"),
                )
                for _ in range(10)
            ]
            prepared.append((token, proofs))
        session.commit()
    started = time.perf_counter()
    for token, proofs in prepared:
        with sessions() as session:
            issuance.collect(session, issuer, access_token=token, configuration=None, proofs=proofs, now=utcnow())
            session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return requests * 10 / elapsed


# --- verification on two processes -------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _init_verifier(anchor_pem: str, token: str, uri: str) -> None:
    anchors = [x509.load_pem_x509_certificate(anchor_pem.encode())]
    _STATE["anchors"] = anchors
    _STATE["list"] = status_list.read(token, uri=uri, anchors=anchors, now=dt.datetime.now(dt.UTC))


def _verify_many(presentations: list[str]) -> int:
    anchors, kept = _STATE["anchors"], _STATE["list"]
    now = dt.datetime.now(dt.UTC)
    for presentation in presentations:
        sd_jwt_vc.verify(
            presentation,
            anchors=anchors,
            accepted_vcts={"urn:eudi:ehic:1"},
            audience=AUDIENCE,
            nonce="bench",
            now=now,
            status_of=lambda _uri, index: kept.status(index),
        )
    return len(presentations)


def _verification(base: str, staff: dict[str, str], anchors_path: Path, count: int) -> tuple[float, float]:
    """Presentations per second on two processes (warm list), and on one."""
    day = today()
    with httpx.Client(base_url=base, timeout=30) as client:
        offer = client.post("/api/v1/staff/credentials", json=_ehic_body(day), headers=staff).json()["offer"]
        wallet = Wallet()
        credential = wallet.receive(client, offer["credential_offer_uri"], offer["tx_code"])
        reference = sd_jwt_vc.b64url_json(credential.split("~")[0].split(".")[1])["status"]["status_list"]
        token = client.get(reference["uri"].removeprefix(base)).text
    # distinct presentations (each its own key-binding JWT), made before the clock starts
    presentations = [
        wallet.present(credential, disclose={"personal_administrative_number"}, audience=AUDIENCE, nonce="bench")
        for _ in range(count)
    ]
    anchor_pem = anchors_path.read_text()
    rates = []
    for processes in (2, 1):
        chunks = [presentations[i :: processes * 8] for i in range(processes * 8)]
        context = multiprocessing.get_context("fork")
        with context.Pool(
            processes, initializer=_init_verifier, initargs=(anchor_pem, token, reference["uri"])
        ) as pool:
            pool.map(_verify_many, [chunks[0][:10]] * processes)  # warm each process
            started = time.perf_counter()
            done = sum(pool.map(_verify_many, chunks))
            rates.append(done / (time.perf_counter() - started))
    return rates[0], rates[1]


def _verification_over_http(base: str, wallet_credential: tuple[Wallet, str], count: int, threads: int) -> float:
    """Presentations per second through the verifier's own endpoints: a request, the wallet's answer."""
    wallet, credential = wallet_credential

    def one(_: int) -> None:
        with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
            created = client.post("/verifier/requests", data={"kind": "ehic"})
            page = client.get(created.headers["location"], headers={"Accept-Language": "en"}).text
            start = page.index("openid4vp://")
            link = html.unescape(page[start : page.index('"', start)])
            answered = answer_request(wallet, client, link, credential)
            assert answered.status_code == 200, answered.text

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


# --- a status list of millions ---------------------------------------------------------------------


def _big_list(database_url: str, size: int, revoked: int) -> int:
    """A status list of ``size`` entries with ``revoked`` credentials revoked at random entries."""
    engine = create_db_engine_from(database_url)
    with engine.begin() as connection:
        list_id = connection.scalar(
            text("INSERT INTO credential_status_lists (size, used, version) VALUES (:s, :r, 0) RETURNING id"),
            {"s": size, "r": revoked},
        )
        connection.execute(
            text(
                """
                INSERT INTO credentials (document_number, kind, vct, person_scheme, person_id, claims,
                    status_list_id, status_index, state, valid_from, valid_until, issued_by, collections)
                SELECT 'SE-EHIC-B' || idx, 'ehic', 'urn:eudi:ehic:1', 'se_personnummer', :person, '{}'::jsonb,
                    :list, idx, 'revoked', current_date, current_date + 1000, 'bench', 0
                FROM (SELECT DISTINCT floor(random() * :size)::int AS idx
                      FROM generate_series(1, :draws)) AS drawn
                LIMIT :revoked
                """
            ),
            {"person": PERSON, "list": list_id, "size": size, "draws": int(revoked * 1.05), "revoked": revoked},
        )
    engine.dispose()
    return int(list_id)


def _status_list_figures(
    base: str, staff: dict[str, str], database_url: str, anchors_path: Path, size: int, revoked: int
) -> dict[str, Any]:
    list_id = _big_list(database_url, size, revoked)
    uri = f"{base}/credentials/status/{list_id}"
    anchors = list(load_anchors(anchors_path))
    figures: dict[str, Any] = {"entries": size, "revoked": revoked}
    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        first = client.get(uri)
        figures["first_fetch_s (signed on demand)"] = round(time.perf_counter() - started, 3)
        figures["token_bytes"] = len(first.content)
        started = time.perf_counter()
        client.get(uri)
        figures["second_fetch_s (served signed)"] = round(time.perf_counter() - started, 4)
        started = time.perf_counter()
        read = status_list.read(first.text, uri=uri, anchors=anchors, now=dt.datetime.now(dt.UTC))
        figures["checked_s (signature, inflate)"] = round(time.perf_counter() - started, 3)
        bad = sum(read.status(i) == 1 for i in range(size))
        figures["revoked_seen"] = bad
        # one more revocation (a credential of this list, the newest with room): how soon a fetch shows it
        day = today()
        issued = client.post(f"{base}/api/v1/staff/credentials", json=_ehic_body(day), headers=staff).json()
        number = issued["credential"]["document_number"]
        reference = issued["credential"]["status_list"]
        revoked_at = time.perf_counter()
        client.post(f"{base}/api/v1/staff/credentials/{number}/revoke", json={"reason": "benchmark"}, headers=staff)
        listed_uri, _, idx = reference.partition("#")
        while True:
            token = client.get(listed_uri).text
            if (
                status_list.read(token, uri=listed_uri, anchors=anchors, now=dt.datetime.now(dt.UTC)).status(int(idx))
                == 1
            ):
                break
        figures["revocation_visible_after_s"] = round(time.perf_counter() - revoked_at, 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--credentials", type=int, default=1000)
    parser.add_argument("--presentations", type=int, default=20000)
    parser.add_argument("--list-size", type=int, default=10_000_000)
    parser.add_argument("--revoked", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = fresh_database(DATABASE)
    assert settings.database_url
    port = free_port()
    env = issuer_environment(WORK / "credentials-pki", f"http://127.0.0.1:{port}")
    env["SALDO_CREDENTIALS_STATUS_LIST_SIZE"] = str(1 << 20)
    staff = _staff_headers(settings.database_url)
    server, base = start_server(settings, 2, extra_env=env, port=port)
    try:
        whole = [_whole_path(base, staff, args.credentials, 8) for _ in range(args.runs)]
        batch = [_batch_collection(base, staff, args.credentials // 10, 4) for _ in range(args.runs)]
        in_process = [_collect_in_process(settings, env, args.credentials // 10) for _ in range(args.runs)]
        anchors = Path(env["SALDO_CREDENTIALS_TRUST_ANCHORS"])
        verified = [_verification(base, staff, anchors, args.presentations) for _ in range(args.runs)]
        with httpx.Client(base_url=base, timeout=30) as client:
            offer = client.post("/api/v1/staff/credentials", json=_ehic_body(today()), headers=staff).json()["offer"]
            wallet = Wallet()
            credential = wallet.receive(client, offer["credential_offer_uri"], offer["tx_code"])
        over_http = [_verification_over_http(base, (wallet, credential), 500, 8) for _ in range(args.runs)]
        big = _status_list_figures(base, staff, settings.database_url, anchors, args.list_size, args.revoked)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(
        "credentials",
        {
            "issued_whole_path_per_s": [round(r, 1) for r in whole],
            "issued_whole_path_median": round(median(whole), 1),
            "collected_in_batches_of_10_per_s": [round(r, 1) for r in batch],
            "collected_in_batches_median": round(median(batch), 1),
            "collected_in_process_one_core_per_s": [round(r, 1) for r in in_process],
            "collected_in_process_median": round(median(in_process), 1),
            "verified_2_processes_per_s": [round(v[0]) for v in verified],
            "verified_2_processes_median": round(median([v[0] for v in verified])),
            "verified_1_process_per_s": [round(v[1]) for v in verified],
            "verified_over_http_per_s (request + answer, 8 clients)": [round(r, 1) for r in over_http],
            "status_list": big,
            "credentials": args.credentials,
            "presentations": args.presentations,
        },
    )
    drop_database(DATABASE)


if __name__ == "__main__":
    main()
