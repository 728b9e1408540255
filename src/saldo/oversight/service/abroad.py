"""Asking abroad from an audit case: an auditor working a case asks an institution in another
country whether it pays one of the case's persons a benefit for a period (H_BUC_01, the H001
request). The cross-border case names the audit case, the audit case records that it asked, and
the answer becomes a fact the analysis reads (a benefit abroad for the period)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.cases.errors import CaseStateError
from saldo.cases.service import add_note, case_for_update, case_persons
from saldo.eessi import service as eessi
from saldo.eessi.models import CrossBorderCase
from saldo.eessi.service import seds
from saldo.kit.clock import today
from saldo.kit.national_id import IdScheme, birth_date_of
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import require_role

BUC = "H_BUC_01"


@dataclass(frozen=True)
class Question:
    """What the auditor asks: about whom, of whom, which benefit, for which period, and why."""

    person: tuple[str, str]
    family_name: str
    forename: str
    partner: str
    benefit_type: str
    start: dt.date
    end: dt.date | None
    question: str


def ask_abroad(
    session: Session, principal: StaffPrincipal, node: eessi.Node, case_id: int, asked: Question
) -> CrossBorderCase:
    """Open an H_BUC_01 with ``asked.partner`` about a person of audit case ``case_id`` and queue
    its H001. Only an auditor, on an open case, about one of the case's own persons."""
    require_role(principal, Role.AUDITOR)
    case = case_for_update(session, case_id)
    if asked.person not in {(p.person_scheme, p.person_id) for p in case_persons(session, case_id)}:
        raise CaseStateError(f"person: {asked.person[0]} {asked.person[1]} is not a person of case {case.reference}")
    if not (asked.family_name.strip() and asked.forename.strip()):
        raise CaseStateError("name: the partner abroad needs the person's family name and forename")
    born = birth_date_of(IdScheme(asked.person[0]), asked.person[1])
    if born is None:
        raise CaseStateError(f"person: {asked.person[0]} {asked.person[1]} carries no birth date to name them by")
    if not asked.question.strip():
        raise CaseStateError("question: say what the authority needs to know and why")
    if asked.end is not None and asked.end < asked.start:
        raise CaseStateError("period: it ends before it starts")
    if asked.start > today():
        raise CaseStateError("period: it starts in the future")
    period = {"startDate": asked.start.isoformat()}
    if asked.end is not None:
        period["endDate"] = asked.end.isoformat()
    content = {"benefitType": asked.benefit_type, "period": period, "question": asked.question.strip()}
    cross_border = eessi.open_case(
        session,
        node,
        buc_type=BUC,
        partner=asked.partner,
        content=content,
        person=eessi.PersonRef(
            asked.person[0],
            asked.person[1],
            seds.PersonIdentification(
                family_name=asked.family_name.strip(),
                forename=asked.forename.strip(),
                date_birth=born,
                pins=(seds.Pin(personal_identification_number=asked.person[1], country=node.country),),
            ),
        ),
        purpose=f"audit case {case.reference}: {asked.question.strip()}"[:1000],
        by=principal.username,
        audit_case_id=case.id,
    )
    note = f"Asked {asked.partner} abroad ({BUC}, cross-border case {cross_border.case_id}): {asked.question.strip()}"
    add_note(session, principal, case_id, text=note)
    return cross_border
