"""The workbench's cross-border cases: each case with an institution abroad, its state, the SEDs in
and out with their deadlines and delivery, and what was learned. The pages name nobody (the SEDs'
contents stay in the API and the case's own record), so reading them is not logged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from saldo.eessi import service
from saldo.eessi.service import bucs
from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.http import CurrentStaffSession
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(include_in_schema=False)
READERS = (Role.AUDITOR, Role.ANALYST, Role.CASEWORKER, Role.SUPERVISOR)


@router.get("/staff/cross-border", response_class=HTMLResponse)
def cross_border_page(request: Request, session: DbSession, principal: CurrentStaffSession) -> HTMLResponse:
    """Cross-border cases, newest first, with the requests still waiting for an answer."""
    require_role(principal.as_staff(), *READERS)
    cases = service.list_cases(session, limit=200)
    waiting = {c.case_id: [d for d in service.documents(session, c) if d.deadline and not d.answered_at] for c in cases}
    context = {"cases": cases, "waiting": waiting, "titles": {k: b.title for k, b in bucs.catalogue().items()}}
    return render(request, "staff/cross_border.html", context, principal=principal)


@router.get("/staff/cross-border/{case_id}", response_class=HTMLResponse)
def cross_border_case_page(
    case_id: str, request: Request, session: DbSession, principal: CurrentStaffSession
) -> HTMLResponse:
    """One case: its SEDs in and out, their state, deadlines and reasons, and the facts learned."""
    require_role(principal.as_staff(), *READERS)
    case = service.get_case(session, case_id)
    documents = service.documents(session, case)
    learned = service.facts_from(session, [d.id for d in documents])
    title = bucs.catalogue()[case.buc_type].title if case.buc_type in bucs.catalogue() else case.buc_type
    context = {"case": case, "documents": documents, "learned": learned, "title": title}
    return render(request, "staff/cross_border_case.html", context, principal=principal)
