"""The queries of the once-only exchange."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from saldo.onceonly.models import (
    EvidenceExchange,
    ExchangeMessage,
    ExchangeRole,
    ExchangeState,
    MessageDirection,
    MessageStatus,
)
from saldo.procedures.models import Application, ApplicationState


def requester_exchange(session: Session, exchange_id: int) -> EvidenceExchange | None:
    exchange = session.get(EvidenceExchange, exchange_id)
    return exchange if exchange is not None and exchange.role is ExchangeRole.REQUESTER else None


def requester_by_request(session: Session, request_id: str) -> EvidenceExchange | None:
    query = select(EvidenceExchange).where(
        EvidenceExchange.role == ExchangeRole.REQUESTER, EvidenceExchange.request_id == request_id
    )
    return session.scalars(query.with_for_update()).one_or_none()


def provider_by_request(session: Session, request_id: str) -> EvidenceExchange | None:
    query = select(EvidenceExchange).where(
        EvidenceExchange.role == ExchangeRole.PROVIDER, EvidenceExchange.request_id == request_id
    )
    return session.scalars(query).one_or_none()


def by_token(session: Session, token: str, *, for_update: bool = False) -> EvidenceExchange | None:
    if not token:
        return None
    query = select(EvidenceExchange).where(
        EvidenceExchange.role == ExchangeRole.PROVIDER, EvidenceExchange.preview_token == token
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def of_person(session: Session, scheme: str, person_id: str) -> list[EvidenceExchange]:
    query = select(EvidenceExchange).where(
        EvidenceExchange.person_scheme == scheme, EvidenceExchange.person_id == person_id
    )
    return list(session.scalars(query.order_by(EvidenceExchange.id.desc())))


def of_application(session: Session, application_pk: int) -> list[EvidenceExchange]:
    query = select(EvidenceExchange).where(EvidenceExchange.application_pk == application_pk)
    return list(session.scalars(query.order_by(EvidenceExchange.id)))


def next_due(session: Session, now: dt.datetime) -> ExchangeMessage | None:
    """The oldest message due to be sent, locked so two senders never send it at once."""
    query = (
        select(ExchangeMessage)
        .where(
            ExchangeMessage.direction == MessageDirection.OUT,
            ExchangeMessage.status == MessageStatus.PENDING,
            ExchangeMessage.next_attempt_at <= now,
        )
        .order_by(ExchangeMessage.next_attempt_at, ExchangeMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).first()


def received(session: Session, message_id: str) -> ExchangeMessage | None:
    query = select(ExchangeMessage).where(
        ExchangeMessage.direction == MessageDirection.IN, ExchangeMessage.message_id == message_id
    )
    return session.scalars(query).one_or_none()


def expire(session: Session, now: dt.datetime) -> tuple[int, int]:
    """Previews not done in time lapse; evidence past its keeping time, or of an application the
    person withdrew, is deleted. Returns (lapsed, deleted)."""
    lapsed = session.execute(
        update(EvidenceExchange)
        .where(
            EvidenceExchange.state.in_([ExchangeState.REQUESTED, ExchangeState.PREVIEW, ExchangeState.APPROVED]),
            EvidenceExchange.expires_at < now,
        )
        .values(state=ExchangeState.EXPIRED, updated_at=now)
    )
    withdrawn = select(Application.id).where(Application.state == ApplicationState.WITHDRAWN)
    deleted = session.execute(
        update(EvidenceExchange)
        .where(
            EvidenceExchange.evidence.is_not(None),
            or_(EvidenceExchange.expires_at < now, EvidenceExchange.application_pk.in_(withdrawn)),
        )
        .values(evidence=None, state=ExchangeState.EXPIRED, updated_at=now)
    )
    return int(getattr(lapsed, "rowcount", 0)), int(getattr(deleted, "rowcount", 0))
