"""Ingesting a batch of payments (JSON, NDJSON or CSV) atomically: all of it or none of it.

The common case — a nightly file of new payments — streams through the validator in chunks and is
COPYed straight into ``payments``. When a reference turns out to exist already (a re-sent or partly
re-sent file, or a reference twice in one file), the batch is loaded again through a staging table
and reconciled: identical payments count as already registered, different ones are reported.
Memory stays bounded by the chunk size whatever the file size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import errors as pg_errors
from sqlalchemy.orm import Session

from saldo.payees.service import resolve_payees
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import BatchFormatError
from saldo.payments.models import BatchFormat, PaymentBatch, PaymentStatus
from saldo.payments.repository import PaymentRepository
from saldo.payments.schemas import BatchAccepted, BatchRejected, ErrorItem
from saldo.payments.service.policy import RegistrationPolicy, build_validator
from saldo.payments.service.readers import read_records
from saldo.payments.service.records import FieldError, RecordRejectedError, RecordValidator, ValidPayment
from saldo.payments.service.register import ensure_pays_through_saldo

PAYEE_CACHE_LIMIT = 500_000  # payee ids remembered within one batch; bounds memory on huge files
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class BatchSource:
    """A received batch, already on disk, with its SHA-256 (the batch's idempotency key)."""

    path: Path
    format: BatchFormat
    sha256: bytes
    filename: str | None = None


@dataclass
class ErrorReport:
    limit: int
    total: int = 0
    items: list[ErrorItem] = field(default_factory=list)

    def add(self, line: int | None, record: int | None, field_name: str | None, reason: str) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(ErrorItem(line=line, record=record, field=field_name, reason=reason))

    def add_fields(self, line: int | None, record: int, errors: Iterable[FieldError]) -> None:
        for error in errors:
            self.add(line, record, error.field, error.reason)

    def rejection(self, records: int) -> BatchRejected:
        return BatchRejected(
            records=records, errors_total=self.total, errors=self.items, truncated=self.total > len(self.items)
        )


class _DuplicateReferenceError(Exception):
    """The fast path met a reference that already exists; reconcile instead."""


def ingest_batch(
    session: Session,
    *,
    payer: PayerPrincipal,
    source: BatchSource,
    policy: RegistrationPolicy,
    today: dt.date,
    progress: Progress | None = None,
) -> BatchAccepted | BatchRejected:
    """Register every payment of a batch or none. An identical batch sent again returns the first result."""
    ensure_pays_through_saldo(payer)
    repository = PaymentRepository(session)
    previous = repository.batch_by_hash(payer.payer_id, source.sha256)
    if previous is not None:
        return BatchAccepted.model_validate({**previous.summary, "replayed": True})
    loader = _Loader(session, payer, source, policy, build_validator(session, payer.payer_id, policy, today), progress)
    savepoint = session.begin_nested()
    try:
        outcome = loader.run(reconcile=False)
    except _DuplicateReferenceError:
        savepoint.rollback()
        savepoint = session.begin_nested()
        outcome = loader.run(reconcile=True)
    if isinstance(outcome, BatchRejected):
        savepoint.rollback()
    else:
        savepoint.commit()
    return outcome


class _Loader:
    def __init__(
        self,
        session: Session,
        payer: PayerPrincipal,
        source: BatchSource,
        policy: RegistrationPolicy,
        validator: RecordValidator,
        progress: Progress | None,
    ) -> None:
        self.session = session
        self.repository = PaymentRepository(session)
        self.payer = payer
        self.source = source
        self.policy = policy
        self.validator = validator
        self.progress = progress
        self.payee_ids: dict[tuple[str, str], int] = {}

    def run(self, *, reconcile: bool) -> BatchAccepted | BatchRejected:
        batch = self.repository.add_batch(
            PaymentBatch(
                payer_id=self.payer.payer_id,
                content_sha256=self.source.sha256,
                format=self.source.format,
                filename=self.source.filename,
                records=0,
                registered=0,
                already_registered=0,
                summary={},
            )
        )
        if reconcile:
            self.repository.create_staging()
        errors = ErrorReport(limit=self.policy.max_reported_errors)
        records = self._load(batch.id, errors, reconcile=reconcile)
        if records == 0 and errors.total == 0:
            errors.add(None, None, None, "the batch holds no payments")
        if errors.total == 0 and reconcile:
            self._reconcile(errors)
        if errors.total:
            return errors.rejection(records)
        registered = self.repository.insert_staged_new(self.payer.payer_id) if reconcile else records
        accepted = BatchAccepted(
            batch_id=batch.id, records=records, registered=registered, already_registered=records - registered
        )
        batch.records, batch.registered, batch.already_registered = records, registered, records - registered
        batch.summary = accepted.model_dump(mode="json", exclude={"replayed"})
        self.session.flush()
        return accepted

    def _load(self, batch_id: int, errors: ErrorReport, *, reconcile: bool) -> int:
        """Validate every record; write valid chunks while the next chunk is being validated."""
        chunk: list[tuple[int, ValidPayment]] = []
        records = 0
        # One writer thread: PostgreSQL stores chunk N while this thread validates chunk N+1.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="saldo-copy") as writer:
            pending: Future[None] | None = None
            with self.source.path.open("rb") as stream:
                try:
                    for line, number, raw in read_records(
                        stream, self.source.format, max_json_records=self.policy.max_json_batch
                    ):
                        records = number
                        if isinstance(raw, str):
                            errors.add(line, number, None, raw)
                            continue
                        try:
                            valid = self.validator.validate(raw)
                        except RecordRejectedError as exc:
                            errors.add_fields(line, number, exc.errors)
                            continue
                        if errors.total:
                            continue  # the batch is lost already; keep validating to report every bad record
                        chunk.append((line if line is not None else number, valid))
                        if len(chunk) >= self.policy.chunk_rows:
                            pending = self._write(writer, pending, batch_id, chunk, reconcile=reconcile)
                            chunk = []
                            if self.progress is not None:
                                self.progress(records)
                except BatchFormatError as exc:
                    errors.add(exc.line, None, None, exc.reason)
            if chunk and not errors.total:
                pending = self._write(writer, pending, batch_id, chunk, reconcile=reconcile)
            self._wait(pending)
        if self.progress is not None:
            self.progress(records)
        return records

    def _write(
        self,
        writer: ThreadPoolExecutor,
        pending: Future[None] | None,
        batch_id: int,
        chunk: list[tuple[int, ValidPayment]],
        *,
        reconcile: bool,
    ) -> Future[None]:
        """Wait for the previous chunk, resolve this chunk's payees, and hand it to the writer."""
        self._wait(pending)
        missing = {v.payee_key for _, v in chunk if v.payee_key not in self.payee_ids}
        if missing:
            if len(self.payee_ids) + len(missing) > PAYEE_CACHE_LIMIT:
                self.payee_ids.clear()
            self.payee_ids.update(resolve_payees(self.session, missing))
        payer_id, ids, status = self.payer.payer_id, self.payee_ids, PaymentStatus.REGISTERED.value
        if reconcile:
            staged = [(line, payer_id, v.reference, *v.content(ids[v.payee_key]), status, batch_id) for line, v in chunk]
            return writer.submit(self.repository.stage_payments, staged)
        rows = [(payer_id, v.reference, *v.content(ids[v.payee_key]), status, batch_id) for _, v in chunk]
        return writer.submit(self.repository.copy_payments, rows)

    @staticmethod
    def _wait(pending: Future[None] | None) -> None:
        if pending is None:
            return
        try:
            pending.result()
        except pg_errors.UniqueViolation as exc:
            raise _DuplicateReferenceError from exc

    def _reconcile(self, errors: ErrorReport) -> None:
        for reference, lines in self.repository.staged_duplicates():
            for line in lines[1:]:
                errors.add(line, None, "reference", f"reference {reference!r} also on line {lines[0]}")
        for line, reference, payment_id in self.repository.staged_conflicts(self.payer.payer_id):
            errors.add(
                line, None, "reference",
                f"reference {reference!r} is already used by payment {payment_id} with different content",
            )
