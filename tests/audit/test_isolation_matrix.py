"""The isolation matrix, generated from the route table: every route and page, tried by every kind of
caller (each credential, each session, the anonymous) — and by a caller of the right kind on
objects that belong to another. The expected answer comes from the credential check the route
declares (its domain's http.py), not from a hand-written list, so a new route is covered the day it
appears. It lives beside the audit world (two payers, their payments, a case, notifications and
information requests to each), which has an object of every kind a route can name."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from saldo.accounts.http import require_participant
from saldo.banks.http import require_bank
from saldo.credentials.http import require_wallet
from saldo.identity.http import SESSION_COOKIE, require_citizen, require_payer_session, require_staff_session
from saldo.identity.models import Audience
from saldo.identity.service import open_session
from saldo.identity.service.oidc import VerifiedIdentity
from saldo.kit.account_number import AccountScheme
from saldo.kit.clock import today
from saldo.kit.national_id import IdScheme
from saldo.mediation.models import PaymentRun, RunStatus
from saldo.payers.http import require_payer
from saldo.payers.models import Payer
from saldo.payers.service import add_payer_user
from saldo.payments.models import BatchFormat, PayerUpload, UploadStatus
from saldo.registers.http import require_register_keeper
from saldo.registers.models import RegisterKind
from saldo.registers.service import create_keeper, issue_keeper_token
from saldo.staff.http import require_staff
from saldo.staff.models import Role
from saldo.staff.service import create_staff
from tests.audit.conftest import SCHEME, World
from tests.audit.test_cases import open_case
from tests.audit.test_notifications import notify
from tests.factories import VALID_IBAN, auth, make_bank, make_bank_token, payment_body, pnr
from tests.routes import api_routes
from tests.web_login import csrf_of

# Which kinds of caller each credential check admits.
ADMITS: dict[Callable[..., object], frozenset[str]] = {
    require_payer: frozenset({"payer"}),
    require_bank: frozenset({"bank"}),
    require_participant: frozenset({"payer", "bank"}),
    require_staff: frozenset({"staff"}),
    require_register_keeper: frozenset({"keeper"}),
    require_citizen: frozenset({"citizen"}),
    require_staff_session: frozenset({"staff_session"}),
    require_payer_session: frozenset({"payer_session"}),
    require_wallet: frozenset({"wallet"}),  # a wallet's OpenID4VCI access token (tests/credentials try it)
}
KINDS = ("anonymous", "payer", "bank", "keeper", "staff", "citizen", "staff_session", "payer_session")
# Path parameters that name an object some payer owns: tried with the other payer's.
PAYER_OBJECTS = ("payment_id", "reference", "batch_id", "run_id", "notification_id", "request_id", "upload_id")
DENIED = (401, 403, 404)


def admitted(route: APIRoute) -> frozenset[str] | None:
    """The kinds of caller the route's credential check admits; None for a public route."""

    def walk(dependant: Dependant) -> frozenset[str] | None:
        for dependency in dependant.dependencies:
            if dependency.call in ADMITS:
                return ADMITS[dependency.call]  # type: ignore[index]
            found = walk(dependency)
            if found is not None:
                return found
        return None

    return walk(route.dependant)


@dataclass
class Caller:
    headers: dict[str, str]


@dataclass
class Matrix:
    callers: dict[str, Caller]
    other_payer: dict[str, str]  # path parameter -> an object of payer B (callers are payer A's)
    fillers: dict[str, str]  # every other path parameter -> a value that exists
    payer_b_payment: int
    token_b: str


def _session_cookie(session: Session, person: str, audience: Audience, provider: str) -> dict[str, str]:
    identity = VerifiedIdentity(
        provider=provider, subject=f"t:{person}", person_scheme=SCHEME, person_id=person, name="T", loa="substantial"
    )
    secret, _ = open_session(session, identity, audience=audience, max_hours=1)
    return {"Cookie": f"{SESSION_COOKIE}={secret}"}


@pytest.fixture
def matrix(client: TestClient, world: World, session: Session) -> Matrix:
    payer_a, payer_b = session.get(Payer, world.payer_a.payer_id), session.get(Payer, world.payer_b.payer_id)
    assert payer_a is not None
    assert payer_b is not None
    bank_token = make_bank_token(session, make_bank(session))
    create_keeper(session, organisation_number="2021005448", name="Skatteverket", registers=list(RegisterKind))
    keeper_token = issue_keeper_token(session, organisation_number="2021005448", label="matrix").token
    create_staff(
        session,
        username="matrix.cw",
        name="Matrix",
        roles=[Role.CASEWORKER],
        person=(IdScheme.SE_PERSONNUMMER, pnr(901)),
    )
    add_payer_user(session, organisation_number=payer_a.organisation_number, personnummer=pnr(902), name="Petra")
    citizen = _session_cookie(session, world.persons[0], Audience.CITIZEN, "dev")
    staff_session = _session_cookie(session, pnr(901), Audience.STAFF, "dev-staff")
    payer_session = _session_cookie(session, pnr(902), Audience.PAYER, "dev-payer")
    # objects of payer B: an upload, a run from another debtor account, a batch
    upload = PayerUpload(
        payer_id=payer_b.id,
        sent_by="user:x",
        filename="b.csv",
        format=BatchFormat.CSV,
        size_bytes=10,
        status=UploadStatus.REJECTED,
    )
    run = PaymentRun(
        execution_date=today(),
        debtor_account_scheme=AccountScheme.IBAN,
        debtor_account=VALID_IBAN,
        status=RunStatus.PLANNED,
        requested_by="staff:test",
        max_file_transactions=10,
    )
    session.add_all([upload, run])
    session.commit()
    batch = client.post(
        "/api/v1/payment-batches", json=[payment_body(payee_id=world.persons[1])], headers=auth(world.token_b)
    )
    assert batch.status_code == 201, batch.text
    b_payment = world.payments[world.persons[0]][1]
    reference = client.get(f"/api/v1/payments/{b_payment}", headers=auth(world.token_b)).json()["reference"]
    case = open_case(client, world, "double")["case"]["id"]
    notified = notify(client, world, case)
    b_notification = next(n["id"] for n in notified if n["content"]["payment_ids"] == [b_payment])
    request = client.post(
        f"/api/v1/staff/cases/{case}/information-requests",
        json={
            "payer_id": world.payer_b.payer_id,
            "person": {"scheme": SCHEME, "identifier": world.persons[0]},
            "categories": ["decision_basis"],
            "question": "On what grounds was it decided?",
            "deadline": (today() + dt.timedelta(days=10)).isoformat(),
        },
        headers=auth(world.staff_tokens[Role.AUDITOR]),
    )
    assert request.status_code == 201, request.text
    return Matrix(
        callers={
            "anonymous": Caller({}),
            "payer": Caller(auth(world.token_a)),
            "bank": Caller(auth(bank_token)),
            "keeper": Caller(auth(keeper_token)),
            "staff": Caller(auth(world.staff_tokens[Role.SUPERVISOR])),
            "citizen": Caller(citizen),
            "staff_session": Caller(staff_session),
            "payer_session": Caller(payer_session),
        },
        other_payer={
            "payment_id": str(b_payment),
            "reference": reference,
            "batch_id": str(batch.json()["batch_id"]),
            "run_id": str(run.id),
            "notification_id": str(b_notification),
            "request_id": str(request.json()["id"]),
            "upload_id": str(upload.id),
        },
        fillers={
            "case_id": str(case),
            "finding_id": str(world.findings["death"].id),
            "rule_id": "mutually_exclusive_benefits",
            "name": "dev",
            "register": "population",
            "year": str(today().year),
            "decision": "hold",
            "document_id": "d-none",
            "decision_id": "1",
            "document_number": "SE-PDA1-NONE",
            "action": "suspend",
            "kind": "pda1",
            "outcome": "grant",
            "link_id": "1",
            "exchange_id": "1",
            "token": "t" * 24,
        },
        payer_b_payment=b_payment,
        token_b=world.token_b,
    )


def _path(route: APIRoute, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], route.path)


def _call(client: TestClient, method: str, path: str, caller: Caller, body: dict[str, object] | None) -> Response:
    if method in ("GET", "DELETE"):
        return client.request(method, path, headers=caller.headers, follow_redirects=False)
    return client.request(method, path, json=body or {}, headers=caller.headers, follow_redirects=False)


def _denied(response: Response, kind: str) -> bool:
    """Refused: an error status, or a page sending the browser to log in (a member of staff, to
    choose the citizen they act for first)."""
    if response.status_code in DENIED:
        return True
    location = response.headers.get("location", "")
    return response.status_code == 303 and (
        location.startswith("/login") or (kind == "staff_session" and location == "/staff/assist")
    )


def _calls(app: FastAPI) -> Iterator[tuple[APIRoute, str, frozenset[str]]]:
    for route in api_routes(app):
        kinds = admitted(route)
        if kinds is None:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            yield route, method, kinds


@pytest.mark.parametrize("kind", KINDS)
def test_no_caller_reaches_a_route_meant_for_another_kind(
    kind: str, client: TestClient, app: FastAPI, matrix: Matrix
) -> None:
    values = {**matrix.other_payer, **matrix.fillers}
    reached = []
    tried = 0
    for route, method, kinds in _calls(app):
        if kind in kinds:
            continue
        tried += 1
        response = _call(client, method, _path(route, values), matrix.callers[kind], None)
        if not _denied(response, kind):
            reached.append(f"{method} {route.path}: {response.status_code} {response.headers.get('location', '')}")
    assert tried > 20
    assert reached == []


# What a payer of the right kind sends to act on an object (so the answer is about the object,
# not about a malformed request).
BODIES: dict[str, dict[str, object]] = {
    "/api/v1/payments/{payment_id}/cancel": {"reason": "not ours"},
    "/api/v1/payments/{payment_id}/hold": {"reason": "not ours"},
    "/api/v1/payments/{payment_id}/release": {"reason": "not ours"},
    "/api/v1/notifications/{notification_id}/outcomes": {"kind": "no_error"},
    "/api/v1/information-requests/{request_id}/answers": {"data": {"decision_basis": "taken over"}},
}
FORMS: dict[str, dict[str, str]] = {
    "/payer/payments/{payment_id}/{decision}": {"reason": "not ours"},
    "/payer/notifications/{notification_id}/outcome": {"kind": "no_error"},
    "/payer/requests/{request_id}/answer": {"data:decision_basis": "taken over"},
}


def test_a_payer_reaches_no_object_of_another_payer(client: TestClient, app: FastAPI, matrix: Matrix) -> None:
    values = {**matrix.other_payer, **matrix.fillers}
    page = client.get("/payer", headers=matrix.callers["payer_session"].headers)
    csrf = csrf_of(page.text)
    reached = []
    tried = 0
    for route, method, kinds in _calls(app):
        names = set(re.findall(r"{(\w+)}", route.path))
        if not names & set(PAYER_OBJECTS) or not kinds & {"payer", "payer_session"}:
            continue
        caller = matrix.callers["payer" if "payer" in kinds else "payer_session"]
        path = _path(route, values)
        tried += 1
        if method == "GET":
            response = client.get(path, headers=caller.headers, follow_redirects=False)
        elif route.path.endswith("/answer-files"):
            response = client.post(path, params={"filename": "x.pdf"}, content=b"%PDF-1.7", headers=caller.headers)
        elif route.path in FORMS:
            data = {"csrf": csrf, **FORMS[route.path]}
            response = client.post(path, data=data, headers=caller.headers, follow_redirects=False)
        else:
            assert route.path in BODIES, f"add a valid body for {method} {route.path} to BODIES"
            response = client.post(path, json=BODIES[route.path], headers=caller.headers)
        if response.status_code not in (403, 404):
            reached.append(f"{method} {route.path}: {response.status_code}")
    assert tried >= 20
    assert reached == []
    mine = client.get(f"/api/v1/payments/{matrix.payer_b_payment}", headers=auth(matrix.token_b)).json()
    assert mine["status"] not in ("cancelled", "held")  # nothing of payer B's moved
