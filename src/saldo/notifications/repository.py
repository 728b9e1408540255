from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from saldo.notifications.models import Notification, NotificationOutcome


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_payer(self, payer_id: int, after_id: int, limit: int) -> Sequence[Notification]:
        query = (
            select(Notification)
            .where(Notification.payer_id == payer_id, Notification.id > after_id)
            .order_by(Notification.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def outcomes(self, notification_id: int) -> Sequence[NotificationOutcome]:
        query = select(NotificationOutcome).where(NotificationOutcome.notification_id == notification_id)
        return self.session.scalars(query.order_by(NotificationOutcome.id)).all()

    def of_case(self, case_id: int) -> Sequence[Notification]:
        query = select(Notification).where(Notification.case_id == case_id)
        return self.session.scalars(query.order_by(Notification.id)).all()
