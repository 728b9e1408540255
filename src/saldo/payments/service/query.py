"""Reading a payer's own payments. Every query is scoped by the calling payer's id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from saldo.db.replica import ReadFrom, Reads
from saldo.kit.national_id import IdScheme, InvalidIdentifierError, normalize_identifier
from saldo.payments.errors import PaymentNotFoundError
from saldo.payments.models import Payment, PaymentHold, PaymentStatus
from saldo.payments.repository import PaymentFilter, PaymentRepository, PaymentRow, batch_parts_pending
from saldo.payments.schemas import BatchAccepted, HoldOut, PaymentEventOut, PaymentOut, PaymentPage
from saldo.settings import Settings

# The most of a payer's payments one page of its listing tries a filter on, when no index narrows the
# filter (decision 0037); the setting's default.
READ_LIMIT: int = Settings.model_fields["listing_read_limit"].default


def payment_out(row: PaymentRow, hold: PaymentHold | None = None) -> PaymentOut:
    """A payment row joined with its payee identifier and benefit code, as the API shows it."""
    payment: Payment = row[0]
    return PaymentOut(
        id=payment.id,
        reference=payment.reference,
        status=payment.status,
        payee_scheme=row[1],
        payee_id=row[2],
        payee_name=payment.payee_name,
        benefit=row[3],
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        decision_reference=payment.decision_reference,
        period_start=payment.period_start,
        period_end=payment.period_end,
        due_date=payment.due_date,
        account_scheme=payment.account_scheme,
        account=payment.account_number,
        remittance_info=payment.remittance_info,
        batch_id=payment.batch_id,
        account_check=payment.account_check,
        run_id=payment.run_id,
        hold=HoldOut.model_validate(hold) if hold is not None else None,
        registered_at=payment.registered_at,
        updated_at=payment.updated_at,
    )


def listed_payment(row: Sequence[Any]) -> PaymentOut:
    """A payment as a listing shows it, from a row of LISTED_COLUMNS: the documented route's query gives
    them, and the fast path's statement (saldo.web.fastpath), whose times are in its connection's
    time zone and its enums plain text."""
    (id_, reference, status, scheme, identifier, name, benefit, amount, currency, decision, start, end, due) = row[:13]
    (account_scheme, account, remittance, batch_id, check, run_id, hold_id, held_by, reason, held_at) = row[13:23]
    return PaymentOut(
        id=id_,
        reference=reference,
        status=status,
        payee_scheme=scheme,
        payee_id=identifier,
        payee_name=name,
        benefit=benefit,
        amount_minor=amount,
        currency=currency,
        decision_reference=decision,
        period_start=start,
        period_end=end,
        due_date=due,
        account_scheme=account_scheme,
        account=account,
        remittance_info=remittance,
        batch_id=batch_id,
        account_check=check,
        run_id=run_id,
        hold=None
        if hold_id is None
        else HoldOut(id=hold_id, held_by=held_by, reason=reason, held_at=held_at.astimezone(dt.UTC)),
        registered_at=row[23].astimezone(dt.UTC),
        updated_at=row[24].astimezone(dt.UTC),
    )


def get_payment(session: Session, *, payer_id: int, payment_id: int) -> PaymentOut:
    """One of the payer's payments; another payer's payment is reported as not found."""
    row = PaymentRepository(session).get_for_payer(payer_id, payment_id)
    if row is None:
        raise PaymentNotFoundError(f"no payment {payment_id} for this payer")
    return _with_holds(session, [row])[0]


def _with_holds(session: Session, rows: Sequence[PaymentRow]) -> list[PaymentOut]:
    """Payments as shown, each with its open hold (fetched for all of them in one query)."""
    holds = PaymentRepository(session).holds_by_id([r[0].hold_id for r in rows if r[0].hold_id is not None])
    return [payment_out(r, holds.get(r[0].hold_id) if r[0].hold_id is not None else None) for r in rows]


def get_payment_by_reference(session: Session, *, payer_id: int, reference: str) -> PaymentOut:
    """One of the payer's payments by the payer's own reference."""
    row = PaymentRepository(session).get_by_reference(payer_id, reference)
    if row is None:
        raise PaymentNotFoundError(f"no payment with reference {reference!r} for this payer")
    return _with_holds(session, [row])[0]


@dataclass(frozen=True, slots=True)
class BenefitName:
    code: str
    name_sv: str
    name_en: str


def payer_benefits(session: Session, payer_id: int) -> list[BenefitName]:
    """The benefits a payer may pay, with their names, to choose from and to show."""
    return [BenefitName(*row) for row in PaymentRepository(session).benefit_names_for_payer(payer_id)]


def person_search(filters: PaymentFilter, text: str) -> PaymentFilter:
    """A search for a person, as a listing's filter: the identifiers the text is valid as (under each
    scheme that takes it: a Swedish personnummer, a Finnish henkilötunnus …), else a part of the
    payee's name. Digits that are no valid identifier are refused, saying so."""
    query = " ".join(text.split())
    if not query:
        return filters
    found: list[tuple[IdScheme, str]] = []
    for scheme in IdScheme:
        try:
            found.append((scheme, normalize_identifier(scheme, query)))
        except InvalidIdentifierError:
            continue
    if found:
        return replace(filters, payees=tuple(found))
    if sum(c.isalpha() for c in query) >= 2:
        return replace(filters, payee_name=query)
    raise InvalidIdentifierError(f"person: {query[:40]!r} is no valid personal or organisation number, nor a name")


def list_payments(
    session: Session,
    *,
    payer_id: int,
    filters: PaymentFilter,
    after: int | None,
    limit: int,
    read_limit: int = READ_LIMIT,
) -> PaymentPage:
    """A page of the payer's payments in registration order, or newest first (keyset pagination on id).

    A filter no index narrows (a status, benefit, due date or name) is tried on at most
    ``read_limit`` of the payer's payments a page, from the cursor on, and so is a batch, within
    the range of ids it recorded: such a page may hold fewer payments than ``limit``, or none, with
    ``read_limit_reached`` set and ``next_after`` where the search goes on. A page's time so stays
    bounded however many payments the payer has (decision 0037)."""
    repository = PaymentRepository(session)
    bounds: tuple[int, int] | None = None  # the ids a batch recorded: its payments are among them
    if filters.batch_id is not None:
        recorded = repository.batch_range(payer_id, filters.batch_id)
        if recorded is None:  # another payer's, or none
            return PaymentPage(items=[], next_after=None)
        ids_from, ids_to = recorded
        if ids_from is not None and ids_to is not None:
            bounds = (ids_from, ids_to)
    windows: list[int | None] = [None]  # how many of the payer's payments a page reads: any
    if filters.tried_on_each or bounds is not None:
        windows = [read_limit]
        if bounds is not None and not filters.tried_on_each and not filters.narrowed_by_an_index:
            # A batch's payments mostly lie together in its range: a window of the page's size is
            # first read, and the whole window only when another batch's payments share it.
            windows = [limit + 1, read_limit] if limit + 1 < read_limit else windows
    for window in windows:
        rows, horizon = _read_window(
            repository, payer_id, filters, after=after, limit=limit, bounds=bounds, window=window
        )
        if len(rows) > limit or horizon is None:
            break
    items = [listed_payment(row) for row in rows[:limit]]
    if len(rows) > limit:
        return PaymentPage(items=items, next_after=items[-1].id)
    if horizon is not None:  # the window is read whole; the payer has more payments past it
        return PaymentPage(items=items, next_after=horizon, read_limit_reached=True)
    return PaymentPage(items=items, next_after=None)


def read_listing(
    session: Session,
    reads: Reads,
    settings: Settings,
    *,
    payer_id: int,
    filters: PaymentFilter,
    after: int | None,
    limit: int,
) -> tuple[PaymentPage, ReadFrom]:
    """A page of the payer's listing as the API gives it, and where it was read: on the replica when
    one is set and caught up (``session`` is the primary's), the limit capped by the settings. The
    documented route and the fast path (saldo.web.fastpath) both read it so."""
    return reads.run(
        lambda reading: list_payments(
            reading,
            payer_id=payer_id,
            filters=filters,
            after=after,
            limit=min(limit, settings.page_size_max),
            read_limit=settings.listing_read_limit,
        ),
        session,
    )


def _read_window(
    repository: PaymentRepository,
    payer_id: int,
    filters: PaymentFilter,
    *,
    after: int | None,
    limit: int,
    bounds: tuple[int, int] | None,
    window: int | None,
) -> tuple[Sequence[Row[Any]], int | None]:
    """Up to ``limit`` + 1 of the payer's payments that pass the filters, among at most ``window``
    of its payments from after the cursor (within ``bounds``), and the id where that window ends:
    None when it holds all the payer's payments left to list."""
    within, horizon = bounds, None
    if window is not None:
        ends = repository.listing_horizon(
            payer_id, after=after, newest_first=filters.newest_first, payments=window, within=bounds
        )
        if ends is not None:
            start, horizon = ends
            within = (horizon, start) if filters.newest_first else (start, horizon)
    return repository.list_for_payer(payer_id, filters, after=after, limit=limit + 1, within=within), horizon


def payment_history(session: Session, *, payer_id: int, payment_id: int) -> list[PaymentEventOut]:
    """Every status transition of one of the payer's payments, oldest first."""
    repository = PaymentRepository(session)
    row = repository.get_for_payer(payer_id, payment_id)
    if row is None:
        raise PaymentNotFoundError(f"no payment {payment_id} for this payer")
    payment: Payment = row[0]
    events = [PaymentEventOut.model_validate(e) for e in repository.events(payment_id)]
    # A payment starts registered, or reported when its payer paid it through its own bank.
    first = events[0].from_status if events else payment.status
    registration = PaymentEventOut(
        from_status=None,
        to_status=PaymentStatus.REPORTED if first is PaymentStatus.REPORTED else PaymentStatus.REGISTERED,
        actor=f"payer:{payment.payer_id}",
        reason=f"batch {payment.batch_id}" if payment.batch_id is not None else "single registration",
        occurred_at=payment.registered_at,
    )
    return [registration, *events]


def get_batch_result(session: Session, *, payer_id: int, batch_id: int) -> BatchAccepted:
    """The result of one of the payer's accepted batches."""
    batch = PaymentRepository(session).batch_for_payer(payer_id, batch_id)
    if batch is None:
        raise PaymentNotFoundError(f"no batch {batch_id} for this payer")
    result = BatchAccepted.model_validate(batch.summary)
    if batch_parts_pending(session, batch_id):  # its process ended before committing them all
        result.visible = False
    return result


# Up to this many rows the start page counts exactly; above, it shows PostgreSQL's estimates: an
# exact count reads the whole table (1.7 s on 9.8 million payments), and the page is public.
EXACT_COUNT_UP_TO = 1_000_000


def registry_overview(session: Session, *, exact_up_to: int = EXACT_COUNT_UP_TO) -> dict[str, object]:
    """Counts for the start page: payees with a transaction account and payments by status; for a
    large registry estimates from the planner's statistics, and ``estimated`` says so."""
    repository = PaymentRepository(session)
    payments = repository.estimated_rows("payments")
    payees = repository.estimated_rows("payees")
    archived = repository.archived_by_status()  # counted exactly as the archive moves them
    by_status = None
    if payments is not None and payees is not None and max(payments, payees) > exact_up_to:
        by_status = repository.estimated_by_status(payments)
    if by_status is None or payees is None:
        by_status = _with(repository.count_by_status(), archived)
        return {"payees": repository.count_payees(), "payments": sum(by_status.values()), "by_status": by_status}
    total = (payments or 0) + sum(archived.values())
    return {"payees": payees, "payments": total, "by_status": _with(by_status, archived), "estimated": True}


def _with(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Counts by status with ``more`` added."""
    return {status: counts.get(status, 0) + more.get(status, 0) for status in sorted(counts.keys() | more.keys())}
