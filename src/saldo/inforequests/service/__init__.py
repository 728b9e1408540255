"""Information requests: in an in-depth audit the authority asks a payer for data on a named person
in a case, by data category from the catalogue (never a patient-confidential one). The payer answers
through its API, by JSON or file; a reminder goes out before the deadline.

Asking names the person to the payer and reading the answer shows their data: both are logged."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import ASK_PAYER
from saldo.cases.models import CaseEventKind, CaseStatus
from saldo.cases.repository import CaseRepository
from saldo.cases.service import (
    actor_of,
    case_event,
    case_for_update,
    case_persons,
    grounds_to_read,
    log_disclosure,
    record_status,
)
from saldo.inforequests.errors import RequestNotFoundError, RequestStateError
from saldo.inforequests.models import InformationAnswer, InformationRequest, RequestStatus
from saldo.inforequests.repository import RequestRepository
from saldo.inforequests.service.answers import check_answer_data
from saldo.inforequests.service.catalogue import categories, check_categories
from saldo.kit import clock
from saldo.messages.models import MessageKind
from saldo.messages.service import post_message
from saldo.payers.errors import UnknownPayerError
from saldo.payers.repository import PayerRepository
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import require_role

MAX_ANSWER_FILE_BYTES = 20 * 1024 * 1024
REMIND_DAYS_BEFORE = 3


def request_body(request: InformationRequest) -> dict[str, Any]:
    """What the payer is told of a request (the feed message and the API resource)."""
    known = categories()
    return {
        "request_id": request.id,
        "person": {"scheme": request.person_scheme, "identifier": request.person_id},
        "categories": [
            {"code": c, "name_sv": known[c].name_sv, "name_en": known[c].name_en, "description": known[c].description}
            for c in request.categories
        ],
        "question": request.question,
        "deadline": request.deadline.isoformat(),
        "status": request.status.value,
    }


def send_request(
    session: Session,
    principal: StaffPrincipal,
    *,
    case_id: int,
    payer_id: int,
    person: tuple[str, str],
    categories_asked: list[str],
    question: str,
    deadline: dt.date,
    today: dt.date | None = None,
    channel: str = "api",
) -> InformationRequest:
    """Ask a payer for data on a person of the case. Refused: exempt or unknown categories, a person
    not in the case, a deadline not in the future, a payer not connected."""
    require_role(principal, Role.AUDITOR)
    codes = check_categories(categories_asked)
    if not question.strip():
        raise RequestStateError("question: say what the authority needs to know and why")
    if deadline <= (today or clock.today()):
        raise RequestStateError(f"deadline: {deadline.isoformat()} is not in the future")
    case = case_for_update(session, case_id)
    if person not in {(p.person_scheme, p.person_id) for p in case_persons(session, case_id)}:
        raise RequestStateError(f"person: {person[0]} {person[1]} is not a person of case {case.reference}")
    payer = PayerRepository(session).get(payer_id)
    if payer is None:
        raise UnknownPayerError(f"no payer with id {payer_id}")
    request = InformationRequest(
        case_id=case.id,
        payer_id=payer_id,
        person_scheme=person[0],
        person_id=person[1],
        categories=codes,
        question=question.strip(),
        deadline=deadline,
        status=RequestStatus.OPEN,
        created_by=principal.username,
    )
    session.add(request)
    session.flush()
    post_message(
        session, payer_id=payer_id, kind=MessageKind.INFORMATION_REQUEST, ref_id=request.id, body=request_body(request)
    )
    log_disclosure(
        session,
        principal,
        case_id=case.id,
        person=person,
        purpose=ASK_PAYER,
        channel=channel,
        details={
            "request": request.id,
            "payer_id": payer_id,
            "payer": payer.name,
            "categories": codes,
            "question": question.strip()[:200],
        },
    )
    case_event(
        session,
        case.id,
        CaseEventKind.REQUEST_SENT,
        actor_of(principal),
        {"request": request.id, "payer": payer_id, "categories": codes, "deadline": deadline.isoformat()},
    )
    if case.status is not CaseStatus.AWAITING_INFORMATION:
        record_status(
            CaseRepository(session), case, CaseStatus.AWAITING_INFORMATION, actor_of(principal), "request sent"
        )
    return request


def withdraw_request(
    session: Session, principal: StaffPrincipal, request_id: int, *, reason: str
) -> InformationRequest:
    require_role(principal, Role.AUDITOR, Role.SUPERVISOR)
    request = session.get(InformationRequest, request_id, with_for_update=True)
    if request is None:
        raise RequestNotFoundError(f"no information request {request_id}")
    if request.status is not RequestStatus.OPEN:
        raise RequestStateError(f"request {request_id} is {request.status.value}")
    request.status = RequestStatus.WITHDRAWN
    post_message(
        session,
        payer_id=request.payer_id,
        kind=MessageKind.REQUEST_WITHDRAWN,
        ref_id=request.id,
        body={"request_id": request.id, "reason": reason},
    )
    case_event(
        session, request.case_id, CaseEventKind.NOTE, actor_of(principal), {"withdrawn": request.id, "reason": reason}
    )
    return request


def payer_requests(
    session: Session, payer_id: int, *, status: RequestStatus | None = None
) -> Sequence[InformationRequest]:
    return RequestRepository(session).of_payer(payer_id, status)


def case_requests(session: Session, case_id: int) -> Sequence[InformationRequest]:
    """The information requests of a case, to every payer (for the authority's case page)."""
    return RequestRepository(session).of_case(case_id)


def payer_request(session: Session, payer_id: int, request_id: int, *, lock: bool = False) -> InformationRequest:
    """A request to this payer; another payer's is as unknown as a missing one."""
    request = session.get(InformationRequest, request_id, with_for_update=lock)
    if request is None or request.payer_id != payer_id:
        raise RequestNotFoundError(f"no information request {request_id}")
    return request


def answer_request(
    session: Session,
    *,
    payer_id: int,
    received_by: str,
    request_id: int,
    data: dict[str, Any],
    filename: str | None = None,
    content: bytes | None = None,
) -> InformationAnswer:
    """Take a payer's answer: data only for the categories asked, or a file, or both."""
    request = payer_request(session, payer_id, request_id, lock=True)
    if request.status is not RequestStatus.OPEN:
        raise RequestStateError(f"request {request_id} is {request.status.value}: it takes no answer")
    extra = sorted(set(data) - set(request.categories))
    if extra:
        raise RequestStateError(
            f"data: {', '.join(extra)} was not asked for (asked: {', '.join(request.categories)}); "
            "send only what was asked"
        )
    if not data and content is None:
        raise RequestStateError("an answer carries data for the categories asked, or a file")
    data = check_answer_data(data)
    if content is not None and len(content) > MAX_ANSWER_FILE_BYTES:
        raise RequestStateError(f"file: larger than {MAX_ANSWER_FILE_BYTES} bytes")
    answer = InformationAnswer(
        request_id=request.id,
        data=data,
        filename=filename,
        content=content,
        content_sha256=hashlib.sha256(content).digest() if content is not None else None,
        received_by=received_by,
    )
    session.add(answer)
    request.status = RequestStatus.ANSWERED
    request.answered_at = dt.datetime.now(dt.UTC)
    session.flush()
    case_event(
        session,
        request.case_id,
        CaseEventKind.ANSWER_RECEIVED,
        received_by,
        {"request": request.id, "answer": answer.id, "categories": sorted(data), "file": filename},
    )
    return answer


def read_answers(
    session: Session, principal: StaffPrincipal, request_id: int, *, purpose: str | None = None, channel: str = "api"
) -> tuple[InformationRequest, Sequence[InformationAnswer]]:
    """The request and its answers for an auditor or supervisor; the read is logged, on the same
    grounds as a read of its case (a role on it, or a purpose given)."""
    require_role(principal, Role.AUDITOR, Role.SUPERVISOR)
    request = session.get(InformationRequest, request_id)
    if request is None:
        raise RequestNotFoundError(f"no information request {request_id}")
    case = CaseRepository(session).get(request.case_id)
    if case is None:  # cannot be: a request belongs to its case (foreign key)
        raise RequestNotFoundError(f"no case for information request {request_id}")
    grounds = grounds_to_read(case, principal, purpose)
    answers = RequestRepository(session).answers(request_id)
    log_access(
        session,
        Access(
            actor=principal.username,
            role=(Role.AUDITOR if principal.has(Role.AUDITOR) else Role.SUPERVISOR).value,
            action=grounds.action("read_answer"),
            purpose=grounds.purpose,
            person_scheme=request.person_scheme,
            person_id=request.person_id,
            case_id=request.case_id,
            channel=channel,
            details={"request": request_id, "answers": [a.id for a in answers], "basis": grounds.basis},
        ),
    )
    return request, answers


def send_reminders(session: Session, *, today: dt.date | None = None, days_before: int = REMIND_DAYS_BEFORE) -> int:
    """Remind payers of open requests whose deadline is ``days_before`` days away or nearer (or past),
    once per request; returns how many reminders went out."""
    on = today or clock.today()
    due = RequestRepository(session).due_for_reminder(on + dt.timedelta(days=days_before))
    for request in due:
        overdue = request.deadline < on
        post_message(
            session,
            payer_id=request.payer_id,
            kind=MessageKind.REMINDER,
            ref_id=request.id,
            body={
                "request_id": request.id,
                "deadline": request.deadline.isoformat(),
                "overdue": overdue,
                "text": (
                    f"The deadline of information request {request.id} passed on {request.deadline.isoformat()}."
                    if overdue
                    else f"Information request {request.id} is due on {request.deadline.isoformat()}."
                ),
            },
        )
        request.reminded_at = dt.datetime.now(dt.UTC)
    return len(due)
