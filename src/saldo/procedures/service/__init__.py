"""Apply, follow, withdraw; decide.

A person's application is validated whole and written once (its form key makes a form sent twice
one application); one of each kind waits at a time. A caseworker with the issuer role grants or
refuses it once: the row is locked, and a grant records the applicable-legislation decision (a PDA1),
opens the LA_BUC_04 that tells the state of work of a posting (an A009, when asked), issues the
credential and marks the application decided in one transaction — all of it, or none."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import DECIDE_APPLICATIONS
from saldo.credentials import service as credentials
from saldo.credentials.models import Credential, CredentialType
from saldo.credentials.schemas import DecisionIn, IssueIn
from saldo.eessi import service as eessi
from saldo.eessi.models import CrossBorderCase, CrossBorderFact
from saldo.eessi.service import seds
from saldo.kit.clock import today
from saldo.kit.national_id import IdScheme, birth_date_of
from saldo.procedures import repository
from saldo.procedures.errors import (
    AlreadyWaitingError,
    ApplicationNotFoundError,
    ApplicationStateError,
    InvalidApplicationError,
)
from saldo.procedures.models import Application, ApplicationKind, ApplicationState
from saldo.procedures.schemas import POSTINGS, EhicApplication, Grant, Pda1Application, Refusal

FORMS: dict[ApplicationKind, type[BaseModel]] = {
    ApplicationKind.PDA1: Pda1Application,
    ApplicationKind.EHIC: EhicApplication,
}
EHIC_YEARS = 3  # the card's usual validity, the grant form's default
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed from paper


def new_form_key() -> str:
    """The key a new application form carries: sending the form twice makes one application."""
    return secrets.token_urlsafe(24)


def _reference() -> str:
    return "A-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


# pydantic's error types, by what the person is told
CODES = {
    "missing": "missing",
    "string_too_short": "missing",
    "date_from_datetime_parsing": "not_a_date",
    "date_parsing": "not_a_date",
    "date_type": "not_a_date",
    "literal_error": "not_a_choice",
    "enum": "not_a_choice",
}


def first_error(error: ValidationError) -> InvalidApplicationError:
    """The first thing wrong, with where: ``employer.country: String should match pattern …``."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    code = CODES.get(first["type"], first["type"] if first["type"] in OWN_CODES else "invalid")
    if ": " in message and not where:
        return InvalidApplicationError(message, code=code)
    return InvalidApplicationError(f"{where}: {message}" if where else message, code=code, field=where)


OWN_CODES = frozenset({"ends_before_start", "too_long", "posting_too_long", "not_coordination_state"})


def validated(kind: ApplicationKind, details: dict[str, Any]) -> BaseModel:
    try:
        form = FORMS[kind].model_validate(details)
    except ValidationError as error:
        raise first_error(error) from None
    if isinstance(form, Pda1Application) and form.ending_date < today():
        raise InvalidApplicationError(
            "ending_date: the period has ended; a PDA1 is applied for a period that has not", code="period_ended"
        )
    if isinstance(form, EhicApplication) and form.starting_date < today() - dt.timedelta(days=31):
        raise InvalidApplicationError(
            "starting_date: a card is applied for from today, or at most a month back", code="too_early"
        )
    return form


def submit(
    session: Session,
    *,
    kind: ApplicationKind,
    person_scheme: str,
    person_id: str,
    details: dict[str, Any],
    language: str,
    form_key: str,
    by: str,
) -> Application:
    """The application, written whole; the same form key again gives the application it made."""
    if not form_key or len(form_key) > 64:
        raise InvalidApplicationError("form_key: the form has no key; open the form again", code="no_form_key")
    form = validated(kind, details)
    same = repository.waiting_of_kind(session, person_scheme, person_id, kind)
    if same is not None and same.form_key != form_key:
        raise AlreadyWaitingError(
            f"application {same.reference} of the same kind is waiting for a decision: withdraw it to apply anew"
        )
    written = repository.insert_once(
        session,
        {
            "reference": _reference(),
            "kind": kind,
            "person_scheme": person_scheme,
            "person_id": person_id,
            "state": ApplicationState.SUBMITTED,
            "details": form.model_dump(mode="json", exclude_none=True),
            "language": language,  # one of the pages' languages: the page chose it
            "form_key": form_key,
            "submitted_by": by,
        },
    )
    if written is None:  # another form of the same kind was written meanwhile
        raise AlreadyWaitingError(
            "an application of the same kind is waiting for a decision: withdraw it to apply anew"
        )
    return written


def applications_of(session: Session, scheme: str, person_id: str) -> list[Application]:
    return repository.of_person(session, scheme, person_id)


def own_application(session: Session, reference: str, scheme: str, person_id: str) -> Application:
    """The person's own application; anyone else's is not found (the same answer as none)."""
    found = repository.by_reference(session, reference)
    if found is None or (found.person_scheme, found.person_id) != (scheme, person_id):
        raise ApplicationNotFoundError(f"no application {reference} of yours")
    return found


def get_application(session: Session, reference: str, *, for_update: bool = False) -> Application:
    found = repository.by_reference(session, reference, for_update=for_update)
    if found is None:
        raise ApplicationNotFoundError(f"no application {reference}")
    return found


def listed(session: Session, state: ApplicationState | None = None, *, limit: int = 100) -> list[Application]:
    return repository.listed(session, state, limit=limit)


def _waiting(application: Application) -> None:
    if application.state is not ApplicationState.SUBMITTED:
        raise ApplicationStateError(f"application {application.reference} is {application.state.value}")


def withdraw(session: Session, application: Application, *, now: dt.datetime) -> None:
    """The person takes the application back while it waits."""
    session.refresh(application, with_for_update=True)
    _waiting(application)
    application.state = ApplicationState.WITHDRAWN
    application.withdrawn_at = now


# ---- deciding --------------------------------------------------------------------------------------


def grant(
    session: Session,
    issuer: credentials.Issuer,
    application: Application,
    decision: Grant,
    *,
    node: eessi.Node | None,
    by: str,
    now: dt.datetime,
) -> Credential:
    """Grant: the credential is issued (a PDA1 on its recorded decision), and for a posting the
    state of work told when ``decision.notify`` names its institution."""
    session.refresh(application, with_for_update=True)
    _waiting(application)
    if application.kind is ApplicationKind.PDA1:
        asked = IssueIn(type=CredentialType.PDA1, decision_id=_decide_pda1(session, application, decision, node, by).id)
    else:
        if decision.notify:
            raise InvalidApplicationError("notify: only a posting's PDA1 is notified to the state of work")
        asked = IssueIn(
            type=CredentialType.EHIC,
            person_scheme=application.person_scheme,
            person_id=application.person_id,
            starting_date=decision.starting_date,
            ending_date=decision.ending_date,
        )
    credential = credentials.issue(session, issuer, asked, by=by, now=now)
    application.state = ApplicationState.GRANTED
    application.credential_pk = credential.id
    application.decision_id = credential.decision_id
    application.explanation = decision.explanation
    application.decided_by = by
    application.decided_at = now
    session.flush()
    return credential


def _decide_pda1(session: Session, application: Application, decision: Grant, node: eessi.Node | None, by: str) -> Any:
    details = Pda1Application.model_validate(application.details)
    if decision.work_place >= len(details.work_places):
        raise InvalidApplicationError(f"work_place: the application names {len(details.work_places)} place(s) of work")
    place = details.work_places[decision.work_place]
    confirmation = decision.status_confirmation or details.situation
    case: CrossBorderCase | None = None
    if decision.notify:
        if confirmation not in POSTINGS:
            raise InvalidApplicationError("notify: an A009 tells of a posting (status confirmation 01 or 03)")
        if node is None:
            raise InvalidApplicationError("notify: this installation takes no part in the cross-border exchange")
        case = _notify_posting(session, node, application, details, place.country, decision, by)
    try:
        recorded = DecisionIn(
            person_scheme=application.person_scheme,
            person_id=application.person_id,
            legislation_country=decision.legislation_country or (node.institution[:2] if node else "SE"),
            status_confirmation=confirmation,
            starting_date=decision.starting_date,
            ending_date=decision.ending_date,
            employer=details.employer,
            work_address=place,
            eessi_case_id=case.case_id if case else None,
        )
    except ValidationError as error:
        raise first_error(error) from None
    application.eessi_case_pk = case.id if case else None
    return credentials.record_decision(session, recorded, by=by)


def _notify_posting(
    session: Session,
    node: eessi.Node,
    application: Application,
    details: Pda1Application,
    country: str,
    decision: Grant,
    by: str,
) -> CrossBorderCase:
    """An LA_BUC_04 with the institution of the state of work, its A009 queued to go."""
    partner = next((i for i in eessi.partners_for(node, "LA_BUC_04") if i.id == decision.notify), None)
    if partner is None or partner.country != country:
        raise InvalidApplicationError(
            f"notify: {decision.notify} is not an institution of {country} that takes part in LA_BUC_04"
        )
    born = birth_date_of(IdScheme(application.person_scheme), application.person_id)
    if born is None:
        raise InvalidApplicationError("the person's birth date cannot be read from their number")
    person = seds.PersonIdentification.model_validate(
        {
            "familyName": details.family_name,
            "forename": details.given_names,
            "dateBirth": born,
            "PINPersonInEachInstitution": [
                {
                    "personalIdentificationNumber": application.person_id,
                    "country": node.institution[:2],
                    "institutionID": node.institution,
                }
            ],
        }
    )
    content = {
        "employer": details.employer.name,
        "countryWork": country,
        "period": {"startDate": decision.starting_date.isoformat(), "endDate": decision.ending_date.isoformat()},
    }
    return eessi.open_case(
        session,
        node,
        buc_type="LA_BUC_04",
        partner=partner.id,
        content=content,
        person=eessi.PersonRef(application.person_scheme, application.person_id, person),
        purpose=f"Posting notified on application {application.reference}",
        by=by,
    )


def refuse(session: Session, application: Application, refusal: Refusal, *, by: str, now: dt.datetime) -> None:
    session.refresh(application, with_for_update=True)
    _waiting(application)
    application.state = ApplicationState.REFUSED
    application.refusal_ground = refusal.ground
    application.explanation = refusal.explanation
    application.decided_by = by
    application.decided_at = now


def default_grant(application: Application) -> dict[str, Any]:
    """What the grant form starts from: the application's own period and work."""
    details = application.details
    if application.kind is ApplicationKind.PDA1:
        return {
            "starting_date": details["starting_date"],
            "ending_date": details["ending_date"],
            "status_confirmation": details["situation"],
        }
    start = max(dt.date.fromisoformat(details["starting_date"]), today())
    return {"starting_date": start.isoformat(), "ending_date": credentials.years_after(start, EHIC_YEARS).isoformat()}


# ---- what the caseworker sees, and the log of it ---------------------------------------------------


def log_read(session: Session, application: Application, *, actor: str, channel: str) -> None:
    """Staff read a person's application: written to the access log, which the person sees."""
    log_access(
        session,
        Access(
            actor=actor,
            role="issuer",
            action="read_application",
            purpose=DECIDE_APPLICATIONS,
            person_scheme=application.person_scheme,
            person_id=application.person_id,
            channel=channel,
            details={"application": application.reference},
        ),
    )


def facts(session: Session, application: Application) -> dict[str, Any]:
    """What is known here that bears on the application: the person's credentials, what other
    countries told of them, and their earlier applications."""
    scheme, person_id = application.person_scheme, application.person_id
    found: list[CrossBorderFact] = eessi.facts_about(session, scheme, person_id)
    return {
        "credentials": credentials.credentials_of(session, scheme, person_id),
        "abroad": found,
        "earlier": [a for a in repository.of_person(session, scheme, person_id) if a.id != application.id],
    }


def credential_of(session: Session, application: Application) -> Credential | None:
    return session.get(Credential, application.credential_pk) if application.credential_pk else None


def case_of(session: Session, application: Application) -> CrossBorderCase | None:
    return session.get(CrossBorderCase, application.eessi_case_pk) if application.eessi_case_pk else None
