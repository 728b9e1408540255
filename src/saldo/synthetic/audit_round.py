"""A simulated year of audit on a generated country, so the statistics, the precision and the
fairness report have something true to show (the demo, tests and benchmarks use it).

Every step goes through the same services a person would use, as the demo staff: the analyst
dismisses selected findings below a threshold and opens cases on the rest; the auditor takes each
case, asks the payer for declared income in means-tested cases, and notifies the paying payers;
payers answer and record outcomes. Outcomes follow the country's ground truth, with the noise real
payers bring: a payer explains away some real errors (it knows something the authority does not)
and finds an error in some payments that were right. Notification dates are spread over the
weeks before, so time to outcome has a distribution."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.pseudonyms import Pseudonymiser
from saldo.cases.service import assign_case, dismiss_finding, open_case, triage_queue
from saldo.inforequests.service import answer_request, send_request
from saldo.kit import clock
from saldo.kit.national_id import IdScheme
from saldo.notifications.models import OutcomeKind
from saldo.notifications.service import notify_payers, record_outcome
from saldo.oversight.repository import OversightRepository
from saldo.staff.errors import StaffExistsError
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import create_staff, principal_of

# username: (name, roles, personnummer they log in with through the development eID)
DEMO_STAFF = {
    "anna.analytiker": ("Anna Analytiker", [Role.ANALYST], "197503149127"),
    "erik.granskare": ("Erik Granskare", [Role.AUDITOR], "198005219236"),
    "sara.chef": ("Sara Chef", [Role.SUPERVISOR, Role.AUDITOR], "196811029344"),
    "lars.logg": ("Lars Logg", [Role.LOG_AUDITOR], "197209099451"),
    "karin.handlaggare": ("Karin Handläggare", [Role.CASEWORKER], "198501179561"),
}
DISMISS_BELOW_MINOR = 50_000  # the analyst leaves findings under SEK 500 at risk
MEANS_TESTED_RULES = {"declared_income_below_public_income", "earnings_beside_full_time_benefit"}
EXPLAINED_AWAY = 0.10  # real errors a payer finds explained
FOUND_ANYWAY = 0.03  # right payments in which a payer finds an error
UNDECIDED = 0.12  # notifications without an outcome yet
ANSWERED = 0.85  # information requests answered before the deadline
CONFIRMING = (
    (OutcomeKind.RECOVERY_CLAIM, 0.45),
    (OutcomeKind.PAYMENT_STOPPED, 0.25),
    (OutcomeKind.CORRECTED, 0.25),
    (OutcomeKind.REPORTED_TO_POLICE, 0.05),
)


@dataclass
class SimulatedAudit:
    dismissed: int = 0
    cases: int = 0
    requests: int = 0
    answers: int = 0
    notifications: int = 0
    outcomes: int = 0


def ensure_demo_staff(session: Session) -> None:
    for username, (name, roles, personnummer) in DEMO_STAFF.items():
        try:
            with session.begin_nested():
                person = (IdScheme.SE_PERSONNUMMER, personnummer)
                create_staff(session, username=username, name=name, roles=roles, person=person)
        except StaffExistsError:
            continue


def simulate_audit(
    session: Session,
    pseudonyms: Pseudonymiser,
    ground_truth: Path,
    *,
    seed: int = 7,
    limit: int = 500,
    leave_untriaged: int = 0,
) -> SimulatedAudit:
    """Triage the newest run's selected findings and carry every case through to the payers' outcomes;
    the ``leave_untriaged`` of highest expected value are left for a person to triage."""
    rng = np.random.default_rng(seed)
    ensure_demo_staff(session)
    analyst, auditor = principal_of(session, "anna.analytiker"), principal_of(session, "erik.granskare")
    planted = _planted_payments(session, ground_truth)
    done = SimulatedAudit()
    by_subject: dict[tuple[str, str], list[int]] = defaultdict(list)
    queue = triage_queue(session, analyst, limit=limit)
    for finding in queue[min(leave_untriaged, len(queue) // 2) :]:
        if finding.amount_at_risk_minor < DISMISS_BELOW_MINOR:
            dismiss_finding(session, analyst, finding_id=finding.id, reason="under SEK 500 at risk: not worth a case")
            done.dismissed += 1
        else:
            by_subject[finding.subject_kind, finding.subject_key].append(finding.id)
    for finding_ids in by_subject.values():
        case = open_case(session, analyst, pseudonyms, finding_ids=finding_ids, purpose="suspected_error")
        done.cases += 1
        assign_case(session, auditor, case.id, to=auditor.username)
        findings = AnalysisRepository(session).findings_by_ids(finding_ids)
        wrong = any(p in planted for f in findings for p in f.payment_ids)
        if case.rule_id in MEANS_TESTED_RULES:
            _ask_for_income(session, auditor, rng, case.id, findings[0].payment_ids[0], done)
        _notify_and_decide(session, auditor, rng, case.id, case.rule_id, wrong=wrong, done=done)
    return done


def _ask_for_income(
    session: Session,
    auditor: StaffPrincipal,
    rng: np.random.Generator,
    case_id: int,
    payment_id: int,
    done: SimulatedAudit,
) -> None:
    """The auditor asks the paying payer for declared income and household; most payers answer."""
    payer_id, scheme, identifier = OversightRepository(session).payment_parties(payment_id)
    request = send_request(
        session,
        auditor,
        case_id=case_id,
        payer_id=payer_id,
        person=(scheme, identifier),
        categories_asked=["declared_income", "household"],
        question="Which income did the person declare for the months paid, and which household was decided?",
        deadline=clock.today() + dt.timedelta(days=14),
    )
    done.requests += 1
    if rng.random() < ANSWERED:
        answer_request(
            session,
            payer_id=payer_id,
            received_by=f"payer:{payer_id}",
            request_id=request.id,
            data={"declared_income": "as in the decision", "household": "as in the decision"},
        )
        done.answers += 1


def _notify_and_decide(
    session: Session,
    auditor: StaffPrincipal,
    rng: np.random.Generator,
    case_id: int,
    rule_id: str,
    *,
    wrong: bool,
    done: SimulatedAudit,
) -> None:
    """Notify the paying payers, sent some weeks ago; each decides, as the truth and its noise say."""
    repository = OversightRepository(session)
    for notification in notify_payers(session, auditor, case_id, summary=_summary(rule_id)):
        done.notifications += 1
        repository.backdate_notification(notification.id, int(rng.integers(3, 76)))
        if rng.random() < UNDECIDED:
            continue
        confirmed = (rng.random() >= EXPLAINED_AWAY) if wrong else (rng.random() < FOUND_ANYWAY)
        kind = _weighted(rng) if confirmed else OutcomeKind.NO_ERROR
        amount = (
            notification.amount_at_risk_minor
            if kind in (OutcomeKind.RECOVERY_CLAIM, OutcomeKind.PAYMENT_STOPPED)
            else None
        )
        record_outcome(
            session,
            payer_id=notification.payer_id,
            recorded_by=f"payer:{notification.payer_id}",
            notification_id=notification.id,
            kind=kind,
            amount_minor=amount,
        )
        done.outcomes += 1


def _weighted(rng: np.random.Generator) -> OutcomeKind:
    draw, total = float(rng.random()), 0.0
    for kind, weight in CONFIRMING:
        total += weight
        if draw < total:
            return kind
    return CONFIRMING[-1][0]


def _summary(rule_id: str) -> str:
    return f"The analysis rule {rule_id} flagged these payments; the audit found the facts below. Please assess them."


def _planted_payments(session: Session, ground_truth: Path) -> set[int]:
    with ground_truth.open(encoding="utf-8", newline="") as handle:
        rows = [(r["payer"], r["reference"]) for r in csv.DictReader(handle)]
    return set(AnalysisRepository(session).payment_ids_of(rows).values())
