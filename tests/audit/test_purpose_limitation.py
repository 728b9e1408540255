"""Purpose limitation for staff: a case (and the payers' answers in it) is read by whoever has a role
on it, or by another case worker only for a published purpose or a sentence saying why; that read is
logged as one without a role, for the log auditor to review and the person to see. Tried for every
staff role against one case, and the purpose check against placeholders."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from saldo.accesslog.models import AccessLogEntry
from saldo.accesslog.service.purposes import PURPOSES, AccessKind, PurposeError, check_purpose, is_sentence, published
from saldo.cases.service import assign_case
from saldo.kit.clock import today
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.audit.conftest import SCHEME, World
from tests.audit.test_cases import open_case
from tests.factories import auth

PLACEHOLDERS = [
    "",
    " ",
    ".....",
    "x",
    "review",
    "asdf asdf asdf asdf",
    "telefonsamtal 2026-0042",
    "1234 5678 9012",
    "a b c d e f",
]
SENTENCES = [
    "checking the payer's decision basis",
    "utredning av dödsfall i ärendet",
    "tarkistan maksajan päätöksen perusteet",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_a_placeholder_is_no_purpose(value: str) -> None:
    with pytest.raises(PurposeError, match="supervision, quality_review, complaint, access_request"):
        check_purpose(value, AccessKind.READ_CASE, has_role=False)


@pytest.mark.parametrize("value", SENTENCES)
def test_a_sentence_is_logged_as_written(value: str) -> None:
    assert check_purpose(f"  {value} ", AccessKind.READ_CASE, has_role=False) == value


def test_a_published_purpose_covers_only_its_own_kinds_of_access() -> None:
    assert check_purpose("supervision", AccessKind.READ_CASE, has_role=False) == "supervision"
    assert check_purpose("case_work", AccessKind.READ_CASE, has_role=True) == "case_work"
    with pytest.raises(PurposeError, match="is for someone assigned to the case or who opened it"):
        check_purpose("case_work", AccessKind.READ_CASE, has_role=False)
    with pytest.raises(PurposeError, match="does not cover this"):
        check_purpose("assisted_service", AccessKind.READ_CASE)
    with pytest.raises(PurposeError, match="does not cover this"):
        check_purpose("supervision", AccessKind.ACT_FOR)
    # every kind of access has a purpose of its own to choose
    assert all(published(kind) for kind in AccessKind)
    assert {p.code for p in published(AccessKind.READ_CASE, has_role=False)} == set(PURPOSES) - {
        "case_work",
        "suspected_error",
        "assisted_service",
        "notify_payer",
        "ask_payer",
        "identify_abroad",
        "issue_credentials",
        "decide_applications",
        "cross_border_work",
        "release_evidence",
        "fetch_evidence",
    }
    # what Saldo logs itself when it names a person to a payer, or shows who a document from abroad
    # may be about, is no reason for staff to read a case
    with pytest.raises(PurposeError, match="does not cover this"):
        check_purpose("notify_payer", AccessKind.READ_CASE)
    with pytest.raises(PurposeError, match="does not cover this"):
        check_purpose("identify_abroad", AccessKind.READ_CASE)


@given(st.text(alphabet=st.characters(categories=["P", "N", "S", "Zs"]), max_size=60))
def test_text_without_words_is_never_a_sentence(value: str) -> None:
    assert not is_sentence(value)


@given(st.lists(st.sampled_from(["Ärende", "ärende", "2026", "...", "-", "check", "CHECK"]), max_size=12))
def test_fewer_than_three_distinct_words_is_never_a_sentence(words: list[str]) -> None:
    assert not is_sentence(" ".join(words))


def _reader(session: Session, username: str, role: Role) -> dict[str, str]:
    create_staff(session, username=username, name=username, roles=[role])
    return auth(issue_staff_token(session, username=username, label="test"))


# Who reads the case, and the answer without a purpose: the case is opened by test.analyst and
# assigned to test.auditor; everyone else among the case workers needs a purpose; the other roles
# never read a case.
READERS: list[tuple[str, Role, int, str | None]] = [
    ("test.analyst", Role.ANALYST, 200, "opened"),
    ("test.auditor", Role.AUDITOR, 200, "assigned"),
    ("other.analyst", Role.ANALYST, 403, None),
    ("other.auditor", Role.AUDITOR, 403, None),
    ("test.supervisor", Role.SUPERVISOR, 403, None),
    ("test.logauditor", Role.LOG_AUDITOR, 403, None),
    ("test.caseworker", Role.CASEWORKER, 403, None),
]


@pytest.fixture
def assigned_case(client: TestClient, world: World, session: Session) -> int:
    case_id: int = open_case(client, world, "double")["case"]["id"]
    assign_case(session, world.staff[Role.SUPERVISOR], case_id, to="test.auditor")
    session.commit()
    return case_id


def _headers(session: Session, world: World, username: str, role: Role) -> dict[str, str]:
    if username.startswith("test."):
        return auth(world.staff_tokens[role])
    headers = _reader(session, username, role)
    session.commit()
    return headers


@pytest.mark.parametrize(("username", "role", "status", "basis"), READERS)
def test_every_staff_role_reads_a_case_only_on_its_grounds(
    client: TestClient,
    world: World,
    session: Session,
    assigned_case: int,
    username: str,
    role: Role,
    status: int,
    basis: str | None,
) -> None:
    headers = _headers(session, world, username, role)
    url = f"/api/v1/staff/cases/{assigned_case}"
    bare = client.get(url, headers=headers)
    assert bare.status_code == status, bare.text
    reads = select(AccessLogEntry).where(
        AccessLogEntry.actor == username,
        AccessLogEntry.case_id == assigned_case,
        AccessLogEntry.action.startswith("read_case"),
    )
    if basis is not None:  # a role on the case: read for case work
        entry = session.scalars(reads).one()
        assert (entry.action, entry.purpose, entry.details) == ("read_case", "case_work", {"basis": basis})
        return
    expected = "purpose_required" if role in (Role.ANALYST, Role.AUDITOR, Role.SUPERVISOR) else "forbidden"
    assert bare.json()["error"] == expected
    assert world.persons[0] not in bare.text
    placeholder = client.get(url, params={"purpose": "....."}, headers=headers)
    assert placeholder.json()["error"] == ("invalid_purpose" if expected == "purpose_required" else "forbidden")
    assert client.get(url, params={"purpose": "case_work"}, headers=headers).status_code in (403, 422)
    given_reason = client.get(url, params={"purpose": "quality_review"}, headers=headers)
    if expected == "forbidden":  # no purpose opens a case to a role that does not work cases
        assert given_reason.status_code == 403
        assert session.scalars(reads).all() == []
        return
    assert given_reason.status_code == 200
    assert given_reason.json()["persons"][0]["person_id"] == world.persons[0]
    entry = session.scalars(reads).one()
    assert (entry.action, entry.purpose, entry.details) == (
        "read_case_without_role",
        "quality_review",
        {"basis": "reason"},
    )


def test_answers_are_read_on_the_same_grounds_and_reviewed_by_the_log_auditor(
    client: TestClient, world: World, session: Session, assigned_case: int
) -> None:
    asked = client.post(
        f"/api/v1/staff/cases/{assigned_case}/information-requests",
        json={
            "payer_id": world.payer_a.payer_id,
            "person": {"scheme": SCHEME, "identifier": world.persons[0]},
            "categories": ["decision_basis"],
            "question": "On what grounds was it decided?",
            "deadline": (today() + dt.timedelta(days=10)).isoformat(),
        },
        headers=auth(world.staff_tokens[Role.AUDITOR]),
    )
    assert asked.status_code == 201, asked.text
    url = f"/api/v1/staff/information-requests/{asked.json()['id']}"
    assert client.get(url, headers=auth(world.staff_tokens[Role.AUDITOR])).status_code == 200
    supervisor = auth(world.staff_tokens[Role.SUPERVISOR])
    bare = client.get(url, headers=supervisor)
    assert bare.json().get("error") == "purpose_required", bare.text
    sentence = "following up the answer's deadline with the auditor"
    assert client.get(url, params={"purpose": sentence}, headers=supervisor).status_code == 200
    review = client.get(
        "/api/v1/staff/access-log",
        params={"action": "read_answer_without_role"},
        headers=auth(world.staff_tokens[Role.LOG_AUDITOR]),
    )
    assert [(e["actor"], e["purpose"], e["details"]["basis"]) for e in review.json()] == [
        ("test.supervisor", sentence, "reason")
    ]


def test_the_published_purposes_are_listed_for_every_member_of_staff(client: TestClient, world: World) -> None:
    listed = client.get("/api/v1/staff/purposes", headers=auth(world.staff_tokens[Role.CASEWORKER]))
    assert listed.status_code == 200
    assert {p["code"]: p["covers"] for p in listed.json()} == {code: sorted(p.covers) for code, p in PURPOSES.items()}
