"""Cases: an analyst triages the selected findings, opening a case (the moment a pseudonym becomes a
person, logged with the purpose) or dismissing the finding with a reason; an auditor works the case.

Every read of a case shows who it is about, so every read is written to the access log in the same
transaction. Everything that happens in a case is an appended event; a closed case stays closed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import AccessKind, check_purpose, published
from saldo.analysis.models import Finding
from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.pseudonyms import Pseudonymiser
from saldo.cases.errors import CaseNotFoundError, CaseStateError, PurposeRequiredError, TriageError
from saldo.cases.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseFinding,
    CasePerson,
    CaseStatus,
    FindingReview,
    Triage,
)
from saldo.cases.repository import CaseRepository
from saldo.staff.errors import StaffError
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import list_staff, principal_of, require_role

WORKERS = (Role.AUDITOR, Role.SUPERVISOR)


@dataclass(frozen=True)
class Grounds:
    """Why a member of staff may see what a case holds about a person: their role on the case, or
    the reason they gave; with the purpose to log."""

    basis: str  # "assigned", "opened" or "reason"
    purpose: str

    def action(self, action: str) -> str:
        """The access log's name for the read: a read without a role on the case says so."""
        return action if self.basis != "reason" else f"{action}_without_role"


@dataclass(frozen=True)
class CaseView:
    case: Case
    persons: Sequence[CasePerson]
    findings: Sequence[Finding]
    payments: list[dict[str, Any]]
    events: Sequence[CaseEvent]
    grounds: Grounds | None = None  # on what grounds the reader reads it (None: the opening itself)


def actor_of(principal: StaffPrincipal) -> str:
    return f"staff:{principal.username}"


def triage_queue(
    session: Session, principal: StaffPrincipal, *, run_id: int | None = None, limit: int = 50
) -> Sequence[Finding]:
    """The selected findings of a run (the newest by default) that nobody has reviewed yet. Pseudonymous."""
    require_role(principal, Role.ANALYST, Role.SUPERVISOR)
    repository = AnalysisRepository(session)
    run = repository.run(run_id) if run_id is not None else repository.latest_run()
    if run is None:
        return []
    return CaseRepository(session).triage_queue(run.id, limit)


def dismiss_finding(session: Session, principal: StaffPrincipal, *, finding_id: int, reason: str) -> FindingReview:
    """Dismiss a finding with a reason; nobody is re-identified."""
    require_role(principal, Role.ANALYST)
    if not reason.strip():
        raise TriageError("dismissing a finding needs a reason")
    repository = CaseRepository(session)
    _reviewable(repository, [finding_id])
    review = FindingReview(
        finding_id=finding_id, decision=Triage.DISMISSED, reason=reason.strip(), reviewed_by=principal.username
    )
    return repository.add(review)  # type: ignore[no-any-return]


def _reviewable(repository: CaseRepository, finding_ids: Sequence[int]) -> Sequence[Finding]:
    findings = repository.findings(finding_ids, lock=True)
    missing = sorted(set(finding_ids) - {f.id for f in findings})
    if missing:
        raise CaseNotFoundError(f"no finding {', '.join(map(str, missing))}")
    done = repository.reviewed(finding_ids)
    if done:
        raise TriageError(f"finding {', '.join(map(str, sorted(done)))} has been reviewed already")
    shadow = [f.id for f in findings if f.shadow]
    if shadow:
        raise TriageError(f"finding {', '.join(map(str, shadow))} comes from a rule in shadow mode: not for triage")
    return findings


def open_case(
    session: Session,
    principal: StaffPrincipal,
    pseudonyms: Pseudonymiser,
    *,
    finding_ids: Sequence[int],
    purpose: str,
    channel: str = "api",
) -> Case:
    """Open a case on one or more findings about the same subject: re-identify the persons behind
    their payments (each re-identification logged with ``purpose``) and record the triage."""
    require_role(principal, Role.ANALYST)
    purpose = check_purpose(purpose, AccessKind.OPEN_CASE)
    if not finding_ids:
        raise TriageError("a case is opened on at least one finding")
    repository = CaseRepository(session)
    findings = _reviewable(repository, sorted(set(finding_ids)))
    subjects = {(f.subject_kind, f.subject_key) for f in findings}
    if len(subjects) > 1:
        raise TriageError("the findings are about different subjects; open one case per subject")
    payments = repository.payees_of_payments(sorted({p for f in findings for p in f.payment_ids}))
    if not payments:
        raise TriageError("none of the findings' payments is in the registry: nobody to re-identify")
    subject_kind, subject_key = subjects.pop()
    persons: dict[tuple[str, str], bool] = {}
    for payment in payments:
        person = (str(payment["scheme"]), str(payment["identifier"]))
        is_subject = (
            subject_kind in ("person", "payee") and pseudonyms.one("person", f"{person[0]}:{person[1]}") == subject_key
        )
        persons[person] = persons.get(person, False) or is_subject
    first = findings[0]
    case: Case = repository.add(
        Case(
            reference=f"new-{uuid.uuid4().hex[:16]}",  # unique until the id is known, just below
            status=CaseStatus.OPEN,
            rule_id=first.rule_id,
            subject_kind=subject_kind,
            amount_at_risk_minor=sum(f.amount_at_risk_minor for f in findings),
            currency=first.currency,
            purpose=purpose,
            opened_by=principal.username,
        )
    )
    case.reference = f"G-{dt.datetime.now(dt.UTC).year}-{case.id:06d}"
    for finding in findings:
        repository.add(CaseFinding(finding_id=finding.id, case_id=case.id))
        repository.add(
            FindingReview(
                finding_id=finding.id,
                decision=Triage.OPENED,
                reason=purpose,
                case_id=case.id,
                reviewed_by=principal.username,
            )
        )
    for (scheme, identifier), is_subject in persons.items():
        repository.add(CasePerson(case_id=case.id, person_scheme=scheme, person_id=identifier, subject=is_subject))
        log_access(
            session,
            Access(
                actor=principal.username,
                role=Role.ANALYST.value,
                action="re_identify",
                purpose=purpose,
                person_scheme=scheme,
                person_id=identifier,
                case_id=case.id,
                channel=channel,
                details={"findings": [f.id for f in findings], "subject": is_subject},
            ),
        )
    repository.add_event(
        case.id,
        CaseEventKind.OPENED,
        actor_of(principal),
        {"findings": [f.id for f in findings], "purpose": purpose, "persons": len(persons)},
    )
    return case


def role_on_case(case: Case, principal: StaffPrincipal) -> str | None:
    """The role the member has on this case: ``assigned`` (it is theirs to work), ``opened`` (they
    re-identified its persons), or None (any read is then for a reason they give)."""
    if case.assigned_to == principal.username:
        return "assigned"
    if case.opened_by == principal.username:
        return "opened"
    return None


def grounds_to_read(case: Case, principal: StaffPrincipal, purpose: str | None) -> Grounds:
    """Purpose limitation: whoever is assigned the case or opened it reads it for ``case_work`` (or a
    purpose they give); anyone else among the case workers only for a published purpose or a
    sentence saying why, and the read is logged as one without a role (docs/security.md)."""
    basis = role_on_case(case, principal)
    if basis is None and not (purpose or "").strip():
        choices = ", ".join(p.code for p in published(AccessKind.READ_CASE, has_role=False))
        raise PurposeRequiredError(
            f"purpose: you are not assigned case {case.reference} and did not open it; "
            f"say why you read it: one of {choices}, or a sentence"
        )
    if not purpose:
        return Grounds(basis or "reason", "case_work")
    return Grounds(basis or "reason", check_purpose(purpose, AccessKind.READ_CASE, has_role=basis is not None))


def read_case(
    session: Session,
    principal: StaffPrincipal,
    case_id: int,
    *,
    purpose: str | None = None,
    channel: str = "api",
) -> CaseView:
    """The case with its persons, findings, payments and history; the read is logged per person,
    on the grounds :func:`grounds_to_read` finds."""
    require_role(principal, Role.ANALYST, Role.AUDITOR, Role.SUPERVISOR)
    repository = CaseRepository(session)
    case = repository.get(case_id)
    if case is None:
        raise CaseNotFoundError(f"no case {case_id}")
    grounds = grounds_to_read(case, principal, purpose)
    role = next(r for r in (Role.AUDITOR, Role.SUPERVISOR, Role.ANALYST) if principal.has(r))
    for person in repository.persons(case_id):
        log_access(
            session,
            Access(
                actor=principal.username,
                role=role.value,
                action=grounds.action("read_case"),
                purpose=grounds.purpose,
                person_scheme=person.person_scheme,
                person_id=person.person_id,
                case_id=case_id,
                channel=channel,
                details={"basis": grounds.basis},
            ),
        )
    return dataclasses.replace(case_view(session, case_id), grounds=grounds)


def case_view(session: Session, case_id: int) -> CaseView:
    """The case as a whole, without logging: for the caller that has just logged its access (the
    re-identification that opened it)."""
    repository = CaseRepository(session)
    case = repository.get(case_id)
    if case is None:
        raise CaseNotFoundError(f"no case {case_id}")
    findings = repository.findings(repository.finding_ids(case_id))
    payments = repository.payees_of_payments(sorted({p for f in findings for p in f.payment_ids}))
    return CaseView(case, repository.persons(case_id), findings, payments, repository.events(case_id))


def list_cases(
    session: Session,
    principal: StaffPrincipal,
    *,
    status: CaseStatus | None = None,
    assigned_to: str | None = None,
    after_id: int = 0,
    limit: int = 50,
    unassigned: bool = False,
    open_only: bool = False,
    newest_first: bool = False,
) -> Sequence[Case]:
    """Cases without the persons they are about (a list reveals nobody, so it is not logged)."""
    require_role(principal, Role.ANALYST, Role.AUDITOR, Role.SUPERVISOR)
    return CaseRepository(session).list(
        status=status,
        assigned_to=assigned_to,
        after_id=after_id,
        limit=limit,
        unassigned=unassigned,
        open_only=open_only,
        newest_first=newest_first,
    )


def _open_for_change(repository: CaseRepository, case_id: int) -> Case:
    case = repository.get(case_id, lock=True)
    if case is None:
        raise CaseNotFoundError(f"no case {case_id}")
    if case.status is CaseStatus.CLOSED:
        raise CaseStateError(f"case {case.reference} is closed")
    return case


def assign_case(session: Session, principal: StaffPrincipal, case_id: int, *, to: str) -> Case:
    """Assign a case: a supervisor to anyone, an auditor only to themself."""
    require_role(principal, *WORKERS)
    if not principal.has(Role.SUPERVISOR) and to != principal.username:
        raise CaseStateError("an auditor can take a case, not assign it to someone else")
    _check_assignee(session, to)
    repository = CaseRepository(session)
    case = _open_for_change(repository, case_id)
    previous = case.assigned_to
    case.assigned_to = to
    if case.status is CaseStatus.OPEN:
        case.status = CaseStatus.IN_PROGRESS
    repository.add_event(case.id, CaseEventKind.ASSIGNED, actor_of(principal), {"from": previous, "to": to})
    return case


def _check_assignee(session: Session, username: str) -> None:
    """A case goes only to an enabled staff member who can work cases."""
    try:
        assignee = principal_of(session, username)
    except StaffError as exc:
        raise CaseStateError(f"to: {exc}") from exc
    if not any(assignee.has(r) for r in WORKERS):
        raise CaseStateError(f"to: {username} cannot work cases (needs the auditor or supervisor role)")


def assignable_staff(session: Session) -> list[str]:
    """The usernames a case can be assigned to: enabled staff with the auditor or supervisor role."""
    return [
        m.username
        for m in list_staff(session)
        if m.disabled_at is None and any(r in (w.value for w in WORKERS) for r in m.roles)
    ]


def set_deadline(session: Session, principal: StaffPrincipal, case_id: int, *, deadline: dt.date) -> Case:
    require_role(principal, *WORKERS)
    repository = CaseRepository(session)
    case = _open_for_change(repository, case_id)
    previous = case.deadline
    case.deadline = deadline
    body = {"from": previous.isoformat() if previous else None, "to": deadline.isoformat()}
    repository.add_event(case.id, CaseEventKind.DEADLINE, actor_of(principal), body)
    return case


def add_note(session: Session, principal: StaffPrincipal, case_id: int, *, text: str) -> CaseEvent:
    require_role(principal, *WORKERS)
    if not text.strip():
        raise CaseStateError("an empty note")
    repository = CaseRepository(session)
    case = _open_for_change(repository, case_id)
    return repository.add_event(case.id, CaseEventKind.NOTE, actor_of(principal), {"text": text.strip()})


def add_evidence(
    session: Session, principal: StaffPrincipal, case_id: int, *, description: str, source: str, reference: str | None
) -> CaseEvent:
    """Record a piece of evidence: what it is, where it came from, and where it is kept."""
    require_role(principal, *WORKERS)
    if not description.strip() or not source.strip():
        raise CaseStateError("evidence needs a description and a source")
    repository = CaseRepository(session)
    case = _open_for_change(repository, case_id)
    body = {"description": description.strip(), "source": source.strip(), "reference": reference}
    return repository.add_event(case.id, CaseEventKind.EVIDENCE, actor_of(principal), body)


def set_status(
    session: Session, principal: StaffPrincipal, case_id: int, *, status: CaseStatus, reason: str | None = None
) -> Case:
    """Move a case to ``status``; closing needs a reason, and a closed case stays closed."""
    require_role(principal, *WORKERS)
    repository = CaseRepository(session)
    case = _open_for_change(repository, case_id)
    if status is CaseStatus.CLOSED and not (reason or "").strip():
        raise CaseStateError("closing a case needs a reason")
    if status is case.status:
        raise CaseStateError(f"case {case.reference} is {status.value} already")
    record_status(repository, case, status, actor_of(principal), reason)
    return case


def record_status(repository: CaseRepository, case: Case, status: CaseStatus, actor: str, reason: str | None) -> None:
    """Change a case's status with its event (also used when a request or notification moves it)."""
    previous = case.status
    case.status = status
    if status is CaseStatus.CLOSED:
        case.closed_at = dt.datetime.now(dt.UTC)
        case.closing_reason = (reason or "").strip()
    repository.add_event(
        case.id, CaseEventKind.STATUS, actor, {"from": previous.value, "to": status.value, "reason": reason}
    )


def log_disclosure(
    session: Session,
    principal: StaffPrincipal,
    *,
    case_id: int,
    person: tuple[str, str],
    purpose: str,
    channel: str,
    details: dict[str, Any],
) -> None:
    """Log that an auditor named a person of a case to a payer (a request, a notification)."""
    log_access(
        session,
        Access(
            actor=principal.username,
            role=Role.AUDITOR.value,
            action="disclose_to_payer",
            purpose=purpose,
            person_scheme=person[0],
            person_id=person[1],
            case_id=case_id,
            channel=channel,
            details=details,
        ),
    )


def case_for_update(session: Session, case_id: int) -> Case:
    """An open case, locked, for the domains that act in it (requests, notifications)."""
    return _open_for_change(CaseRepository(session), case_id)


def case_event(session: Session, case_id: int, kind: CaseEventKind, actor: str, body: dict[str, Any]) -> CaseEvent:
    return CaseRepository(session).add_event(case_id, kind, actor, body)


def case_persons(session: Session, case_id: int) -> Sequence[CasePerson]:
    return CaseRepository(session).persons(case_id)


def case_payments(session: Session, case_id: int) -> list[dict[str, Any]]:
    repository = CaseRepository(session)
    findings = repository.findings(repository.finding_ids(case_id))
    return repository.payees_of_payments(sorted({p for f in findings for p in f.payment_ids}))


def case_findings(session: Session, case_id: int) -> Sequence[Finding]:
    repository = CaseRepository(session)
    return repository.findings(repository.finding_ids(case_id))
