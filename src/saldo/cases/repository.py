from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from saldo.analysis.models import Finding
from saldo.cases.models import Case, CaseEvent, CaseEventKind, CaseFinding, CasePerson, CaseStatus, FindingReview

# Who each payment went to and who paid it, in the table or archived: an archived one by its id alone,
# a skip scan of the archive's keys (decision 0035).
_PAID = "id, payer_id, payee_id, amount_minor, currency, period_start, period_end, reference, status"
_PAYEES_OF_PAYMENTS = text(
    "SELECT p.id AS payment_id, p.payer_id, e.id_scheme AS scheme, e.identifier, p.amount_minor, "  # noqa: S608
    "p.currency, p.period_start, p.period_end, p.reference, p.status FROM ("
    f"SELECT {_PAID} FROM payments WHERE id = ANY(:ids) "
    f"UNION ALL SELECT {_PAID} FROM archived_payments WHERE id = ANY(:ids)"
    ") p JOIN payees e ON e.id = p.payee_id ORDER BY p.id"
)


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def findings(self, finding_ids: Sequence[int], *, lock: bool = False) -> Sequence[Finding]:
        """The findings by id; with ``lock``, held until commit, so two people cannot review one at once."""
        query = select(Finding).where(Finding.id.in_(finding_ids)).order_by(Finding.id)
        return self.session.scalars(query.with_for_update() if lock else query).all()

    def reviewed(self, finding_ids: Sequence[int]) -> set[int]:
        query = select(FindingReview.finding_id).where(FindingReview.finding_id.in_(finding_ids))
        return set(self.session.scalars(query))

    def payees_of_payments(self, payment_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Who each payment went to and who paid it: the registry's side of re-identification."""
        rows = self.session.execute(_PAYEES_OF_PAYMENTS, {"ids": list(payment_ids)})
        return [dict(r._mapping) for r in rows]

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def add_event(self, case_id: int, kind: CaseEventKind, actor: str, body: dict[str, Any]) -> CaseEvent:
        return self.add(CaseEvent(case_id=case_id, kind=kind, actor=actor, body=body))  # type: ignore[no-any-return]

    def get(self, case_id: int, *, lock: bool = False) -> Case | None:
        return self.session.get(Case, case_id, with_for_update=lock)

    def persons(self, case_id: int) -> Sequence[CasePerson]:
        query = select(CasePerson).where(CasePerson.case_id == case_id).order_by(~CasePerson.subject)
        return self.session.scalars(query).all()

    def finding_ids(self, case_id: int) -> list[int]:
        query = select(CaseFinding.finding_id).where(CaseFinding.case_id == case_id).order_by(CaseFinding.finding_id)
        return list(self.session.scalars(query))

    def events(self, case_id: int) -> Sequence[CaseEvent]:
        return self.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).all()

    def list(
        self,
        *,
        status: CaseStatus | None,
        assigned_to: str | None,
        after_id: int,
        limit: int,
        unassigned: bool = False,
        open_only: bool = False,
        newest_first: bool = False,
    ) -> Sequence[Case]:
        query = select(Case)
        if newest_first:
            query = query.where(Case.id < after_id) if after_id else query
        else:
            query = query.where(Case.id > after_id)
        if status is not None:
            query = query.where(Case.status == status)
        if open_only:
            query = query.where(Case.status != CaseStatus.CLOSED)
        if assigned_to is not None:
            query = query.where(Case.assigned_to == assigned_to)
        if unassigned:
            query = query.where(Case.assigned_to.is_(None))
        order = Case.id.desc() if newest_first else Case.id
        return self.session.scalars(query.order_by(order).limit(limit)).all()

    def triage_queue(self, run_id: int, limit: int) -> Sequence[Finding]:
        """The run's selected findings nobody has reviewed yet, highest expected value first."""
        query = (
            select(Finding)
            .outerjoin(FindingReview, FindingReview.finding_id == Finding.id)
            .where(Finding.run_id == run_id, Finding.selected, FindingReview.finding_id.is_(None))
            .order_by(Finding.expected_value_minor.desc(), Finding.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(Case.status, func.count()).group_by(Case.status))
        return {str(s): int(n) for s, n in rows}
