"""The workbench's cross-border cases: each case with an institution abroad, its state, the SEDs in
and out with their deadlines and delivery, and what was learned. The pages name nobody (the SEDs'
contents stay in the API and the case's own record), so reading them is not logged, except the
persons an unmatched case may be about, shown to whoever confirms one: each is in the access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from saldo.db.queue import defer_job
from saldo.eessi import service
from saldo.eessi.errors import ExchangeError
from saldo.eessi.jobs import DELIVER_LOCK, DELIVER_QUEUE, DELIVER_TASK
from saldo.eessi.models import CrossBorderCase, CrossBorderDocument, DocumentStatus
from saldo.eessi.service import bucs
from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.http import CurrentStaffSession, check_csrf
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(include_in_schema=False)
READERS = (Role.AUDITOR, Role.ANALYST, Role.CASEWORKER, Role.SUPERVISOR)
WORKING = service.WORKING


@router.get("/staff/cross-border", response_class=HTMLResponse)
def cross_border_page(request: Request, session: DbSession, principal: CurrentStaffSession) -> HTMLResponse:
    """Cross-border cases, newest first, with the requests still waiting for an answer."""
    require_role(principal.as_staff(), *READERS)
    cases = service.list_cases(session, limit=200)
    waiting: dict[str, list[CrossBorderDocument]] = {}
    undeliverable: dict[str, int] = {}
    for case in cases:
        documents = service.documents(session, case)
        waiting[case.case_id] = [d for d in documents if d.deadline and not d.answered_at]
        undeliverable[case.case_id] = sum(d.status is DocumentStatus.UNDELIVERABLE for d in documents)
    titles = {k: b.title for k, b in bucs.catalogue().items()}
    context = {"cases": cases, "waiting": waiting, "undeliverable": undeliverable, "titles": titles}
    return render(request, "staff/cross_border.html", context, principal=principal)


@router.get("/staff/cross-border/{case_id}", response_class=HTMLResponse)
def cross_border_case_page(
    case_id: str, request: Request, session: DbSession, principal: CurrentStaffSession
) -> HTMLResponse:
    """One case: its SEDs in and out, their state, deadlines and reasons, and the facts learned;
    while the person is not known, the persons it may be about, to confirm one."""
    require_role(principal.as_staff(), *READERS)
    return _case_page(request, session, principal, case_id, error=None)


def _case_page(
    request: Request, session: DbSession, principal: CurrentStaffSession, case_id: str, *, error: str | None
) -> HTMLResponse:
    case = service.get_case(session, case_id)
    documents = service.documents(session, case)
    learned = service.facts_from(session, [d.id for d in documents])
    title = bucs.catalogue()[case.buc_type].title if case.buc_type in bucs.catalogue() else case.buc_type
    staff = principal.as_staff()
    candidates = service.shown_candidates(session, case, staff, channel="web")
    if candidates:
        session.commit()  # the reads are in the access log
    context = {
        "case": case,
        "documents": documents,
        "learned": learned,
        "title": title,
        "error": error,
        "can_confirm": any(staff.has(role) for role in WORKING),
        # an issuer takes a posting or a determination on to a PDA1 (the credentials' issuer page)
        "can_issue": staff.has(Role.ISSUER)
        and case.buc_type in ("LA_BUC_02", "LA_BUC_04")
        and case.person_id is not None,
        "candidates": candidates,
        "can_undo": any(staff.has(role) for role in WORKING) and case.person_match in service.UNDOABLE,
    }
    status = 422 if error else 200
    return render(request, "staff/cross_border_case.html", context, principal=principal, status_code=status)


@router.post("/staff/cross-border/{case_id}/documents/{document_id}/send-again", response_class=HTMLResponse)
def send_again_page(
    case_id: str,
    document_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Queue an undeliverable SED again, and wake the outbox."""

    def send_again(case: CrossBorderCase, by: str) -> None:
        service.send_again(session, case, document_id, by=by)
        defer_job(session, task=DELIVER_TASK, queue=DELIVER_QUEUE, args={}, lock=DELIVER_LOCK)

    return _act(request, session, principal, case_id, csrf, send_again)


@router.post("/staff/cross-border/{case_id}/person", response_class=HTMLResponse)
def confirm_person_page(
    case_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    person: Annotated[str, Form(max_length=60)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Staff say who an unmatched case is about (one of its candidates, or a number they give); what
    its SEDs told is learned then."""
    scheme, _, person_id = person.strip().partition(":")

    def confirm(case: CrossBorderCase, by: str) -> None:
        node = service.node_from_settings(request.app.state.settings)
        service.confirm_person(session, node, case, scheme, person_id, by=by)

    return _act(request, session, principal, case_id, csrf, confirm)


@router.post("/staff/cross-border/{case_id}/person/undo", response_class=HTMLResponse)
def undo_link_page(
    case_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    reason: Annotated[str, Form(max_length=service.MAX_UNDO_REASON)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Staff say the case is linked to the wrong person: its facts are withdrawn, and it waits for
    them to say who it is."""

    def undo(case: CrossBorderCase, by: str) -> None:
        node = service.node_from_settings(request.app.state.settings)
        service.undo_link(session, node, case, reason=reason, by=by)

    return _act(request, session, principal, case_id, csrf, undo)


def _act(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: str,
    csrf: str,
    action: Callable[[CrossBorderCase, str], None],
) -> Response:
    """One piece of work on a case by whoever works cross-border cases: kept whole and back to the
    case's page, or undone whole and the page again with the reason."""
    check_csrf(principal, csrf)
    staff = principal.as_staff()
    require_role(staff, *WORKING)
    case = service.get_case(session, case_id)
    try:
        action(case, staff.username)
    except ExchangeError as error:
        session.rollback()
        return _case_page(request, session, principal, case_id, error=str(error))
    session.commit()
    return RedirectResponse(f"/staff/cross-border/{case_id}", status_code=303)
