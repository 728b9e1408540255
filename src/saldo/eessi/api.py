"""The cross-border exchange over HTTP: the AS4 endpoint other nodes deliver SEDs to, and the staff
API to open cases, send SEDs and follow them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from saldo.db.queue import defer_job
from saldo.eessi import service
from saldo.eessi.errors import SedNotAllowedError
from saldo.eessi.jobs import DELIVER_LOCK, DELIVER_QUEUE, DELIVER_TASK
from saldo.eessi.models import CaseStatus
from saldo.eessi.schemas import CaseDetail, CaseIn, CaseOut, DocumentOut, PersonIn, SedIn, UndoLinkIn
from saldo.http.deps import AppSettings, DbSession
from saldo.kit import crash_points
from saldo.kit.problem import Problem, problem_responses
from saldo.staff.http import CurrentStaff
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import require_role

MAX_AS4_BYTES = 8 * 1024**2
SOAP = "application/soap+xml"

as4_router = APIRouter(tags=["eessi: AS4"])
router = APIRouter(
    prefix="/api/v1/staff/eessi",
    tags=["staff: cross-border cases"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
WORKING = service.WORKING


@as4_router.post(
    "/eessi/as4",
    summary="Receive an AS4 message (another node's SED)",
    responses={
        200: {"content": {SOAP: {}}, "description": "A signed non-repudiation receipt"},
        400: {"content": {SOAP: {}}, "description": "A signed ebMS error signal saying what was refused"},
        413: {"description": "The message is larger than 8 MiB"},
        404: {"model": Problem, "description": "This node takes no part in the exchange"},
    },
)
async def receive_as4(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """An ebMS 3 One-Way/Push user message, multipart/related, signed and encrypted as the EESSI P-Mode
    says. Authenticated by its signature against the institution directory, not by a token: every
    message gets a signed answer, a receipt when it was taken in (or had been, for a resent one),
    an error signal otherwise. A SED that does not fit its case is taken in and answered by an X011."""
    node = service.node_from_settings(settings)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_AS4_BYTES:
            return Response(status_code=413, content=b"the message is larger than 8 MiB", media_type="text/plain")
    # the checks, the decryption and the database work off the event loop, so the worker goes on
    # serving other requests (and other messages' database waits) meanwhile
    return await run_in_threadpool(_take_in, session, node, dict(request.headers), bytes(body))


def _take_in(session: DbSession, node: service.Node, headers: dict[str, str], body: bytes) -> Response:
    answer = service.receive(session, node, headers, body)
    if answer.outcome == "rejected":
        _deliver_soon(session)
    crash_points.reach("eessi.before_commit_received")
    session.commit()
    return Response(content=answer.body, status_code=answer.status, media_type=SOAP)


def _deliver_soon(session: DbSession) -> None:
    defer_job(session, task=DELIVER_TASK, queue=DELIVER_QUEUE, args={}, lock=DELIVER_LOCK)


def _detail(session: DbSession, case_id: str, staff: StaffPrincipal) -> CaseDetail:
    """The case with its SEDs (whose contents name the person: the read is logged); to whoever works
    cases, an unmatched case's candidates too (logged)."""
    case = service.get_case(session, case_id)
    candidates = service.shown_candidates(session, case, staff, channel="api")
    service.log_case_read(session, case, staff, channel="api")
    detail = CaseDetail(
        **CaseOut.model_validate(case).model_dump(),
        documents=[DocumentOut.model_validate(d) for d in service.documents(session, case)],
        match_candidates=candidates,
        undone_links=case.undone_links or [],
    )
    session.commit()  # the reads are in the access log
    return detail


@router.post("/cases", response_model=CaseDetail, status_code=201, summary="Open a cross-border case")
def open_case(body: CaseIn, staff: CurrentStaff, session: DbSession, settings: AppSettings) -> CaseDetail:
    """Opens a BUC with an institution abroad and queues its starter SED, signed, for delivery."""
    require_role(staff, *WORKING)
    node = service.node_from_settings(settings)
    person = service.PersonRef(body.person_scheme, body.person_id, body.person)
    case = service.open_case(
        session, node, buc_type=body.buc_type, partner=body.partner, content=body.fields, person=person,
        purpose=body.purpose, by=staff.username,
    )  # fmt: skip
    _deliver_soon(session)
    session.commit()
    return _detail(session, case.case_id, staff)


@router.get("/cases", response_model=list[CaseOut], summary="Cross-border cases, newest first")
def list_cases(
    staff: CurrentStaff,
    session: DbSession,
    status: CaseStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CaseOut]:
    require_role(staff, *WORKING, Role.SUPERVISOR)
    return [CaseOut.model_validate(c) for c in service.list_cases(session, status=status, limit=limit)]


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="One cross-border case with its SEDs")
def get_case(case_id: str, staff: CurrentStaff, session: DbSession) -> CaseDetail:
    require_role(staff, *WORKING, Role.SUPERVISOR)
    return _detail(session, case_id, staff)


@router.post("/cases/{case_id}/person", response_model=CaseDetail, summary="Say who an unmatched case is about")
def confirm_person(
    case_id: str, body: PersonIn, staff: CurrentStaff, session: DbSession, settings: AppSettings
) -> CaseDetail:
    """A received SED that names no identification number of this country links to no one until
    staff confirm who it is (409 when the case is linked already); what its SEDs told is learned then."""
    require_role(staff, *WORKING)
    node = service.node_from_settings(settings)
    case = service.get_case(session, case_id)
    service.confirm_person(session, node, case, body.person_scheme, body.person_id, by=staff.username)
    session.commit()
    return _detail(session, case_id, staff)


@router.post("/cases/{case_id}/person/undo", response_model=CaseDetail, summary="Undo a case's link to a person")
def undo_link(
    case_id: str, body: UndoLinkIn, staff: CurrentStaff, session: DbSession, settings: AppSettings
) -> CaseDetail:
    """A case linked by birth date and full name, or confirmed by staff, is linked to the wrong
    person: the facts its SEDs gave are withdrawn, and it waits for staff to say who it is (409 for
    a case linked by this country's identification number, or not linked)."""
    require_role(staff, *WORKING)
    node = service.node_from_settings(settings)
    case = service.get_case(session, case_id)
    service.undo_link(session, node, case, reason=body.reason, by=staff.username)
    session.commit()
    return _detail(session, case_id, staff)


@router.post("/cases/{case_id}/seds", response_model=list[DocumentOut], status_code=201, summary="Send a SED in a case")
def send_sed(
    case_id: str, body: SedIn, staff: CurrentStaff, session: DbSession, settings: AppSettings
) -> list[DocumentOut]:
    """Checks the SED against the BUC's state machine (409 with the reason when it does not fit now)
    and queues it, signed, for delivery: one copy for each institution it goes to. The case's owner
    sends to the participant `to` names, or by default: an answer or a reminder to the institution the
    named SED was exchanged with, the starter to the participants not yet sent anything (one just
    added with an X005), anything else to every participant whose part has begun. A participant
    sends to the owner alone. The starter to a new participant is followed by one X005 to it for
    each other participant, so that it learns who takes part; the answer lists those too."""
    require_role(staff, *WORKING)
    node = service.node_from_settings(settings)
    case = service.get_case(session, case_id)
    if body.sed_type == "X011":
        raise SedNotAllowedError("an X011 is sent by this node itself when a received SED does not fit its case")
    documents = service.send_sed(
        session, node, case, body.sed_type, body.fields, answers=body.answers, to=body.to, by=staff.username
    )
    _deliver_soon(session)
    session.commit()
    return [DocumentOut.model_validate(d) for d in documents]
