"""The staff endpoints of triage and case work. Every endpoint needs a staff token; the services
check the role each action needs, and log every read that shows who a case is about."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.cases import service
from saldo.cases.models import CaseStatus
from saldo.cases.schemas import (
    AssignIn,
    CaseDetail,
    CaseOut,
    CasePaymentOut,
    DeadlineIn,
    DismissIn,
    EventOut,
    EvidenceIn,
    FindingOut,
    NoteIn,
    OpenCaseIn,
    PersonOut,
    ReviewOut,
    StatusIn,
)
from saldo.http.deps import MAX_ID, AppSettings, DbSession, PathId, ReadPurpose
from saldo.kit.problem import LINE_PATTERN, problem_responses
from saldo.staff.http import CurrentStaff

router = APIRouter(prefix="/api/v1/staff", tags=["staff: cases"], responses=problem_responses(401, 403, 404, 409, 422))


@router.get("/findings/triage", response_model=list[FindingOut], summary="Findings waiting for triage")
def get_triage(
    staff: CurrentStaff,
    session: DbSession,
    run_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[FindingOut]:
    """The selected findings of a run (the newest by default) that nobody has reviewed, highest
    expected value first. Pseudonymous: analyst or supervisor."""
    return [FindingOut.model_validate(f) for f in service.triage_queue(session, staff, run_id=run_id, limit=limit)]


@router.post("/findings/{finding_id}/dismissal", response_model=ReviewOut, summary="Dismiss a finding")
def dismiss(finding_id: PathId, body: DismissIn, staff: CurrentStaff, session: DbSession) -> ReviewOut:
    """Record that a finding needs no case, and why. Nobody is re-identified. Analyst."""
    review = service.dismiss_finding(session, staff, finding_id=finding_id, reason=body.reason)
    session.commit()
    return ReviewOut.model_validate(review)


@router.post("/cases", response_model=CaseDetail, status_code=201, summary="Open a case on findings")
def open_case(body: OpenCaseIn, staff: CurrentStaff, session: DbSession, settings: AppSettings) -> CaseDetail:
    """Open a case on findings about one subject: the persons behind their payments are re-identified,
    each logged with the purpose given. Analyst."""
    pseudonyms = Pseudonymiser(load_or_create_key(settings.pseudonym_key_path))
    case = service.open_case(session, staff, pseudonyms, finding_ids=body.finding_ids, purpose=body.purpose)
    detail = _detail(service.case_view(session, case.id))  # the re-identification is the logged access
    session.commit()
    return detail


@router.get("/cases", response_model=list[CaseOut], summary="Cases")
def list_cases(
    staff: CurrentStaff,
    session: DbSession,
    status: CaseStatus | None = None,
    assigned_to: Annotated[str | None, Query(max_length=64, pattern=LINE_PATTERN)] = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[CaseOut]:
    """Cases by id, without the persons they are about."""
    cases = service.list_cases(session, staff, status=status, assigned_to=assigned_to, after_id=after_id, limit=limit)
    return [CaseOut.model_validate(c) for c in cases]


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="One case, with who it is about")
def get_case(
    case_id: PathId,
    staff: CurrentStaff,
    session: DbSession,
    purpose: ReadPurpose = None,
) -> CaseDetail:
    """The case, its persons, findings, payments and history. The read is logged per person. Analyst,
    auditor or supervisor; without a role on the case, only with a purpose (403 purpose_required)."""
    view = service.read_case(session, staff, case_id, purpose=purpose)
    session.commit()
    return _detail(view)


def _detail(view: service.CaseView) -> CaseDetail:
    return CaseDetail(
        case=CaseOut.model_validate(view.case),
        persons=[PersonOut.model_validate(p) for p in view.persons],
        findings=[FindingOut.model_validate(f) for f in view.findings],
        payments=[CasePaymentOut.model_validate({**p, "status": str(p["status"])}) for p in view.payments],
        events=[EventOut.model_validate(e) for e in view.events],
    )


@router.post("/cases/{case_id}/assignment", response_model=CaseOut, summary="Assign a case")
def assign(case_id: PathId, body: AssignIn, staff: CurrentStaff, session: DbSession) -> CaseOut:
    """A supervisor assigns to anyone; an auditor takes a case for themself."""
    case = service.assign_case(session, staff, case_id, to=body.to)
    session.commit()
    return CaseOut.model_validate(case)


@router.post("/cases/{case_id}/deadline", response_model=CaseOut, summary="Set a case's deadline")
def deadline(case_id: PathId, body: DeadlineIn, staff: CurrentStaff, session: DbSession) -> CaseOut:
    case = service.set_deadline(session, staff, case_id, deadline=body.deadline)
    session.commit()
    return CaseOut.model_validate(case)


@router.post("/cases/{case_id}/notes", response_model=EventOut, status_code=201, summary="Add a note")
def note(case_id: PathId, body: NoteIn, staff: CurrentStaff, session: DbSession) -> EventOut:
    event = service.add_note(session, staff, case_id, text=body.text)
    session.commit()
    return EventOut.model_validate(event)


@router.post("/cases/{case_id}/evidence", response_model=EventOut, status_code=201, summary="Record evidence")
def evidence(case_id: PathId, body: EvidenceIn, staff: CurrentStaff, session: DbSession) -> EventOut:
    event = service.add_evidence(
        session, staff, case_id, description=body.description, source=body.source, reference=body.reference
    )
    session.commit()
    return EventOut.model_validate(event)


@router.post("/cases/{case_id}/status", response_model=CaseOut, summary="Change a case's status")
def status(case_id: PathId, body: StatusIn, staff: CurrentStaff, session: DbSession) -> CaseOut:
    """Closing needs a reason; a closed case stays closed."""
    case = service.set_status(session, staff, case_id, status=body.status, reason=body.reason)
    session.commit()
    return CaseOut.model_validate(case)
