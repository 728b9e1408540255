"""The queries of the cross-border exchange."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, exists, func, literal_column, select, text, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnClause, TextClause

from saldo.eessi.models import (
    CaseStatus,
    CrossBorderCase,
    CrossBorderDocument,
    CrossBorderFact,
    Direction,
    DocumentStatus,
    PersonMatch,
)


def case_by_id(session: Session, case_id: str) -> CrossBorderCase | None:
    return session.scalars(select(CrossBorderCase).where(CrossBorderCase.case_id == case_id)).one_or_none()


def cases_from_audit_case(session: Session, audit_case_id: int) -> list[CrossBorderCase]:
    query = select(CrossBorderCase).where(CrossBorderCase.audit_case_id == audit_case_id)
    return list(session.scalars(query.order_by(CrossBorderCase.id)))


def cases(session: Session, *, status: CaseStatus | None, limit: int) -> list[CrossBorderCase]:
    query = select(CrossBorderCase).order_by(CrossBorderCase.id.desc()).limit(limit)
    if status is not None:
        query = query.where(CrossBorderCase.status == status)
    return list(session.scalars(query))


def case_documents(session: Session, case_pk: int) -> list[CrossBorderDocument]:
    return list(
        session.scalars(
            select(CrossBorderDocument).where(CrossBorderDocument.case_pk == case_pk).order_by(CrossBorderDocument.id)
        )
    )


def first_document(session: Session, case_pk: int) -> CrossBorderDocument | None:
    return session.scalars(
        select(CrossBorderDocument)
        .where(CrossBorderDocument.case_pk == case_pk)
        .order_by(CrossBorderDocument.id)
        .limit(1)
    ).first()


_HOLDER_COLUMNS = "SELECT DISTINCT holder_scheme, holder_identifier, holder_name FROM account_holders "
_HOLDERS_BORN = (  # one range of one scheme; the ranges of several schemes in one statement
    "(" + _HOLDER_COLUMNS + "WHERE holder_scheme = :scheme{n} AND holder_identifier BETWEEN :first{n} AND :last{n} "
    "AND held_until IS NULL ORDER BY holder_identifier, holder_name LIMIT 200)"
)


def account_holders_born(session: Session, ranges: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(scheme, identifier, name as the bank registered it) of each current account holder whose
    identifier in a scheme lies between a range's first and last: the persons born on one day (on
    the index of holders by identifier), for each (scheme, first, last) of ``ranges``, in one round
    trip. At most 200 a range: a day's births with an account, with room to spare."""
    if not ranges:
        return []
    values: dict[str, str] = {}
    for n, (scheme, first, last) in enumerate(ranges):
        values |= {f"scheme{n}": scheme, f"first{n}": first, f"last{n}": last}
    return [(str(r[0]), str(r[1]), str(r[2])) for r in session.execute(_holders_born(len(ranges)), values)]


@functools.cache
def _holders_born(ranges: int) -> TextClause:
    return text(" UNION ALL ".join(_HOLDERS_BORN.format(n=n) for n in range(ranges)))


_PERSONS_WITH_PIN = text(
    "SELECT DISTINCT c.person_scheme, c.person_id FROM eessi_documents d JOIN eessi_cases c ON c.id = d.case_pk "
    "WHERE c.person_id IS NOT NULL AND c.person_match IN ('identifier', 'confirmed') "
    "AND d.content -> 'person' -> 'PINPersonInEachInstitution' @> CAST(:pin AS jsonb)"
)


def persons_with_pin(session: Session, country: str, number: str) -> set[tuple[str, str]]:
    """(scheme, identifier) of the persons of linked cases whose SEDs carry this PIN (on the GIN
    index of the documents' PINs)."""
    pin = json.dumps([{"country": country, "personalIdentificationNumber": number}])
    return {(str(r[0]), str(r[1])) for r in session.execute(_PERSONS_WITH_PIN, {"pin": pin})}


def document_by_message(session: Session, message_id: str) -> CrossBorderDocument | None:
    return session.scalars(
        select(CrossBorderDocument).where(CrossBorderDocument.message_id == message_id)
    ).one_or_none()


def open_request(
    session: Session, case_pk: int, sed_types: tuple[str, ...], *, sent_to: str
) -> CrossBorderDocument | None:
    """The oldest unanswered SED of ``sed_types`` in the case that was sent to ``sent_to`` (the
    institution now answering)."""
    return session.scalars(
        select(CrossBorderDocument)
        .where(
            CrossBorderDocument.case_pk == case_pk,
            CrossBorderDocument.sed_type.in_(sed_types),
            CrossBorderDocument.answered_at.is_(None),
            CrossBorderDocument.receiver == sent_to,
            CrossBorderDocument.status != DocumentStatus.REJECTED,
        )
        .order_by(CrossBorderDocument.id)
        .limit(1)
    ).first()


def mark_answered(session: Session, case_pk: int, document_id: str, when: dt.datetime) -> None:
    session.execute(
        update(CrossBorderDocument)
        .where(CrossBorderDocument.case_pk == case_pk, CrossBorderDocument.document_id == document_id)
        .values(answered_at=when)
    )


# The outbox in two plain steps rather than one clever statement: PostgreSQL planned "the first queued
# SED of its case" as an anti-join, or as a scan of the whole queue per SED, on an outbox without
# statistics yet (thousands queued at once: 140-400 ms a SED, growing with the square of the queue).
# Here each step is at worst linear in the queue, and on the partial index ix_eessi_documents_queue
# it stops at the first page. 'queued' is written into the statements, not bound, so that a prepared
# statement's generic plan can still use the partial indexes.
_PAGE = 50
_DUE_PAGE = text(
    "SELECT id, case_pk FROM eessi_documents WHERE status = 'queued' AND id > :after "
    "AND coalesce(next_attempt_at, '-infinity') <= :now ORDER BY id LIMIT :page"
)
_EARLIER = aliased(CrossBorderDocument)
_QUEUED: ColumnClause[str] = literal_column(f"'{DocumentStatus.QUEUED.value}'")
_FIRST_OF_CASE_LOCKED = (
    select(CrossBorderDocument)
    .where(
        CrossBorderDocument.id == bindparam("id"),
        CrossBorderDocument.status == _QUEUED,
        ~exists().where(
            _EARLIER.case_pk == bindparam("case_pk"), _EARLIER.status == _QUEUED, _EARLIER.id < bindparam("id")
        ),
    )
    .with_for_update(skip_locked=True)
)


_FIRST_OF_CASES_LOCKED = (
    select(CrossBorderDocument)
    .where(
        CrossBorderDocument.id.in_(bindparam("ids", expanding=True)),
        CrossBorderDocument.status == _QUEUED,
        ~exists().where(
            _EARLIER.case_pk == CrossBorderDocument.case_pk,
            _EARLIER.status == _QUEUED,
            _EARLIER.id < CrossBorderDocument.id,
        ),
    )
    .order_by(CrossBorderDocument.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)


def next_due(session: Session, now: dt.datetime) -> CrossBorderDocument | None:
    """The oldest queued SED that is due and is the first unsent one of its case, locked (others
    skip it) until the caller's transaction ends."""
    after = 0
    while True:
        page = session.execute(_DUE_PAGE, {"after": after, "now": now, "page": _PAGE}).all()
        for document_id, case_pk in page:
            found = session.scalars(_FIRST_OF_CASE_LOCKED, {"id": document_id, "case_pk": case_pk}).first()
            if found is not None:
                return found
        if len(page) < _PAGE:
            return None
        after = page[-1][0]


def due_batch(session: Session, now: dt.datetime, limit: int) -> list[CrossBorderDocument]:
    """Up to ``limit`` queued SEDs that are due, each the first unsent one of its case, oldest first,
    locked (others skip them) until the caller's transaction ends: ``next_due`` for many at once, a
    page of the queue per statement."""
    found: list[CrossBorderDocument] = []
    after = 0
    while len(found) < limit:
        page = session.execute(_DUE_PAGE, {"after": after, "now": now, "page": _PAGE}).all()
        if page:
            ids = [document_id for document_id, _ in page]
            found += session.scalars(_FIRST_OF_CASES_LOCKED, {"ids": ids, "limit": limit - len(found)}).all()
        if len(page) < _PAGE:
            return found
        after = page[-1][0]
    return found


def queued_locked(session: Session, ids: Sequence[int]) -> list[CrossBorderDocument]:
    """Those of the SEDs ``ids`` still queued, oldest first, locked; any another delivery holds are skipped."""
    return list(
        session.scalars(
            select(CrossBorderDocument)
            .where(CrossBorderDocument.id.in_(ids), CrossBorderDocument.status == _QUEUED)
            .order_by(CrossBorderDocument.id)
            .with_for_update(skip_locked=True)
        )
    )


def case_ids(session: Session, case_pks: Iterable[int]) -> dict[int, str]:
    wanted = list(case_pks)
    if not wanted:
        return {}
    rows = session.execute(select(CrossBorderCase.id, CrossBorderCase.case_id).where(CrossBorderCase.id.in_(wanted)))
    return {int(row[0]): str(row[1]) for row in rows}


def queued_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(CrossBorderDocument.status == DocumentStatus.QUEUED)) or 0)


def attention(session: Session) -> tuple[int, int]:
    """(open cases whose person waits to be confirmed, SEDs of open cases that could not be delivered)."""
    open_case = CrossBorderCase.status == CaseStatus.OPEN
    unmatched = select(func.count()).where(open_case, CrossBorderCase.person_match == PersonMatch.UNMATCHED)
    undeliverable = (
        select(func.count())
        .select_from(CrossBorderDocument)
        .join(CrossBorderCase, CrossBorderCase.id == CrossBorderDocument.case_pk)
        .where(open_case, CrossBorderDocument.status == DocumentStatus.UNDELIVERABLE)
    )
    return int(session.scalar(unmatched) or 0), int(session.scalar(undeliverable) or 0)


def stop_awaiting(session: Session, case_pk: int, institution: str) -> None:
    """No answer is awaited any more to the requests sent to ``institution`` in the case (it no longer
    takes part): no reminder goes, and the workbench does not list them as waiting."""
    session.execute(
        update(CrossBorderDocument)
        .where(
            CrossBorderDocument.case_pk == case_pk,
            CrossBorderDocument.receiver == institution,
            CrossBorderDocument.answered_at.is_(None),
            CrossBorderDocument.deadline.is_not(None),
        )
        .values(deadline=None)
    )


def document_of_case(session: Session, case_pk: int, document_id: str) -> CrossBorderDocument | None:
    query = select(CrossBorderDocument).where(
        CrossBorderDocument.case_pk == case_pk, CrossBorderDocument.document_id == document_id
    )
    return session.scalars(query.with_for_update()).one_or_none()


def overdue_requests(session: Session, today: dt.date, institution: str) -> list[CrossBorderDocument]:
    return list(
        session.scalars(
            select(CrossBorderDocument)
            .join(CrossBorderCase, CrossBorderCase.id == CrossBorderDocument.case_pk)
            .where(
                CrossBorderDocument.direction == Direction.OUT,
                CrossBorderDocument.sender == institution,
                CrossBorderDocument.deadline < today,
                CrossBorderDocument.answered_at.is_(None),
                CrossBorderDocument.reminded_at.is_(None),
                CrossBorderCase.status == CaseStatus.OPEN,
            )
            .order_by(CrossBorderDocument.id)
            .with_for_update(of=CrossBorderDocument, skip_locked=True)
        )
    )


def withdraw_facts(session: Session, document_pks: list[int], *, when: dt.datetime, by: str, reason: str) -> int:
    """Withdraw the facts these SEDs gave (those not withdrawn already); how many."""
    result = session.execute(
        update(CrossBorderFact)
        .where(CrossBorderFact.document_pk.in_(document_pks), CrossBorderFact.withdrawn_at.is_(None))
        .values(withdrawn_at=when, withdrawn_by=by, withdrawn_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def facts_from(session: Session, document_pks: list[int]) -> list[CrossBorderFact]:
    return list(
        session.scalars(
            select(CrossBorderFact).where(CrossBorderFact.document_pk.in_(document_pks)).order_by(CrossBorderFact.id)
        )
    )


def facts_about(session: Session, scheme: str, person_id: str) -> list[CrossBorderFact]:
    return list(
        session.scalars(
            select(CrossBorderFact)
            .where(
                CrossBorderFact.person_scheme == scheme,
                CrossBorderFact.person_id == person_id,
                CrossBorderFact.withdrawn_at.is_(None),
            )
            .order_by(CrossBorderFact.id)
        )
    )
