from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from saldo.inforequests.models import InformationAnswer, InformationRequest, RequestStatus


class RequestRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_payer(self, payer_id: int, status: RequestStatus | None) -> Sequence[InformationRequest]:
        query = select(InformationRequest).where(InformationRequest.payer_id == payer_id)
        if status is not None:
            query = query.where(InformationRequest.status == status)
        return self.session.scalars(query.order_by(InformationRequest.id)).all()

    def of_case(self, case_id: int) -> Sequence[InformationRequest]:
        query = select(InformationRequest).where(InformationRequest.case_id == case_id)
        return self.session.scalars(query.order_by(InformationRequest.id)).all()

    def answers(self, request_id: int) -> Sequence[InformationAnswer]:
        query = select(InformationAnswer).where(InformationAnswer.request_id == request_id)
        return self.session.scalars(query.order_by(InformationAnswer.id)).all()

    def due_for_reminder(self, due_by: dt.date) -> Sequence[InformationRequest]:
        """Open requests due by ``due_by`` that were not reminded, locked (skipping any another worker holds)."""
        query = (
            select(InformationRequest)
            .where(
                InformationRequest.status == RequestStatus.OPEN,
                InformationRequest.reminded_at.is_(None),
                InformationRequest.deadline <= due_by,
            )
            .order_by(InformationRequest.id)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(query).all()
