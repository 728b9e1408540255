"""Triage and cases in the workbench: the selected findings with their facts and reasons, dismissed
with a reason or opened as a case (the moment a person is re-identified, logged with the purpose),
and the list of cases (the case page, with its requests and notifications, is oversight's)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from saldo.accesslog.service.purposes import AccessKind, PurposeError, chosen, published
from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.cases.errors import TriageError
from saldo.cases.service import dismiss_finding, list_cases, open_case, triage_queue
from saldo.http.deps import DbSession, PathId
from saldo.http.rendering import render
from saldo.identity.http import CurrentStaffSession, check_csrf
from saldo.settings import Settings
from saldo.staff.errors import ForbiddenError
from saldo.staff.models import Role

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=1000)]
Csrf = Annotated[str, Form(max_length=64)]
PAGE = 100  # cases a page


@router.get("/staff/findings", response_class=HTMLResponse)
def findings_page(request: Request, session: DbSession, principal: CurrentStaffSession) -> HTMLResponse:
    """The selected findings nobody has reviewed yet, highest expected value first. Pseudonymous."""
    queue = triage_queue(session, principal.as_staff(), limit=50)
    return render(request, "staff/findings.html", _findings(queue, None), principal=principal)


def _findings(queue: object, error: str | None) -> dict[str, object]:
    return {"findings": queue, "error": error, "purpose_choices": published(AccessKind.OPEN_CASE)}


@router.post("/staff/findings/{finding_id}/dismiss", response_class=HTMLResponse)
def dismiss(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    finding_id: PathId,
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(principal, csrf)
    try:
        dismiss_finding(session, principal.as_staff(), finding_id=finding_id, reason=reason)
    except (TriageError, ForbiddenError) as exc:
        return _triage_refused(request, session, principal, str(exc))
    session.commit()
    return RedirectResponse("/staff/findings", status_code=303)


@router.post("/staff/findings/{finding_id}/case", response_class=HTMLResponse)
def open_case_page(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    finding_id: PathId,
    purpose: Text = "",
    purpose_other: Text = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(principal, csrf)
    settings: Settings = request.app.state.settings
    pseudonyms = Pseudonymiser(load_or_create_key(settings.pseudonym_key_path))
    try:
        case = open_case(
            session,
            principal.as_staff(),
            pseudonyms,
            finding_ids=[finding_id],
            purpose=chosen(purpose, purpose_other),
            channel="web",
        )
    except (TriageError, ForbiddenError, PurposeError) as exc:
        return _triage_refused(request, session, principal, str(exc))
    session.commit()
    return RedirectResponse(f"/staff/cases/{case.id}", status_code=303)


@router.get("/staff/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    show: Annotated[Literal["all", "mine", "unassigned"], Query()] = "all",
    before: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> HTMLResponse:
    """Cases, newest first, 100 a page: all, the open ones assigned to me, or the open ones nobody is
    assigned; the list names nobody, so reading it is not logged."""
    staff = principal.as_staff()
    cases = list_cases(
        session,
        staff,
        assigned_to=staff.username if show == "mine" else None,
        unassigned=show == "unassigned",
        open_only=show != "all",
        after_id=before,
        limit=PAGE + 1,
        newest_first=True,
    )
    context = {
        "cases": cases[:PAGE],
        "show": show,
        "older": cases[PAGE - 1].id if len(cases) > PAGE else None,
        "can_take": staff.has(Role.AUDITOR),
        "username": staff.username,
    }
    return render(request, "staff/cases.html", context, principal=principal)


def _triage_refused(request: Request, session: DbSession, principal: CurrentStaffSession, reason: str) -> HTMLResponse:
    session.rollback()
    queue = triage_queue(session, principal.as_staff(), limit=50)
    return render(request, "staff/findings.html", _findings(queue, reason), principal=principal, status_code=422)
