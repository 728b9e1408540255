"""The staff API of the online procedures: the queue, one application (its read logged), and the
decision on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParameter

from saldo.credentials import service as credentials
from saldo.eessi import service as eessi
from saldo.eessi.errors import ExchangeNotConfiguredError
from saldo.http.deps import AppSettings, DbSession
from saldo.kit import crash_points
from saldo.kit.clock import utcnow
from saldo.kit.problem import problem_responses
from saldo.procedures import service
from saldo.procedures.models import Application, ApplicationState
from saldo.procedures.schemas import ApplicationOut, Grant, Refusal
from saldo.settings import Settings
from saldo.staff.http import CurrentStaff
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(
    prefix="/api/v1/staff/applications",
    tags=["staff: applications"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
Reference = Annotated[str, PathParameter(max_length=16, pattern=r"^A-[A-Z0-9]{10}$")]


def application_out(session: DbSession, application: Application) -> ApplicationOut:
    credential = service.credential_of(session, application)
    case = service.case_of(session, application)
    return ApplicationOut.model_validate(application).model_copy(
        update={
            "credential": credential.document_number if credential else None,
            "eessi_case_id": case.case_id if case else None,
        }
    )


@router.get("", response_model=list[ApplicationOut], summary="Applications: the waiting ones oldest first")
def list_applications(
    staff: CurrentStaff,
    session: DbSession,
    state: ApplicationState = ApplicationState.SUBMITTED,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ApplicationOut]:
    """The queue (``state=submitted``, oldest first), or the latest of another state. Each listed
    application's read is logged: the list shows who applied for what."""
    require_role(staff, Role.ISSUER)
    found = service.listed(session, state, limit=limit)
    for application in found:
        service.log_read(session, application, actor=staff.username, channel="api")
    out = [application_out(session, a) for a in found]
    session.commit()
    return out


@router.get("/{reference}", response_model=ApplicationOut, summary="One application")
def get_application(reference: Reference, staff: CurrentStaff, session: DbSession) -> ApplicationOut:
    require_role(staff, Role.ISSUER)
    application = service.get_application(session, reference)
    service.log_read(session, application, actor=staff.username, channel="api")
    out = application_out(session, application)
    session.commit()
    return out


def _node(settings: Settings) -> eessi.Node | None:
    try:
        return eessi.node_from_settings(settings)
    except ExchangeNotConfiguredError:
        return None


@router.post("/{reference}/grant", response_model=ApplicationOut, summary="Grant: issue the credential")
def grant(
    reference: Reference, body: Grant, staff: CurrentStaff, session: DbSession, settings: AppSettings
) -> ApplicationOut:
    """Issues the PDA1 (its applicable-legislation decision recorded) or the EHIC for the period
    given; for a posting, ``notify`` names the institution of the state of work the A009 goes to.
    The person collects the credential from their pages. Decided once: a second decision is 409."""
    require_role(staff, Role.ISSUER)
    application = service.get_application(session, reference)
    service.grant(
        session, credentials.issuer_from_settings(settings), application, body,
        node=_node(settings), by=staff.username, now=utcnow(),
    )  # fmt: skip
    out = application_out(session, application)
    crash_points.reach("procedures.before_commit_decision")
    session.commit()
    return out


@router.post("/{reference}/refuse", response_model=ApplicationOut, summary="Refuse, with the reason")
def refuse(reference: Reference, body: Refusal, staff: CurrentStaff, session: DbSession) -> ApplicationOut:
    require_role(staff, Role.ISSUER)
    application = service.get_application(session, reference)
    service.refuse(session, application, body, by=staff.username, now=utcnow())
    out = application_out(session, application)
    session.commit()
    return out
