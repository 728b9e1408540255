"""The queries of the credentials."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saldo.credentials.models import (
    CachedStatusList,
    Credential,
    CredentialEvent,
    CredentialOffer,
    CredentialState,
    IssuanceNonce,
    LegislationDecision,
    PresentationRequest,
    StatusList,
)


def decision_by_id(session: Session, decision_id: int) -> LegislationDecision | None:
    return session.get(LegislationDecision, decision_id)


def credential_by_number(session: Session, document_number: str) -> Credential | None:
    return session.scalars(select(Credential).where(Credential.document_number == document_number)).one_or_none()


def credentials_of(session: Session, scheme: str, person_id: str) -> list[Credential]:
    query = select(Credential).where(Credential.person_scheme == scheme, Credential.person_id == person_id)
    return list(session.scalars(query.order_by(Credential.id.desc())))


def recent_credentials(session: Session, *, limit: int) -> list[Credential]:
    return list(session.scalars(select(Credential).order_by(Credential.id.desc()).limit(limit)))


def events_of(session: Session, credential_pk: int) -> list[CredentialEvent]:
    query = select(CredentialEvent).where(CredentialEvent.credential_pk == credential_pk)
    return list(session.scalars(query.order_by(CredentialEvent.id)))


def open_status_list(session: Session, *, fill_limit: int) -> StatusList | None:
    """The newest list with room, locked until the transaction ends: entries are taken one
    transaction at a time per list, so two issuances never pick the same entry."""
    query = select(StatusList).where(StatusList.used < fill_limit).order_by(StatusList.id.desc()).limit(1)
    return session.scalars(query.with_for_update()).one_or_none()


def status_list(session: Session, list_id: int) -> StatusList | None:
    return session.get(StatusList, list_id)


def entry_taken(session: Session, list_id: int, index: int) -> bool:
    query = select(exists().where(Credential.status_list_id == list_id, Credential.status_index == index))
    return bool(session.scalar(query))


def status_list_size(session: Session, list_id: int) -> int | None:
    return session.scalar(select(StatusList.size).where(StatusList.id == list_id))


def entry_state(session: Session, list_id: int, index: int) -> CredentialState | None:
    """The state of the credential at an entry; None: no credential has it (it reads valid)."""
    query = select(Credential.state).where(Credential.status_list_id == list_id, Credential.status_index == index)
    return session.scalar(query)


def not_valid_entries(session: Session, list_id: int) -> list[tuple[int, CredentialState]]:
    """The entries of a list that are not valid: all a status list token needs to say."""
    query = select(Credential.status_index, Credential.state).where(
        Credential.status_list_id == list_id, Credential.state != CredentialState.VALID
    )
    return [(index, state) for index, state in session.execute(query)]


def bump_list_version(session: Session, list_id: int) -> None:
    session.execute(update(StatusList).where(StatusList.id == list_id).values(version=StatusList.version + 1))


def offer_by_code(session: Session, code_sha256: bytes) -> CredentialOffer | None:
    query = select(CredentialOffer).where(CredentialOffer.code_sha256 == code_sha256)
    return session.scalars(query.with_for_update()).one_or_none()


def offer_by_token(session: Session, token_sha256: bytes) -> CredentialOffer | None:
    query = select(CredentialOffer).where(CredentialOffer.token_sha256 == token_sha256)
    return session.scalars(query.with_for_update()).one_or_none()


def take_nonces(session: Session, digests: list[bytes], now: dt.datetime) -> int:
    """Mark nonces used; how many were known, unexpired and unused (each is taken once)."""
    taken = session.execute(
        update(IssuanceNonce)
        .where(
            IssuanceNonce.nonce_sha256.in_(digests),
            IssuanceNonce.used_at.is_(None),
            IssuanceNonce.expires_at > now,
        )
        .values(used_at=now)
        .returning(IssuanceNonce.nonce_sha256)
    ).all()
    return len(taken)


def presentation_request(session: Session, request_id: str, *, lock: bool = False) -> PresentationRequest | None:
    query = select(PresentationRequest).where(PresentationRequest.request_id == request_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def cached_status_list(session: Session, uri: str) -> CachedStatusList | None:
    return session.get(CachedStatusList, uri)


def keep_status_list(session: Session, uri: str, token: str, fetched_at: dt.datetime) -> None:
    statement = insert(CachedStatusList).values(uri=uri, token=token, fetched_at=fetched_at)
    session.execute(
        statement.on_conflict_do_update(index_elements=["uri"], set_={"token": token, "fetched_at": fetched_at})
    )


def request_by_state(session: Session, state: str) -> PresentationRequest | None:
    query = select(PresentationRequest).where(PresentationRequest.state == state)
    return session.scalars(query.with_for_update()).one_or_none()


def forget_expired_nonces(session: Session, before: dt.datetime, *, most: int = 200) -> None:
    """Delete nonces that expired before ``before``, a few at a time (each new nonce clears some)."""
    old = select(IssuanceNonce.nonce_sha256).where(IssuanceNonce.expires_at < before).limit(most)
    session.execute(delete(IssuanceNonce).where(IssuanceNonce.nonce_sha256.in_(old.scalar_subquery())))


def forget_expired_requests(session: Session, before: dt.datetime, *, most: int = 200) -> None:
    """Delete verifier requests (and what was shown in them) that expired before ``before``."""
    old = select(PresentationRequest.id).where(PresentationRequest.expires_at < before).limit(most)
    session.execute(delete(PresentationRequest).where(PresentationRequest.id.in_(old.scalar_subquery())))
