from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saldo.benefits.models import Benefit, BenefitExclusion


class BenefitRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def list_all(self) -> Sequence[Benefit]:
        return self.session.scalars(select(Benefit).order_by(Benefit.code)).all()

    def by_codes(self, codes: Sequence[str]) -> Sequence[Benefit]:
        return self.session.scalars(select(Benefit).where(Benefit.code.in_(codes))).all()

    def exclusion_pairs(self) -> Sequence[tuple[int, int]]:
        rows = self.session.execute(select(BenefitExclusion.benefit_id, BenefitExclusion.excluded_benefit_id))
        return [(a, b) for a, b in rows]

    def upsert(self, values: dict[str, object]) -> int:
        statement = insert(Benefit).values(**values)
        updated = {key: statement.excluded[key] for key in values if key != "code"}
        statement = statement.on_conflict_do_update(index_elements=[Benefit.code], set_=updated)
        benefit_id = self.session.scalar(statement.returning(Benefit.id))
        assert benefit_id is not None
        return int(benefit_id)

    def upsert_exclusion(self, first_id: int, second_id: int, reason: str) -> None:
        low, high = sorted((first_id, second_id))
        statement = insert(BenefitExclusion).values(benefit_id=low, excluded_benefit_id=high, reason=reason)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[BenefitExclusion.benefit_id, BenefitExclusion.excluded_benefit_id],
                set_={"reason": statement.excluded.reason},
            )
        )
