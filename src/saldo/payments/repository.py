from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from psycopg import Connection as PgConnection
from psycopg import errors as pg_errors
from psycopg.types.numeric import Int8
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Engine,
    MetaData,
    Row,
    Select,
    Table,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from saldo.banks.models import Bank
from saldo.benefits.models import Benefit
from saldo.db.engine import driver_connection
from saldo.db.replica import PRIMARY, AsyncReads, ReadFrom
from saldo.kit.national_id import IdScheme
from saldo.payees.models import Payee
from saldo.payees.repository import CREATE_PAYEE, FIND_PAYEE
from saldo.payers.models import Payer, PayerBenefit, PayerUser
from saldo.payers.repository import ACTIVE_TOKEN as PAYER_TOKEN
from saldo.payments.models import (
    ARCHIVABLE_STATUSES,
    ARCHIVED_PAYMENTS,
    RARE_STATUSES,
    ArchivedPaymentKey,
    ArchivedPaymentYear,
    ArchivedStatusTotal,
    PayerUpload,
    Payment,
    PaymentBatch,
    PaymentEvent,
    PaymentEventNote,
    PaymentHold,
    PaymentStatus,
    UploadStatus,
    event_note_id,
)
from saldo.staff.models import StaffMember

# The columns that make up a payment's content (what "the same payment" means), in ValidPayment.content order.
CONTENT_COLUMNS: tuple[str, ...] = (
    "payee_id",
    "payee_name",
    "benefit_id",
    "amount_minor",
    "currency",
    "decision_reference",
    "period_start",
    "period_end",
    "due_date",
    "account_scheme",
    "account_number",
    "remittance_info",
)
# Columns a payment is written with, in COPY order (registered_at/updated_at take their defaults).
COPY_COLUMNS: tuple[str, ...] = ("payer_id", "reference", *CONTENT_COLUMNS, "status", "batch_id")


# The single-payment API runs these on every request: constant statements, built once.
_SINGLE_COLUMNS = [c for c in COPY_COLUMNS if c not in ("status", "batch_id")]
# A reference its payer used for an archived payment inserts nothing, as one in the table does. A
# parameter given as the reference is cast to varchar, the type its other use in the statement gives it.
_NOT_ARCHIVED = (
    "NOT EXISTS (SELECT 1 FROM archived_payment_keys k WHERE k.payer_id = {payer} AND k.reference = {reference})"
)
_INSERT_REGISTERED = text(
    f"INSERT INTO payments ({', '.join(_SINGLE_COLUMNS)}, status) "
    f"SELECT {', '.join(':' + c for c in _SINGLE_COLUMNS)}, :status "
    f"WHERE {_NOT_ARCHIVED.format(payer=':payer_id', reference='CAST(:reference AS varchar)')} "
    "ON CONFLICT (payer_id, reference) DO NOTHING RETURNING id, registered_at"
)
_BENEFITS_FOR_PAYER = text(
    "SELECT b.code, b.id, b.kind, EXISTS (SELECT 1 FROM payer_benefits pb "
    "WHERE pb.payer_id = :payer_id AND pb.benefit_id = b.id) FROM benefits b"
)

# Any query a listing builds, whatever its columns.
AnySelect = Select[*tuple[Any, ...]]
PaymentRow = tuple[Payment, IdScheme, str, str]  # a payment with its payee's scheme and id and its benefit code

# What a listing shows of each payment, in this order (the fields of PaymentOut, its hold's among them;
# saldo.payments.service.query.listed_payment reads them): the documented route's query and the fast
# path's statement both give rows of these.
LISTED_COLUMNS: dict[str, Any] = {
    "p.id": Payment.id,
    "p.reference": Payment.reference,
    "p.status": Payment.status,
    "e.id_scheme": Payee.id_scheme,
    "e.identifier": Payee.identifier,
    "p.payee_name": Payment.payee_name,
    "b.code": Benefit.code,
    "p.amount_minor": Payment.amount_minor,
    "p.currency": Payment.currency,
    "p.decision_reference": Payment.decision_reference,
    "p.period_start": Payment.period_start,
    "p.period_end": Payment.period_end,
    "p.due_date": Payment.due_date,
    "p.account_scheme": Payment.account_scheme,
    "p.account_number": Payment.account_number,
    "p.remittance_info": Payment.remittance_info,
    "p.batch_id": Payment.batch_id,
    "p.account_check": Payment.account_check,
    "p.run_id": Payment.run_id,
    "h.id": PaymentHold.id,
    "h.held_by": PaymentHold.held_by,
    "h.reason": PaymentHold.reason,
    "h.held_at": PaymentHold.held_at,
    "p.registered_at": Payment.registered_at,
    "p.updated_at": Payment.updated_at,
}


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    status: PaymentStatus | None = None
    benefit: str | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    batch_id: int | None = None
    reference: str | None = None  # the payer's references that begin with this
    payees: tuple[tuple[IdScheme, str], ...] | None = None  # the payments to any of these persons
    payee_name: str | None = None  # the payments to a payee whose name (as the payer has it) holds this
    newest_first: bool = False  # ``after`` then pages towards older payments

    @property
    def narrowed_by_an_index(self) -> bool:
        """Whether an index of its own finds this filter's payments: a reference's beginning, a
        person, a rare status or verified. Otherwise a filter is tried on each of the payer's payments
        in the listing's order (a batch's, within the range of ids it recorded; decision 0037)."""
        return bool(
            self.reference
            or self.payees is not None
            or self.status in RARE_STATUSES
            or self.status is PaymentStatus.VERIFIED
        )

    @property
    def tried_on_each(self) -> bool:
        """Whether the listing tries this filter on each of the payer's payments in turn."""
        narrows = (self.status, self.benefit, self.due_from, self.due_to, self.payee_name)
        return not self.narrowed_by_an_index and any(f is not None and f != "" for f in narrows)


def _like(text: str) -> str:
    """``text`` for a LIKE pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _with_labels() -> Select[Payment, IdScheme, str, str]:
    return (
        select(Payment, Payee.id_scheme, Payee.identifier, Benefit.code)
        .join(Payee, Payee.id == Payment.payee_id)
        .join(Benefit, Benefit.id == Payment.benefit_id)
    )


# The archived payments as a payer's reads name them: Payment's columns, on the view of the archived
# payments by payer (each key with its payment from its person's year row; decision 0035).
_ARCHIVED_VIEW = ARCHIVED_PAYMENTS.alias("p")
Archived = aliased(Payment, _ARCHIVED_VIEW, adapt_on_names=True)
# Every payment by payee, in the table or archived (the view has every column but the reference).
ByPayee = aliased(
    Payment,
    Table(
        "payments_by_payee",
        MetaData(),
        Column("id"),
        Column("payer_id"),
        Column("payee_id"),
        Column("status"),
        Column("benefit_id"),
        Column("due_date"),
        Column("batch_id"),
        Column("payee_name"),
    ).alias("p"),
    adapt_on_names=True,
)


def _payer_range(
    payer_id: int,
    *,
    after: int | None,
    newest_first: bool,
    within: tuple[int, int] | None,
    entity: Any = Payment,
) -> tuple[ColumnElement[bool], ...]:
    """The payer's payments after the cursor, as a range of its (payer, id) index.

    Never "payer = :p" alone: given an equality and no bound on id, the planner drops the payer from
    the order and walks the primary key from the start, skipping every other payer's rows (1.4 s for
    a first page at ten million payments; decision 0030). So the payer is a range, and the cursor a
    row comparison that takes that range's place on its side: with "payer_id <= :p" beside
    "(payer_id, id) < (:p, :after)", a scan newest first started at the payer's newest payment and
    read back to the cursor (24 ms for the largest payer's oldest pages at a million payments, growing
    with the payer's payments; decision 0037). A window of ids bounds both sides, and then the
    equality is right: the planner reads exactly the window of the (payer, id) index (row comparisons
    on both sides would hide the window's size from its estimates)."""
    if within is not None:
        lowest, highest = within
        if after is not None and newest_first:
            highest = min(highest, after - 1)
        elif after is not None:
            lowest = max(lowest, after + 1)
        return entity.payer_id == payer_id, entity.id >= lowest, entity.id <= highest
    if after is None:
        return entity.payer_id >= payer_id, entity.payer_id <= payer_id
    if newest_first:
        return entity.payer_id >= payer_id, tuple_(entity.payer_id, entity.id) < (payer_id, after)
    return tuple_(entity.payer_id, entity.id) > (payer_id, after), entity.payer_id <= payer_id


def _in_order(query: AnySelect, entity: Any, *, newest_first: bool) -> AnySelect:
    """``query`` in the listing's order of ``entity``'s (payer, id) index."""
    if newest_first:
        return query.order_by(entity.payer_id.desc(), entity.id.desc())
    return query.order_by(entity.payer_id.asc(), entity.id.asc())


def _filtered(query: AnySelect, entity: Any, filters: PaymentFilter) -> AnySelect:
    """``query`` narrowed to the filters on ``entity``'s columns (not the payees: a caller reads them
    through the view by payee, or the key's payee)."""
    if filters.status is not None:
        query = query.where(entity.status == filters.status)
    if filters.benefit is not None:
        query = query.where(entity.benefit_id.in_(select(Benefit.id).where(Benefit.code == filters.benefit)))
    if filters.due_from is not None:
        query = query.where(entity.due_date >= filters.due_from)
    if filters.due_to is not None:
        query = query.where(entity.due_date <= filters.due_to)
    if filters.batch_id is not None:
        query = query.where(entity.batch_id == filters.batch_id)
    if filters.reference:
        # the range of the (payer, reference) index the prefix begins: the column's "C" collation
        # lets PostgreSQL bound LIKE 'prefix%' on both sides
        query = query.where(entity.reference.like(f"{_like(filters.reference)}%"))
    if filters.payees is not None:
        persons = select(Payee.id).where(tuple_(Payee.id_scheme, Payee.identifier).in_(filters.payees))
        query = query.where(entity.payee_id.in_(persons))
    if filters.payee_name:
        query = query.where(entity.payee_name.ilike(f"%{_like(filters.payee_name)}%"))
    return query


# What a filter reads of an archived payment beyond its key: the key holds the payer, the id, the
# payee, the reference and a rare status; the rest is in the person's year row.
_FROM_THE_YEAR_ROW = ("benefit", "due_from", "due_to", "batch_id", "payee_name")


def _archived_entity(filters: PaymentFilter) -> Any:
    """What the archived part of a listing reads: the keys alone when they answer the filters, else
    the view that takes each key's payment from its year row."""
    year_row = any(getattr(filters, name) not in (None, "") for name in _FROM_THE_YEAR_ROW)
    common = filters.status is not None and filters.status not in RARE_STATUSES
    return Archived if year_row or common else ArchivedPaymentKey


def _archived_ids(payer_id: int, filters: PaymentFilter, bounds: dict[str, Any]) -> AnySelect | None:
    """The archived part of a page's ids; None when the filter takes no archived payment (a status
    no archived payment holds: registered, verified, scheduled, sent, held)."""
    if filters.status is not None and filters.status not in ARCHIVABLE_STATUSES:
        return None
    entity = _archived_entity(filters)
    rare = filters.status if filters.status in RARE_STATUSES else None
    key_filters = replace(filters, status=None) if rare is not None else filters
    if entity is ArchivedPaymentKey:
        query = select(entity.id, literal(True).label("archived"))
        if key_filters.reference:
            query = query.where(entity.reference.like(f"{_like(key_filters.reference)}%"))
        if key_filters.payees is not None:
            persons = select(Payee.id).where(tuple_(Payee.id_scheme, Payee.identifier).in_(key_filters.payees))
            query = query.where(entity.payee_id.in_(persons))
        rare_status: Any = entity.rare_status
    else:
        query = _filtered(select(entity.id, literal(True).label("archived")), entity, key_filters)
        rare_status = _ARCHIVED_VIEW.c.rare_status
        if key_filters.payee_name:
            # The names beside the person's year rows first: a payment is taken apart from its row
            # only when the row holds a name that matches (18.7 ms against 5.5 for a window of 2,000
            # archived payments whose names all fail; decision 0035). The names as one text, one a
            # line: a name that holds the search holds it there too; a match across two only costs a look.
            names = func.array_to_string(ArchivedPaymentYear.payee_names, "\n")
            query = query.where(
                exists().where(
                    ArchivedPaymentYear.payee_id == entity.payee_id,
                    names.ilike(f"%{_like(key_filters.payee_name)}%"),
                )
            )
    if rare is not None:
        query = query.where(rare_status == rare.value)
    return query.where(*_payer_range(payer_id, **bounds, entity=entity))


def _merged(parts: Sequence[AnySelect], *, newest_first: bool, limit: int, offset: int = 0) -> Select[Any]:
    """The ids of several parts (each a query of ids and whether archived, in the listing's order,
    limited), merged in the listing's order: the first ``limit`` after ``offset``."""
    union = union_all(*(select(*part.subquery().c) for part in parts)).subquery("merged")
    order = union.c.id.desc() if newest_first else union.c.id.asc()
    return select(union.c.id, union.c.archived).order_by(order).offset(offset or None).limit(limit)


_NO_ID_AFTER = 2**63 - 1  # the largest bigint: newest first with no cursor starts below it
# A page's window holds at most this fraction of archived payments beside the table's (listing_horizon).
ARCHIVED_READ_SHARE = 5
_LAST_PAYMENT_ID = text("SELECT pg_sequence_last_value(pg_get_serial_sequence('payments', 'id')::regclass)")
_ESTIMATED_ROWS = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)")
_STATUS_STATISTICS = text(
    "SELECT most_common_vals::text::text[] AS vals, most_common_freqs AS freqs FROM pg_stats"
    " WHERE schemaname = current_schema() AND tablename = 'payments' AND attname = 'status'"
)


# A payment's history: its rows in the table, or, archived, its moments in its key's order (decision
# 0040). Never both but for an instant no reader sees: the archive and a payment brought back move a
# whole history in the statement that moves the payment.
_HISTORY = text(
    """
SELECT h.from_status, h.to_status, n.actor, n.reason, h.occurred_at FROM (
  SELECT e.from_status, e.to_status, e.note_id, e.occurred_at, 1 AS part, e.id AS n
    FROM payment_events e WHERE e.payment_id = :id
  UNION ALL
  SELECT o.from_status, o.to_status, o.note_id, o.occurred_at, 0, u.n
    FROM archived_payment_keys k CROSS JOIN LATERAL unnest(k.moments) WITH ORDINALITY AS u(moment, n)
    JOIN payment_event_moments o ON o.id = u.moment
   WHERE k.id = :id
) h JOIN payment_event_notes n ON n.id = h.note_id
ORDER BY h.part, h.n
"""
).columns(
    from_status=PaymentEvent.__table__.c.from_status.type,
    to_status=PaymentEvent.__table__.c.to_status.type,
    actor=PaymentEventNote.__table__.c.actor.type,
    reason=PaymentEventNote.__table__.c.reason.type,
    occurred_at=PaymentEvent.__table__.c.occurred_at.type,
)


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def benefits_for_payer(self, payer_id: int) -> Sequence[Row[str, int, str, bool]]:
        """(code, id, kind, payer may pay it) for every benefit in the catalogue, in one query."""
        return self.session.execute(_BENEFITS_FOR_PAYER, {"payer_id": payer_id}).all()

    def benefit_names_for_payer(self, payer_id: int) -> Sequence[Row[str, str, str]]:
        """(code, Swedish name, English name) of the benefits the payer may pay, by code."""
        query = (
            select(Benefit.code, Benefit.name_sv, Benefit.name_en)
            .join(PayerBenefit, PayerBenefit.benefit_id == Benefit.id)
            .where(PayerBenefit.payer_id == payer_id)
            .order_by(Benefit.code)
        )
        return self.session.execute(query).all()

    # --- single payments -------------------------------------------------------------------------

    def insert_registered(
        self, values: dict[str, object], *, status: PaymentStatus = PaymentStatus.REGISTERED
    ) -> tuple[int, dt.datetime] | None:
        """Insert a registered payment (values keyed by COPY_COLUMNS without status and batch); returns
        (id, registered_at), or None when the payer already used the reference, in the table or for
        an archived payment.

        In a savepoint: when the archive moves the reference out of the table while the insert waits
        on it, the insert goes in and the archive's trigger refuses it at the statement's end. The
        savepoint is rolled back then, and the reference is used already, as it is."""
        try:
            with self.session.begin_nested():
                row = self.session.execute(_INSERT_REGISTERED, {**values, "status": status.value}).first()
        except DBAPIError as error:
            if isinstance(error.orig, pg_errors.UniqueViolation):
                return None
            raise
        return (row[0], row[1]) if row is not None else None

    def get_for_payer(self, payer_id: int, payment_id: int) -> PaymentRow | None:
        """One of the payer's payments, in the table or archived."""
        query = _with_labels().where(Payment.payer_id == payer_id, Payment.id == payment_id)
        row = self.session.execute(query).first()
        if row is not None:
            return row
        archived = ARCHIVED_PAYMENTS.c
        return self._archived(archived.payer_id == payer_id, archived.id == payment_id)

    def get_by_reference(self, payer_id: int, reference: str) -> PaymentRow | None:
        """The payer's payment of this reference, in the table or archived."""
        query = _with_labels().where(Payment.payer_id == payer_id, Payment.reference == reference)
        row = self.session.execute(query).first()
        if row is not None:
            return row
        archived = ARCHIVED_PAYMENTS.c
        return self._archived(archived.payer_id == payer_id, archived.reference == reference)

    def _archived(self, *where: ColumnElement[bool]) -> PaymentRow | None:
        """An archived payment as a payment row: a Payment of no session, to read only."""
        archived = ARCHIVED_PAYMENTS.c
        query = (
            select(ARCHIVED_PAYMENTS, Payee.id_scheme, Payee.identifier, Benefit.code)
            .join(Payee, Payee.id == archived.payee_id)
            .join(Benefit, Benefit.id == archived.benefit_id)
            .where(*where)
        )
        row = self.session.execute(query).first()
        if row is None:
            return None
        payment = Payment(**{c.key: row._mapping[ARCHIVED_PAYMENTS.c[c.key]] for c in Payment.__table__.columns})
        return payment, row._mapping[Payee.id_scheme], row._mapping[Payee.identifier], row._mapping[Benefit.code]

    def lock_for_payer(self, payer_id: int, payment_id: int) -> Payment | None:
        """One of the payer's payments, locked to change it; an archived one is brought back into the
        table first (decision 0035): if the change is refused after all, the caller's rollback
        leaves it archived."""
        query = select(Payment).where(Payment.payer_id == payer_id, Payment.id == payment_id).with_for_update()
        found = self.session.scalar(query)
        if found is None and ArchiveRepository(self.session).restore([payment_id], payer_id=payer_id):
            found = self.session.scalar(query)
        return found

    def list_for_payer(
        self,
        payer_id: int,
        filters: PaymentFilter,
        *,
        after: int | None,
        limit: int,
        within: tuple[int, int] | None = None,
    ) -> Sequence[Row[Any]]:
        """A page of the payer's payments in the listing's order, from after the cursor, as rows of
        LISTED_COLUMNS; ``within`` (lowest id, highest id) keeps the page to a window of ids, both
        ends included. Archived payments among them (decision 0035).

        The page's ids are found first, its payees and benefits looked up after: joined before the
        limit, a window whose payments all matched looked up the payee of each (10,000 lookups for a
        page of 100; decision 0037). The ids come from the payments table and from the archive, a
        page from each in the listing's order, merged: one view of both read every archived key of
        the payer before a page's first (decision 0035). A payer's payments to a person come from the
        view by payee, which reads the person's payments alone."""
        newest_first = filters.newest_first
        bounds: dict[str, Any] = {"after": after, "newest_first": newest_first, "within": within}
        if filters.payees is not None and not filters.reference:
            persons = select(Payee.id).where(tuple_(Payee.id_scheme, Payee.identifier).in_(filters.payees))
            query = _filtered(select(ByPayee.id, cast(null(), Boolean).label("archived")), ByPayee, filters)
            query = query.where(ByPayee.payee_id.in_(persons), *_payer_range(payer_id, **bounds, entity=ByPayee))
            parts = [_in_order(query, ByPayee, newest_first=newest_first).limit(limit)]
        else:
            live = _filtered(select(Payment.id, literal(False).label("archived")), Payment, filters)
            live = live.where(*_payer_range(payer_id, **bounds))
            parts = [_in_order(live, Payment, newest_first=newest_first).limit(limit)]
            kept = _archived_ids(payer_id, filters, bounds)
            if kept is not None:
                parts.append(_in_order(kept, _archived_entity(filters), newest_first=newest_first).limit(limit))
        page = self.session.execute(_merged(parts, newest_first=newest_first, limit=limit)).all()
        if not page:
            return []
        # the page's payments by a constant statement: built for each page, the statement with the
        # archive's part took longer to build than to run (5 of 7 ms)
        params = {"ids": [r[0] for r in page], "archived": [r[1] for r in page], "payer_id": payer_id}
        return self.session.execute(_PAGE_ROWS_OF[newest_first], params).all()

    def listing_horizon(
        self,
        payer_id: int,
        *,
        after: int | None,
        newest_first: bool,
        payments: int,
        within: tuple[int, int] | None = None,
    ) -> tuple[int, int] | None:
        """The window of a page that reads at most ``payments`` of the payer's payments in the table,
        and a fifth as many archived ones, from after the cursor (and within that range of ids, if
        given), in the listing's order: the id of the first payment it reads and of the last it may
        read. None when fewer are left. Index-only reads of the payer's (payer, id) index and of the
        archive's keys.

        Both ends bound the page's scan: with the cursor alone on the near side, a first page's range
        began at the first id of all, and the planner read it by the primary key, every other payer's
        payments before the payer's first included (72,749 rows for a window of 10,000 at ten million
        payments, 41.8 ms against 5.5 in `EXPLAIN ANALYZE`; decision 0037).

        An archived payment a filter is tried on is read from its person's year row: about ten times
        a row of the table (decision 0035), so a page reads fewer of them and its time stays bounded."""
        probes = []  # each part's first payment and the last it may read, in one statement
        for entity, count in ((Payment, payments), (ArchivedPaymentKey, max(1, payments // ARCHIVED_READ_SHARE))):
            where = _payer_range(payer_id, after=after, newest_first=newest_first, within=within, entity=entity)
            query = _in_order(select(entity.id).where(*where), entity, newest_first=newest_first)
            probes += [query.limit(1).scalar_subquery(), query.offset(count - 1).limit(1).scalar_subquery()]
        table_start, table_end, archive_start, archive_end = self.session.execute(select(*probes)).one()
        starts = [int(start) for start in (table_start, archive_start) if start is not None]
        ends = [int(end) for end in (table_end, archive_end) if end is not None]
        if not ends:
            return None
        if newest_first:
            return max(starts), max(ends)  # the nearer of the two ends
        return min(starts), min(ends)

    def events(
        self, payment_id: int
    ) -> Sequence[Row[PaymentStatus | None, PaymentStatus, str, str | None, dt.datetime]]:
        """The payment's history, oldest first, each transition with its note's actor and reason: its
        rows in the table, or an archived payment's moments (decision 0040)."""
        return self.session.execute(_HISTORY, {"id": payment_id}).all()

    def move(self, payment: Payment, to: PaymentStatus, *, actor: str, reason: str | None) -> None:
        """Change a locked payment's status and append the transition to its history."""
        current = payment.status  # read before the UPDATE, which refreshes the loaded object
        self.session.execute(update(Payment).where(Payment.id == payment.id).values(status=to, updated_at=func.now()))
        self.add_event(payment.id, current, to, actor=actor, reason=reason)

    def lock(self, payment_id: int) -> Payment | None:
        """A payment locked to change it, an archived one brought back first (as ``lock_for_payer``)."""
        query = select(Payment).where(Payment.id == payment_id).with_for_update()
        found = self.session.scalar(query)
        if found is None and ArchiveRepository(self.session).restore([payment_id]):
            found = self.session.scalar(query)
        return found

    def holds_by_id(self, hold_ids: Sequence[int]) -> dict[int, PaymentHold]:
        if not hold_ids:
            return {}
        return {h.id: h for h in self.session.scalars(select(PaymentHold).where(PaymentHold.id.in_(hold_ids)))}

    def add_hold(self, hold: PaymentHold) -> PaymentHold:
        self.session.add(hold)
        self.session.flush()
        self.session.refresh(hold)
        return hold

    def get_hold(self, hold_id: int) -> PaymentHold | None:
        return self.session.get(PaymentHold, hold_id)

    def set_payment(self, payment_id: int, **values: object) -> None:
        self.session.execute(update(Payment).where(Payment.id == payment_id).values(updated_at=func.now(), **values))

    def set_hold(self, hold_id: int, **values: object) -> None:
        self.session.execute(update(PaymentHold).where(PaymentHold.id == hold_id).values(**values))

    def add_event(
        self, payment_id: int, from_status: PaymentStatus | None, to: PaymentStatus, *, actor: str, reason: str | None
    ) -> None:
        [note] = record_event_notes(self.session, [(actor, reason)])
        self.session.execute(
            insert(PaymentEvent).values(payment_id=payment_id, from_status=from_status, to_status=to, note_id=note)
        )

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(Payment.status, func.count()).group_by(Payment.status))
        return {str(status): int(n) for status, n in rows}

    def archived_by_status(self) -> dict[str, int]:
        """The archived payments by status (decision 0035), from the archive's own count."""
        rows = self.session.execute(select(ArchivedStatusTotal.status, ArchivedStatusTotal.payments))
        return {str(status): int(n) for status, n in rows if n}

    def count_payees(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Payee)) or 0)

    def estimated_rows(self, table: str) -> int | None:
        """PostgreSQL's estimate of a table's rows (from its last ANALYZE); None before the first."""
        found = self.session.execute(_ESTIMATED_ROWS, {"table": table}).scalar()
        return int(found) if found is not None and found >= 0 else None

    def estimated_by_status(self, rows: int) -> dict[str, int] | None:
        """Payments by status from the planner's statistics (the most common values and their
        shares), for ``rows`` payments; None when there are no statistics yet."""
        found = self.session.execute(_STATUS_STATISTICS).first()
        if found is None or found.vals is None:
            return None
        return {str(v): round(f * rows) for v, f in zip(found.vals, found.freqs, strict=True)}

    # --- batches ---------------------------------------------------------------------------------

    def batch_by_hash(self, payer_id: int, content_sha256: bytes) -> PaymentBatch | None:
        query = select(PaymentBatch).where(
            PaymentBatch.payer_id == payer_id, PaymentBatch.content_sha256 == content_sha256
        )
        return self.session.scalar(query)

    def batch(self, batch_id: int) -> PaymentBatch | None:
        return self.session.get(PaymentBatch, batch_id)

    def batch_range(self, payer_id: int, batch_id: int) -> tuple[int | None, int | None] | None:
        """The range of ids one of the payer's batches recorded (None, None while it is written); None
        if the payer has no such batch."""
        query = select(PaymentBatch.ids_from, PaymentBatch.ids_to).where(
            PaymentBatch.payer_id == payer_id, PaymentBatch.id == batch_id
        )
        found = self.session.execute(query).one_or_none()
        return None if found is None else (found[0], found[1])

    def batch_for_payer(self, payer_id: int, batch_id: int) -> PaymentBatch | None:
        query = select(PaymentBatch).where(PaymentBatch.payer_id == payer_id, PaymentBatch.id == batch_id)
        return self.session.scalar(query)

    def last_payment_id(self) -> int:
        """The id the payments' sequence handed out last, on any connection (0 before the first):
        every payment inserted after this call gets a higher id."""
        return int(self.session.scalar(_LAST_PAYMENT_ID) or 0)

    def add_batch(self, batch: PaymentBatch) -> PaymentBatch:
        self.session.add(batch)
        self.session.flush()
        return batch

    def raw_connection(self) -> PgConnection[Any]:
        return driver_connection(self.session)

    def copy_payments(self, rows: Iterable[Sequence[object]]) -> None:
        """Stream rows (COPY_COLUMNS order) into ``payments``; a duplicate reference raises UniqueViolation."""
        connection = self.raw_connection()
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY payments ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def copy_payments_csv(self, data: bytes) -> None:
        """Stream CSV (COPY_COLUMNS order, no header) into ``payments``."""
        with (
            self.raw_connection().cursor() as cursor,
            cursor.copy(f"COPY payments ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(data)

    def create_staging(self) -> None:
        """A transaction-scoped table for a batch that needs reconciling with existing payments."""
        columns = ", ".join(COPY_COLUMNS)
        with self.raw_connection().cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS incoming_payments")
            cursor.execute(
                f"CREATE TEMP TABLE incoming_payments ON COMMIT DROP AS "  # noqa: S608 — constant names
                f"SELECT 0::bigint AS line, {columns} FROM payments WITH NO DATA"
            )

    def stage_payments(self, rows: Iterable[Sequence[object]]) -> None:
        """Stream (line, COPY_COLUMNS...) rows into the staging table."""
        with (
            self.raw_connection().cursor() as cursor,
            cursor.copy(f"COPY incoming_payments (line, {', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def staged_duplicates(self) -> Sequence[Row[str, list[int]]]:
        """(reference, lines) for references that occur more than once in the staged batch."""
        return self.session.execute(
            text(
                "SELECT reference, array_agg(line ORDER BY line) AS lines FROM incoming_payments "
                "GROUP BY reference HAVING count(*) > 1 ORDER BY min(line)"
            )
        ).all()

    def staged_conflicts(self, payer_id: int) -> Sequence[Row[int, str, int]]:
        """Staged rows whose reference is already used by a payment with different content."""
        aliased_i = ", ".join(f"i.{c}" for c in CONTENT_COLUMNS)
        aliased_p = ", ".join(f"p.{c}" for c in CONTENT_COLUMNS)
        return self.session.execute(
            text(
                f"SELECT i.line, i.reference, p.id FROM incoming_payments i "  # noqa: S608 — constant names
                f"JOIN (SELECT id, reference, {', '.join(CONTENT_COLUMNS)} FROM payments WHERE payer_id = :payer_id "
                f"UNION ALL SELECT id, reference, {', '.join(CONTENT_COLUMNS)} FROM archived_payments "
                "WHERE payer_id = :payer_id) p "
                f"ON p.reference = i.reference "
                f"WHERE ({aliased_i}) IS DISTINCT FROM ({aliased_p}) ORDER BY i.line"
            ),
            {"payer_id": payer_id},
        ).all()

    def insert_staged_new(self, payer_id: int) -> int:
        """Move staged payments whose reference is new into ``payments``; returns how many."""
        columns = ", ".join(COPY_COLUMNS)
        result = self.session.execute(
            text(
                f"INSERT INTO payments ({columns}) SELECT {columns} FROM incoming_payments i "  # noqa: S608
                "WHERE NOT EXISTS (SELECT 1 FROM payments p "
                "WHERE p.payer_id = :payer_id AND p.reference = i.reference) "
                f"AND {_NOT_ARCHIVED.format(payer=':payer_id', reference='i.reference')}"
            ),
            {"payer_id": payer_id},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # --- the pre-payment account check ----------------------------------------------------------

    def check_range(
        self, *, payer_id: int | None, batch_id: int | None, ids: tuple[int, int]
    ) -> tuple[int, int, int] | None:
        """(lowest id, highest id, count) of the payments the account check would look at, among the
        ids in ``ids`` (inclusive); None if none."""
        params = {"payer_id": payer_id, "batch_id": batch_id, "lo": ids[0], "hi": ids[1]}
        row = self.session.execute(_CHECK_RANGE, params).one()
        return None if row[2] == 0 else (int(row[0]), int(row[1]), int(row[2]))

    def check_accounts(
        self,
        *,
        on: dt.date,
        payer_id: int | None,
        batch_id: int | None,
        ids: tuple[int, int],
        actor: str,
        reasons: dict[str, str],
    ) -> CheckResults:
        """Run the account check on the candidate payments with ids in ``ids`` (inclusive); counts per
        result and the number of status changes."""
        params = {
            "lo": ids[0],
            "hi": ids[1],
            "on": on,
            "payer_id": payer_id,
            "batch_id": batch_id,
            "codes": list(reasons),
            "notes": record_event_notes(self.session, [(actor, reason) for reason in reasons.values()]),
        }
        rows = self.session.execute(_CHECK_ACCOUNTS, params).all()
        return CheckResults(counts={r[0]: r[1] for r in rows}, moved=rows[0][2] if rows else 0)


def record_event_notes(session: Session, notes: Sequence[tuple[str, str | None]]) -> list[int]:
    """The ids of these (actor, reason) notes, each kept once.

    A note already kept is only read. A new one is written in a short transaction of its own, on
    another connection, and committed at once, never inside the caller's transaction: two long
    transactions adding the same new note would otherwise wait on each other until one ended, and an
    account check or a payment run at national size outlasts the lock timeout. A note whose caller
    then rolls back stays, unreferenced: a few bytes that say nothing about any payment."""
    rows = {event_note_id(actor, reason): (actor, reason) for actor, reason in notes}
    if rows:
        kept = set(session.scalars(select(PaymentEventNote.id).where(PaymentEventNote.id.in_(list(rows)))))
        new = [{"id": i, "actor": actor, "reason": reason} for i, (actor, reason) in rows.items() if i not in kept]
        if new:
            bind = session.get_bind()
            engine = bind if isinstance(bind, Engine) else bind.engine
            with engine.begin() as own:
                own.execute(pg_insert(PaymentEventNote).values(new).on_conflict_do_nothing(index_elements=["id"]))
    return [event_note_id(actor, reason) for actor, reason in notes]


# Which payments the pre-payment check looks at: registered ones, and those an earlier check held
# (not those a person held: only a person releases those).
_CHECK_CANDIDATES = """
    (p.status = 'registered' OR (p.status = 'held' AND p.account_check <> 'passed' AND p.hold_id IS NULL))
    AND (CAST(:payer_id AS bigint) IS NULL OR p.payer_id = CAST(:payer_id AS bigint))
    AND (CAST(:batch_id AS bigint) IS NULL OR p.batch_id = CAST(:batch_id AS bigint))
"""
_CHECK_RANGE = text(
    f"SELECT min(p.id), max(p.id), count(*) FROM payments p WHERE p.id BETWEEN :lo AND :hi AND {_CHECK_CANDIDATES}"  # noqa: S608
)
# The pre-payment check as one statement over a range of ids: every candidate payment's account
# looked up in the register (hash joins: one pass over each table, not a probe per payment), the
# result written to the payment, and each status change appended to its history.
_CHECK_ACCOUNTS = text(
    f"""
    WITH candidates AS (
        SELECT p.id, p.status, p.payee_id, p.account_scheme, p.account_number, p.due_date, p.account_check
        FROM payments p
        WHERE p.id BETWEEN :lo AND :hi AND {_CHECK_CANDIDATES}
    ), designated AS (
        SELECT DISTINCT ON (ad.payee_id) ad.payee_id, ad.account_id
        FROM account_designations ad ORDER BY ad.payee_id, ad.id DESC
    ), checked AS (
        SELECT c.id, c.status AS from_status, c.account_check AS before,
            CASE
                WHEN a.id IS NULL THEN 'account_unknown'
                WHEN a.closed_on IS NOT NULL AND a.closed_on <= GREATEST(c.due_date, CAST(:on AS date))
                    THEN 'account_closed'
                WHEN h.account_id IS NULL THEN 'not_holder'
                WHEN d.account_id IS NOT NULL AND d.account_id <> a.id THEN 'not_designated'
                ELSE 'passed'
            END AS result
        FROM candidates c
        JOIN payees pe ON pe.id = c.payee_id
        LEFT JOIN bank_accounts a ON a.account_scheme = c.account_scheme AND a.account_number = c.account_number
        -- at most one current holding per account and holder (partial unique index): no duplicates
        LEFT JOIN account_holders h ON h.account_id = a.id AND h.held_until IS NULL
            AND h.holder_scheme = pe.id_scheme AND h.holder_identifier = pe.identifier
        LEFT JOIN designated d ON d.payee_id = c.payee_id
    ), moved AS (
        UPDATE payments p
        SET status = CASE WHEN ch.result = 'passed' THEN 'verified' ELSE 'held' END,
            account_check = ch.result, updated_at = now()
        FROM checked ch
        WHERE p.id = ch.id AND (ch.from_status = 'registered' OR ch.result IS DISTINCT FROM ch.before)
        RETURNING p.id, ch.from_status, p.status AS to_status, ch.result
    ), logged AS (
        INSERT INTO payment_events (payment_id, from_status, to_status, note_id)
        SELECT m.id, m.from_status, m.to_status, r.note_id
        FROM moved m JOIN unnest(CAST(:codes AS text[]), CAST(:notes AS bigint[])) AS r(code, note_id)
            ON r.code = m.result
        WHERE m.from_status <> m.to_status
        RETURNING 1
    )
    SELECT result, count(*), (SELECT count(*) FROM logged) FROM checked GROUP BY result
    """  # noqa: S608 — constant SQL; every value is a bound parameter
)


@dataclass(frozen=True, slots=True)
class CheckResults:
    counts: dict[str, int]
    moved: int


# The registration hot path: authenticate, check the benefit permission, find or create the payee
# and insert the payment, in one round trip. It inserts only in the plain case — a valid token of a
# payer that pays through Saldo, a permitted benefit as the caller's catalogue knows it, a new
# reference — and returns no row otherwise; the caller then takes the documented route.
_REGISTER_FOR_CALLER = f"""
WITH caller AS (
    SELECT token.payer_id FROM ({PAYER_TOKEN}) AS token WHERE token.connection_model <> 'analysis_only'
), permitted AS (
    SELECT c.payer_id FROM caller c
    JOIN payer_benefits pb ON pb.payer_id = c.payer_id AND pb.benefit_id = %(benefit_id)s
    JOIN benefits b ON b.id = pb.benefit_id AND b.code = %(benefit_code)s AND b.kind = %(benefit_kind)s
), found AS (
    {FIND_PAYEE}
), wanted AS (
    SELECT 1 WHERE EXISTS (SELECT 1 FROM permitted) AND NOT EXISTS (SELECT 1 FROM found)
), created AS (
    {CREATE_PAYEE}
), payee AS (
    SELECT id FROM found UNION ALL SELECT id FROM created
)
INSERT INTO payments (payer_id, reference, payee_id, payee_name, benefit_id, amount_minor, currency,
    decision_reference, period_start, period_end, due_date, account_scheme, account_number, remittance_info, status)
SELECT pm.payer_id, %(reference)s, py.id, %(payee_name)s, %(benefit_id)s, %(amount_minor)s, %(currency)s,
    %(decision_reference)s, %(period_start)s, %(period_end)s, %(due_date)s, %(account_scheme)s, %(account_number)s,
    %(remittance_info)s, 'registered'
FROM permitted pm, payee py
WHERE {_NOT_ARCHIVED.format(payer="pm.payer_id", reference="CAST(%(reference)s AS varchar)")}
ON CONFLICT (payer_id, reference) DO NOTHING
RETURNING id, registered_at
"""  # noqa: S608 — composed of constant statements only
_CATALOGUE = "SELECT code, id, kind FROM benefits"


class AsyncRegistration:
    """The registration hot path's statements, on a psycopg async pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def catalogue(self) -> list[tuple[str, int, str]]:
        """(code, id, kind) of every benefit."""
        async with self.pool.connection() as connection:
            cursor = await connection.execute(_CATALOGUE)
            return [(str(r[0]), int(r[1]), str(r[2])) for r in await cursor.fetchall()]

    async def register(self, params: dict[str, object]) -> tuple[int, dt.datetime] | None:
        """Insert a registered payment for the caller; (id, registered_at), or None to take the documented route."""
        async with self.pool.connection() as connection:
            try:
                cursor = await connection.execute(_REGISTER_FOR_CALLER, params, prepare=True)
            except pg_errors.UniqueViolation:
                # the archive moved this reference out of the table while the insert waited on it: the
                # documented route, in a transaction of its own, finds it archived
                return None
            row = await cursor.fetchone()
        return None if row is None else (int(row[0]), row[1].astimezone(dt.UTC))


# A payer's plain listing (no filter; a cursor, an order and a limit), its caller's token checked in
# the same statement: the listing's hot path. One row with a NULL id when the page is empty; no row
# for an unknown or revoked token. The page's bounds are those of PaymentRepository.list_for_payer
# without a window (a range of the (payer, id) index, the cursor a row comparison on its side), and
# its columns LISTED_COLUMNS. The caller's payer is a value the scan starts from (a subquery run
# once): joined to the scan instead, it was a filter on every row, and a first page newest first
# walked the whole index (71 ms at a million payments; 1.2 ms so). Decision 0038.
# Archived payments among them (decision 0035): a page of ids from the payments table and one from the
# archive's keys, each in the listing's order, merged; then each payment from where it is.
_LISTING_COLUMNS = ", ".join(LISTED_COLUMNS)
# A page's payments from its ids ({page}, as g: id, and archived true, false or null for either), each
# from where it is, then their labels: an archived one read on its own (LIMIT 1), so that the planner
# probes the key of each id and never reads all of the payer's keys ({payer}) to join them.
_PAGE_PAYMENT_COLUMNS = ", ".join(
    dict.fromkeys(
        [*(c.split(".")[1] for c in LISTED_COLUMNS if c.startswith("p.")), "payee_id", "benefit_id", "hold_id"]
    )
)
_PAGE_ROWS = f"""
    SELECT {{columns}} FROM {{page}} CROSS JOIN LATERAL (
        SELECT {_PAGE_PAYMENT_COLUMNS} FROM payments WHERE id = g.id AND g.archived IS NOT TRUE
        UNION ALL
        (SELECT {_PAGE_PAYMENT_COLUMNS} FROM archived_payments
          WHERE payer_id = {{payer}} AND id = g.id AND g.archived IS NOT FALSE LIMIT 1)
    ) p
    JOIN payees e ON e.id = p.payee_id JOIN benefits b ON b.id = p.benefit_id
    LEFT JOIN payment_holds h ON h.id = p.hold_id
"""  # noqa: S608 — constant names
_PAGE_ROWS_OF = {
    newest_first: text(
        _PAGE_ROWS.format(
            columns=_LISTING_COLUMNS,
            page="unnest(CAST(:ids AS bigint[]), CAST(:archived AS boolean[])) AS g(id, archived)",
            payer="CAST(:payer_id AS bigint)",
        )
        + f"ORDER BY 1 {'DESC' if newest_first else 'ASC'}"
    )
    for newest_first in (False, True)
}
_LISTING_FOR_CALLER = """
WITH caller AS (
    SELECT found.payer_id FROM ({payer}) AS found
), page AS (
    SELECT id, archived FROM (
        (SELECT p.id, false AS archived FROM payments p WHERE {bounds}
          ORDER BY p.payer_id {order}, p.id {order} LIMIT %(limit)s)
        UNION ALL
        (SELECT k.id, true FROM archived_payment_keys k WHERE {key_bounds}
          ORDER BY k.payer_id {order}, k.id {order} LIMIT %(limit)s)
    ) AS both_parts ORDER BY id {order} LIMIT %(limit)s
), listed AS ({rows})
SELECT l.* FROM caller c LEFT JOIN listed l ON true
ORDER BY 1 {order}
"""
_CALLER = "(SELECT payer_id FROM caller)"


def _listing(payer: str, *, newest_first: bool) -> str:
    """The listing statement, with the caller's payer found by ``payer`` (a one-row query)."""
    beyond, within, order = ("<", ">=", "DESC") if newest_first else (">", "<=", "ASC")
    return _LISTING_FOR_CALLER.format(
        payer=payer,
        bounds=f"(p.payer_id, p.id) {beyond} ({_CALLER}, %(after)s) AND p.payer_id {within} {_CALLER}",
        key_bounds=f"(k.payer_id, k.id) {beyond} ({_CALLER}, %(after)s) AND k.payer_id {within} {_CALLER}",
        order=order,
        rows=_PAGE_ROWS.format(columns=_LISTING_COLUMNS, page="page g", payer=_CALLER),
    )


# by newest_first: the token checked in the same statement
LISTING = {newest_first: _listing(PAYER_TOKEN, newest_first=newest_first) for newest_first in (False, True)}
# The same in two, beside a replica (decision 0039): the token's payer on the primary, which knows
# at once of a revoked token, then the page of that payer on the replica.
_PAYER_OF_TOKEN = f"SELECT token.payer_id FROM ({PAYER_TOKEN}) AS token"  # noqa: S608 — a constant statement
LISTING_OF_PAYER = {
    newest_first: _listing("SELECT %(payer_id)s AS payer_id", newest_first=newest_first)
    for newest_first in (False, True)
}


class AsyncListing:
    """The listing hot path's statements, on a psycopg async pool, and on the replica's when one is
    set and fit to read (``reads``)."""

    def __init__(self, pool: AsyncConnectionPool, reads: AsyncReads | None = None) -> None:
        self.pool = pool
        self.reads = reads

    async def page(
        self, secret_sha256: bytes, *, after: int | None, limit: int, newest_first: bool
    ) -> tuple[list[tuple[Any, ...]], ReadFrom] | None:
        """Up to ``limit`` of the caller's payments from after the cursor, as rows of LISTED_COLUMNS
        ([] for none), and where they were read; None for an unknown or revoked token."""
        cursor_at = after if after is not None else (_NO_ID_AFTER if newest_first else 0)
        # bigint whatever its size, as the column is (psycopg would send a small cursor as smallint,
        # and prepare the statement once more for each type)
        params: dict[str, Any] = {"secret": secret_sha256, "after": Int8(cursor_at), "limit": limit}
        chosen = PRIMARY if self.reads is None else await self.reads.choose()
        if chosen is PRIMARY or self.reads is None:
            rows = await _all(self.pool, LISTING[newest_first], params)
            return None if not rows else ([] if rows[0][0] is None else rows, PRIMARY)
        caller = await _all(self.pool, _PAYER_OF_TOKEN, params)
        if not caller:
            return None
        params["payer_id"] = Int8(caller[0][0])
        statement = LISTING_OF_PAYER[newest_first]
        try:
            rows = await _all(self.reads.pool, statement, params)
        except pg_errors.OperationalError:  # stopped since it was asked, or its replay cancelled the read
            self.reads.forget()
            rows, chosen = await _all(self.pool, statement, params), PRIMARY
        return [] if rows[0][0] is None else rows, chosen


async def _all(pool: AsyncConnectionPool, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    async with pool.connection() as connection:
        cursor = await connection.execute(statement, params, prepare=True)
        return await cursor.fetchall()


class UploadRepository:
    """Payment files sent in the browser and the progress of their check."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, upload: PayerUpload) -> PayerUpload:
        self.session.add(upload)
        self.session.flush()
        return upload

    def get(self, upload_id: int) -> PayerUpload | None:
        return self.session.get(PayerUpload, upload_id)

    def latest_for_payer(self, payer_id: int, limit: int) -> Sequence[PayerUpload]:
        query = select(PayerUpload).where(PayerUpload.payer_id == payer_id).order_by(PayerUpload.id.desc())
        return self.session.scalars(query.limit(limit)).all()

    def report(self, upload_id: int, checked: int, at: dt.datetime) -> None:
        """The heartbeat of a check still running (a finished one is left as it is)."""
        self.session.execute(
            update(PayerUpload)
            .where(PayerUpload.id == upload_id, PayerUpload.status == UploadStatus.CHECKING)
            .values(records_checked=checked, progress_at=at)
        )

    def finish(
        self,
        upload_id: int,
        *,
        status: UploadStatus,
        checked: int,
        result: dict[str, object] | None,
        error: str | None,
        at: dt.datetime,
    ) -> None:
        self.session.execute(
            update(PayerUpload)
            .where(PayerUpload.id == upload_id)
            .values(status=status, records_checked=checked, result=result, error=error, progress_at=at, finished_at=at)
        )


# --- a large file stored over several connections, committed together (two-phase commit) ------------

PART_PREFIX = "saldo-batch"  # prepared transactions holding part of a batch: "saldo-batch:<batch id>:<part>"
PART_LOCK_SPACE = 0x5A1DB  # advisory lock namespace (first key) held by a batch's own transaction while it lives
_COPY_CSV = f"COPY payments ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"


def part_lock_key(batch_id: int) -> int:
    """The second advisory-lock key for a batch (an int4; two batches sharing one only wait for each other)."""
    return batch_id % 2_147_483_647


def batch_parts_pending(session: Session, batch_id: int) -> bool:
    """Whether parts of a batch are still prepared, not yet committed (its payments not all visible)."""
    query = text("SELECT EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE :p)")
    return bool(session.execute(query, {"p": f"{PART_PREFIX}:{batch_id}:%"}).scalar_one())


def prepared_capacity(session: Session) -> int:
    """How many transactions the server can hold prepared (``max_prepared_transactions``; 0 by default)."""
    return int(session.execute(text("SHOW max_prepared_transactions")).scalar_one())


def lock_batch_parts(session: Session, batch_id: int) -> None:
    """Held until the batch's transaction ends: while it is held, nobody settles the batch's parts."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": PART_LOCK_SPACE, "key": part_lock_key(batch_id)}
    )


class PartWriter:
    """A connection of its own that stores part of a batch's payments in its own transaction, which
    is then prepared (PREPARE TRANSACTION) and committed or rolled back with the batch."""

    def __init__(self, engine: Engine, batch_id: int, part: int, *, lock_timeout_ms: int) -> None:
        self.gid = f"{PART_PREFIX}:{batch_id}:{part}"
        self._pooled = engine.raw_connection()
        driver = self._pooled.driver_connection
        assert isinstance(driver, PgConnection)
        self._connection: PgConnection[Any] = driver
        # A reference stored by another part is waited for, not reported: give up soon and let the
        # caller reconcile the batch on one connection, where such a duplicate is found and reported.
        self._connection.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")

    def copy_csv(self, data: bytes) -> None:
        """Stream CSV (COPY_COLUMNS order, no header) into ``payments``."""
        with self._connection.cursor() as cursor, cursor.copy(_COPY_CSV) as copy:
            copy.write(data)

    def prepare(self) -> None:
        self._connection.execute(f"PREPARE TRANSACTION '{self.gid}'")

    def close(self) -> None:
        """Back to the pool; a part not prepared is rolled back."""
        self._connection.rollback()
        self._pooled.close()


def settle_batch_parts(engine: Engine, batch_id: int | None = None) -> list[tuple[str, bool]]:
    """Commit the prepared parts of every batch whose transaction committed, roll back those of every
    batch whose transaction ended without; a batch whose transaction is still running is left alone.
    Returns (prepared transaction, committed) for each part settled."""
    pattern = f"{PART_PREFIX}:{batch_id}:%" if batch_id is not None else f"{PART_PREFIX}:%"
    settled: list[tuple[str, bool]] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        gids = connection.execute(
            text("SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE :p ORDER BY gid"),
            {"p": pattern},
        ).scalars()
        by_batch: dict[int, list[str]] = {}
        for gid in gids:
            by_batch.setdefault(int(gid.split(":")[1]), []).append(gid)
        for batch, parts in by_batch.items():
            key = {"space": PART_LOCK_SPACE, "key": part_lock_key(batch)}
            if not connection.execute(text("SELECT pg_try_advisory_lock(:space, :key)"), key).scalar_one():
                continue  # the batch's transaction is still running; it settles its parts itself
            try:
                committed = (
                    connection.execute(select(PaymentBatch.id).where(PaymentBatch.id == batch)).first() is not None
                )
                verb = "COMMIT" if committed else "ROLLBACK"
                for gid in parts:
                    try:
                        connection.exec_driver_sql(f"{verb} PREPARED '{gid}'")
                    except DBAPIError as exc:
                        if not isinstance(exc.orig, pg_errors.UndefinedObject):
                            raise
                        continue  # settled meanwhile by another process
                    settled.append((gid, committed))
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:space, :key)"), key)
    return settled


class ActorRepository:
    """The names behind the actor codes a history records: payers, their users, staff and banks."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def payer_names(self, ids: set[int]) -> dict[int, str]:
        return dict(self.session.execute(select(Payer.id, Payer.name).where(Payer.id.in_(ids))).all()) if ids else {}

    def payer_user_names(self, ids: set[int]) -> dict[int, str]:
        query = select(PayerUser.id, PayerUser.name).where(PayerUser.id.in_(ids))
        return dict(self.session.execute(query).all()) if ids else {}

    def staff_names(self, usernames: set[str]) -> dict[str, str]:
        query = select(StaffMember.username, StaffMember.name).where(StaffMember.username.in_(usernames))
        return dict(self.session.execute(query).all()) if usernames else {}

    def bank_names(self, keys: set[str]) -> dict[str, str]:
        """Each bank's name by its id (as text) and by its BIC, for the keys given."""
        if not keys:
            return {}
        ids = {int(k) for k in keys if k.isdigit()}
        names: dict[str, str] = {}
        query = select(Bank.id, Bank.bic, Bank.name).where(Bank.id.in_(ids) | Bank.bic.in_(keys))
        for bank_id, bic, name in self.session.execute(query):
            names[str(bank_id)] = names[bic] = name
        return names


_ARCHIVABLE = ", ".join(f"'{s.value}'" for s in ARCHIVABLE_STATUSES)
_RARE = ", ".join(f"'{s.value}'" for s in RARE_STATUSES)
# The month's archivable payments, locked first in a statement of their own: the statement that moves
# them then takes its snapshot after every transaction that changed one of them has ended, so it
# reads each payment's history whole (decision 0040).
_ARCHIVE_LOCK = text(
    f"""
SELECT id FROM payments WHERE due_date >= :start AND due_date < :end AND status IN ({_ARCHIVABLE})
FOR UPDATE
"""  # noqa: S608 — the statuses are this module's constants
)
# One statement: the locked payments' keys written, each with its history as the moments it went
# through (moments not seen before added), their rows added to their persons' year rows (merged with a
# year row already there, in due-date order, with the names they were paid under), and then they and
# their histories leave the tables. The triggers on payments and payment_events check, at the
# statement's end, that every payment removed has its key and its place in a year row, and every
# history removed its moments in the key.
_ARCHIVE = text(
    f"""
WITH moving AS (
  SELECT * FROM payments WHERE id = ANY(CAST(:ids AS bigint[])) AND status IN ({_ARCHIVABLE})
), events AS (
  SELECT e.* FROM payment_events e JOIN moving m ON e.payment_id = m.id
), added AS (
  INSERT INTO payment_event_moments (note_id, occurred_at, from_status, to_status)
  SELECT DISTINCT note_id, occurred_at, from_status, to_status FROM events
  ON CONFLICT DO NOTHING
  RETURNING *
), moments AS (
  SELECT * FROM added UNION ALL SELECT * FROM payment_event_moments
), histories AS (
  SELECT e.payment_id, array_agg(o.id ORDER BY e.id) AS moments
    FROM events e JOIN moments o
      ON o.note_id = e.note_id AND o.occurred_at = e.occurred_at AND o.to_status = e.to_status
     AND coalesce(o.from_status, '') = coalesce(e.from_status, '')
   GROUP BY e.payment_id
), keys AS (
  INSERT INTO archived_payment_keys (id, payee_id, payer_id, reference, rare_status, moments)
  SELECT m.id, m.payee_id, m.payer_id, m.reference, CASE WHEN m.status IN ({_RARE}) THEN m.status END, h.moments
    FROM moving m LEFT JOIN histories h ON h.payment_id = m.id
), histories_gone AS (
  DELETE FROM payment_events e USING events v WHERE e.payment_id = v.payment_id AND e.id = v.id
), totals AS (
  INSERT INTO archived_run_totals AS t (run_id, payer_id, status, currency, payments, amount_minor)
  SELECT run_id, payer_id, status, currency, count(*), sum(amount_minor) FROM moving
   WHERE run_id IS NOT NULL GROUP BY 1, 2, 3, 4
  ON CONFLICT (run_id, payer_id, status, currency) DO UPDATE
     SET payments = t.payments + excluded.payments, amount_minor = t.amount_minor + excluded.amount_minor
), statuses AS (
  INSERT INTO archived_status_totals AS t (status, payments) SELECT status, count(*) FROM moving GROUP BY status
  ON CONFLICT (status) DO UPDATE SET payments = t.payments + excluded.payments
), years AS (
  INSERT INTO archived_payment_years AS y (payee_id, year, payments, payee_names)
  SELECT payee_id, extract(year FROM due_date)::int,
         array_agg(jsonb_populate_record(NULL::payments, to_jsonb(m) || '{{"reference": null}}') ORDER BY due_date, id),
         array_agg(DISTINCT payee_name ORDER BY payee_name)
    FROM moving m GROUP BY 1, 2
  ON CONFLICT (payee_id, year) DO UPDATE
     SET payments = (SELECT array_agg(p ORDER BY p.due_date, p.id) FROM unnest(y.payments || excluded.payments) p),
         payee_names = (SELECT array_agg(DISTINCT n ORDER BY n) FROM unnest(y.payee_names || excluded.payee_names) n)
)
DELETE FROM payments p USING moving m WHERE p.id = m.id
"""  # noqa: S608 — the statuses are this module's constants
)


# Back into the table, with its reference from its key and its history from its moments (a late change
# to an archived payment: a bank's return after settlement, a report withdrawn), the history's rows in
# its order. Its key and its place in the year row go (its name too, unless another payment of the row
# was paid under it), and its run's archived totals lose it, in the same statement; a year row left
# empty is removed after.
_RESTORE = text(
    """
WITH gone AS (
  DELETE FROM archived_payment_keys k
   WHERE k.id = ANY(CAST(:ids AS bigint[])) AND (CAST(:payer_id AS bigint) IS NULL OR k.payer_id = :payer_id)
  RETURNING k.id, k.payee_id, k.reference, k.moments
), histories AS (
  INSERT INTO payment_events (payment_id, from_status, to_status, note_id, occurred_at)
  SELECT g.id, o.from_status, o.to_status, o.note_id, o.occurred_at
    FROM gone g CROSS JOIN LATERAL unnest(g.moments) WITH ORDINALITY AS u(moment, n)
    JOIN payment_event_moments o ON o.id = u.moment
   ORDER BY g.id, u.n
), back AS (
  SELECT jsonb_populate_record(p, jsonb_build_object('reference', g.reference)) AS payment, y.payee_id, y.year
    FROM gone g JOIN archived_payment_years y ON y.payee_id = g.payee_id
    CROSS JOIN LATERAL unnest(y.payments) p WHERE p.id = g.id
), years AS (
  UPDATE archived_payment_years y
     SET payments = coalesce(
       (SELECT array_agg(p ORDER BY p.due_date, p.id) FROM unnest(y.payments) p
         WHERE p.id NOT IN (SELECT id FROM gone)),
       '{}'),
         payee_names = coalesce(
       (SELECT array_agg(DISTINCT p.payee_name ORDER BY p.payee_name) FROM unnest(y.payments) p
         WHERE p.id NOT IN (SELECT id FROM gone)),
       '{}')
    FROM (SELECT DISTINCT payee_id, year FROM back) b
   WHERE y.payee_id = b.payee_id AND y.year = b.year
), totals AS (
  UPDATE archived_run_totals t SET payments = t.payments - c.payments, amount_minor = t.amount_minor - c.amount
    FROM (SELECT (payment).run_id, (payment).payer_id, (payment).status, (payment).currency, count(*) AS payments,
                 sum((payment).amount_minor) AS amount
            FROM back WHERE (payment).run_id IS NOT NULL GROUP BY 1, 2, 3, 4) c
   WHERE t.run_id = c.run_id AND t.payer_id = c.payer_id AND t.status = c.status AND t.currency = c.currency
), statuses AS (
  UPDATE archived_status_totals t SET payments = t.payments - c.payments
    FROM (SELECT (payment).status, count(*) AS payments FROM back GROUP BY 1) c
   WHERE t.status = c.status
)
INSERT INTO payments SELECT (payment).* FROM back
RETURNING id, payee_id, run_id
"""
)
_EMPTIED = text(
    "WITH years AS (DELETE FROM archived_payment_years WHERE payee_id = ANY(CAST(:payees AS bigint[])) "
    "AND cardinality(payments) = 0) "
    "DELETE FROM archived_run_totals WHERE run_id = ANY(CAST(:runs AS bigint[])) AND payments = 0"
)


class ArchiveRepository:
    """The payment archive's writes (decision 0035). Its reads are the views the readers name."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def archive(self, start: dt.date, end: dt.date) -> int:
        """Move every archivable payment due in [start, end), with its history, into the archive; how
        many moved."""
        ids = list(self.session.scalars(_ARCHIVE_LOCK, {"start": start, "end": end}))
        if not ids:
            return 0
        result = self.session.execute(_ARCHIVE, {"ids": ids})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def reclaim_year_rows(self) -> None:
        """VACUUM the year rows, outside any transaction: a month's archive writes anew the year row
        of every person it touched, and the next month's rows take the old versions' space instead
        of growing the table. Without it, a run over many months keeps a version of each row for
        every month. It waits for no lock and holds up no reader or writer."""
        bind = self.session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) archived_payment_years"))

    def oldest_archivable_due_date(self) -> dt.date | None:
        """The due date of the oldest payment in the table that may be archived (a read of the whole
        table, once a month: after the first run it holds a few months)."""
        return self.session.scalar(select(func.min(Payment.due_date)).where(Payment.status.in_(ARCHIVABLE_STATUSES)))

    def restore(self, payment_ids: Sequence[int], *, payer_id: int | None = None) -> list[int]:
        """Bring these archived payments (of ``payer_id``, if given) back into the table; the ids
        brought back. An id not archived, or another payer's, is left alone."""
        if not payment_ids:
            return []
        params = {"ids": list(payment_ids), "payer_id": payer_id}
        rows = self.session.execute(_RESTORE, params).all()
        if rows:
            payees = sorted({int(r[1]) for r in rows})
            runs = sorted({int(r[2]) for r in rows if r[2] is not None})
            self.session.execute(_EMPTIED, {"payees": payees, "runs": runs})
        return [int(r[0]) for r in rows]
