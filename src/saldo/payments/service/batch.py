"""Ingesting a batch of payments (JSON, NDJSON or CSV) atomically: all of it or none of it.

The common case — a nightly CSV file of new payments — is checked a column at a time
(columns.py) and COPYed straight into ``payments`` while the next block is checked. Files the
columnar reader cannot take (NDJSON, JSON, unusual CSV) go record by record through the same
validator. A large CSV file is stored over several connections at once, each in a transaction
of its own that is prepared (two-phase commit) and committed when — and only if — the batch's own
transaction commits (docs/decisions/0013-large-files-over-several-connections.md).

When a reference turns out to exist already (a re-sent or partly re-sent file, or a reference twice
in one file), the batch is loaded again, on one connection, through a staging table and reconciled:
identical payments count as already registered, different ones are reported. Memory stays bounded
by the block size whatever the file size.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import errors as pg_errors
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction

from saldo.kit.crash_points import reach
from saldo.kit.problem import ErrorItem
from saldo.kit.text_lines import utf8_lines
from saldo.payees.service import resolve_payees
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import BatchFormatError
from saldo.payments.models import BatchFormat, PaymentBatch
from saldo.payments.repository import (
    COPY_COLUMNS,
    PartWriter,
    PaymentRepository,
    lock_batch_parts,
    prepared_capacity,
    settle_batch_parts,
)
from saldo.payments.schemas import BatchAccepted, BatchRejected
from saldo.payments.service.columns import ColumnChecker, FastPathUnavailableError, canonical_rows, read_blocks
from saldo.payments.service.policy import RegistrationPolicy, build_validator
from saldo.payments.service.readers import read_csv_header, read_records
from saldo.payments.service.records import FieldError, RecordRejectedError, RecordValidator, ValidPayment
from saldo.payments.service.register import initial_status

log = logging.getLogger(__name__)
PART_LOCK_TIMEOUT_MS = 2_000  # a part waiting this long on a row of another part gives way to reconciling
# A part's COPY met a reference stored already, by another part or another transaction:
_DUPLICATE_ERRORS = (pg_errors.UniqueViolation, pg_errors.LockNotAvailable, pg_errors.DeadlockDetected)
PAYEE_CACHE_LIMIT = 500_000  # payee ids remembered within one batch (about 100 MB); bounds memory
Progress = Callable[[int], None]
PayeeKey = tuple[str, str]


class Mode(Enum):
    COLUMNAR = "columnar"  # CSV, checked a column at a time, COPY into payments
    RECORDS = "records"  # any format, record at a time, COPY into payments
    RECONCILE = "reconcile"  # record at a time into a staging table, then compared with what exists


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
    """A COPY met a reference that already exists; reconcile instead."""


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
    repository = PaymentRepository(session)
    previous = repository.batch_by_hash(payer.payer_id, source.sha256)
    if previous is not None:
        return BatchAccepted.model_validate({**previous.summary, "replayed": True})
    loader = _Loader(session, payer, source, policy, build_validator(session, payer.payer_id, policy, today), progress)
    mode = Mode.COLUMNAR if source.format is BatchFormat.CSV else Mode.RECORDS
    while True:
        savepoint = session.begin_nested()
        try:
            outcome = loader.run(mode)
        except FastPathUnavailableError:
            savepoint.rollback()
            loader.drop_parts()
            mode = Mode.RECORDS
            continue
        except _DuplicateReferenceError:
            savepoint.rollback()
            loader.drop_parts()
            mode = Mode.RECONCILE
            continue
        except BaseException:
            savepoint.rollback()
            loader.drop_parts()
            raise
        if isinstance(outcome, BatchRejected):
            savepoint.rollback()
            loader.drop_parts()
        else:
            savepoint.commit()
            loader.prepare_parts(outcome.batch_id)
        return outcome


def settle_left_behind(engine: Engine) -> int:
    """Settle the prepared parts of batches whose process ended before settling them (run at start):
    committed if the batch committed, rolled back otherwise. Returns how many parts were settled."""
    settled = settle_batch_parts(engine)
    for gid, committed in settled:
        log.warning("%s left prepared by an ended process: %s", gid, "committed" if committed else "rolled back")
    return len(settled)


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _settle_parts_when_done(session: Session, batch_id: int) -> None:
    """When the session's transaction ends, commit the batch's prepared parts if the batch committed
    and roll them back otherwise. A process that ends before that leaves them to
    ``settle_batch_parts`` at the next start."""
    engine, done = _engine_of(session), [False]

    def settle(_session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None or done[0]:
            return
        done[0] = True
        reach("ingest.committed")  # the batch's transaction has ended (committed); its parts are still prepared
        try:
            settle_batch_parts(engine, batch_id)
        except Exception:  # the transaction has ended; the parts are settled at the next start
            log.exception("could not settle the prepared parts of batch %s", batch_id)

    event.listen(session, "after_transaction_end", settle)


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
        self.payee_ids: dict[PayeeKey, int] = {}
        self.parts: list[PartWriter] = []
        self.part_pending: list[Future[None] | None] = []
        self.next_part = 0

    def run(self, mode: Mode) -> BatchAccepted | BatchRejected:
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
                ids_from=self.repository.last_payment_id() + 1,
            )
        )
        if mode is Mode.RECONCILE:
            self.repository.create_staging()
        errors = ErrorReport(limit=self.policy.max_reported_errors)
        if mode is Mode.COLUMNAR:
            self._open_parts(batch.id)
        # Writer threads: PostgreSQL stores block N (on the batch's connection, or on each part's)
        # while this thread checks block N+1.
        threads = max(1, len(self.parts))
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="saldo-copy") as writer:
            self.writer = writer
            self.pending: Future[None] | None = None
            try:
                records = (
                    self._load_columns(batch.id, errors)
                    if mode is Mode.COLUMNAR
                    else self._load_records(batch.id, errors, reconcile=mode is Mode.RECONCILE)
                )
            finally:
                self._wait()
        if self.progress is not None:
            self.progress(records)
        if records == 0 and errors.total == 0:
            errors.add(None, None, None, "the batch holds no payments")
        if errors.total == 0 and mode is Mode.RECONCILE:
            self._reconcile(errors)
        if errors.total:
            return errors.rejection(records)
        registered = self.repository.insert_staged_new(self.payer.payer_id) if mode is Mode.RECONCILE else records
        accepted = BatchAccepted(
            batch_id=batch.id, records=records, registered=registered, already_registered=records - registered
        )
        batch.records, batch.registered, batch.already_registered = records, registered, records - registered
        batch.ids_to = self.repository.last_payment_id()  # every part's payments are in by now
        batch.summary = accepted.model_dump(mode="json", exclude={"replayed"})
        self.session.flush()
        return accepted

    # --- record at a time ------------------------------------------------------------------------

    def _load_records(self, batch_id: int, errors: ErrorReport, *, reconcile: bool) -> int:
        chunk: list[tuple[int, ValidPayment]] = []
        records = 0
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
                        self._write_rows(batch_id, chunk, reconcile=reconcile)
                        chunk = []
                        if self.progress is not None:
                            self.progress(records)
            except BatchFormatError as exc:
                errors.add(exc.line, None, None, exc.reason)
        if chunk and not errors.total:
            self._write_rows(batch_id, chunk, reconcile=reconcile)
        return records

    def _write_rows(self, batch_id: int, chunk: list[tuple[int, ValidPayment]], *, reconcile: bool) -> None:
        self._wait()
        ids = self._payee_ids({v.payee_key for _, v in chunk})
        payer_id, status = self.payer.payer_id, initial_status(self.payer).value
        if reconcile:
            staged = [
                (line, payer_id, v.reference, *v.content(ids[v.payee_key]), status, batch_id) for line, v in chunk
            ]
            self.pending = self.writer.submit(self.repository.stage_payments, staged)
        else:
            rows = [(payer_id, v.reference, *v.content(ids[v.payee_key]), status, batch_id) for _, v in chunk]
            self.pending = self.writer.submit(self.repository.copy_payments, rows)

    # --- a column at a time ----------------------------------------------------------------------

    def _load_columns(self, batch_id: int, errors: ErrorReport) -> int:
        with self.source.path.open("rb") as stream:
            try:
                header, delimiter = read_csv_header(utf8_lines(stream))
            except BatchFormatError as exc:
                errors.add(exc.line, None, None, exc.reason)
                return 0
        checker = ColumnChecker(self.validator)
        records = 0
        for first_line, block in read_blocks(self.source.path, header, delimiter):
            checked = checker.check(first_line, block)
            records += checked.rows
            others: list[tuple[int, ValidPayment]] = []
            for line, raw in checked.others:
                try:
                    others.append((line, self.validator.validate(raw)))
                except RecordRejectedError as exc:
                    errors.add_fields(line, line - 1, exc.errors)
            if errors.total:
                continue  # keep checking to report every bad record
            table = pa.concat_tables([checked.accepted, canonical_rows(others)]) if others else checked.accepted
            self._write_table(batch_id, table)
            if self.progress is not None:
                self.progress(records)
        return records

    def _write_table(self, batch_id: int, table: pa.Table) -> None:
        if not self.parts:
            self._wait()  # the batch's connection is busy with the previous block's COPY
        keys = pc.binary_join_element_wise(table["payee_scheme"], table["payee_identifier"], "|")
        distinct = pc.unique(keys).to_pylist()
        ids = self._payee_ids({tuple(k.split("|", 1)) for k in distinct})
        value_ids = pa.array([ids[tuple(k.split("|", 1))] for k in distinct], pa.int64())
        payee_id = pc.take(value_ids, pc.index_in(keys, value_set=pa.array(distinct, pa.string())))
        n = table.num_rows
        columns = {
            "payer_id": pa.repeat(pa.scalar(self.payer.payer_id, pa.int64()), n),
            "payee_id": payee_id,
            "status": pa.repeat(pa.scalar(initial_status(self.payer).value), n),
            "batch_id": pa.repeat(pa.scalar(batch_id, pa.int64()), n),
        }
        ordered = pa.table([columns[c] if c in columns else table[c] for c in COPY_COLUMNS], names=list(COPY_COLUMNS))
        sink = io.BytesIO()
        pacsv.write_csv(ordered, sink, write_options=pacsv.WriteOptions(include_header=False))
        if not self.parts:
            self.pending = self.writer.submit(self.repository.copy_payments_csv, sink.getvalue())
            return
        part = self.next_part % len(self.parts)
        self.next_part += 1
        previous, self.part_pending[part] = self.part_pending[part], None
        if previous is not None:
            _result(previous)
        self.part_pending[part] = self.writer.submit(self.parts[part].copy_csv, sink.getvalue())

    # --- parts: a large file over several connections --------------------------------------------

    def _open_parts(self, batch_id: int) -> None:
        wanted = self.policy.writers
        if wanted < 2 or self.source.path.stat().st_size < self.policy.parallel_bytes:
            return
        capacity = prepared_capacity(self.session)
        if capacity < wanted:
            log.info("storing batch %s on one connection: max_prepared_transactions is %s", batch_id, capacity)
            return
        engine = _engine_of(self.session)
        try:
            for part in range(wanted):
                self.parts.append(PartWriter(engine, batch_id, part, lock_timeout_ms=PART_LOCK_TIMEOUT_MS))
        except BaseException:
            self.drop_parts()
            raise
        self.part_pending = [None] * wanted
        self.next_part = 0

    def prepare_parts(self, batch_id: int) -> None:
        """Prepare every part, to be committed with the batch's transaction (and rolled back without it)."""
        if not self.parts:
            return
        try:
            reach("ingest.before_prepare")  # every part written, none prepared
            lock_batch_parts(self.session, batch_id)  # before any part is prepared: see settle_batch_parts
            _settle_parts_when_done(self.session, batch_id)
            for part in self.parts:
                part.prepare()
            reach("ingest.prepared")  # every part prepared; the batch's transaction not yet committed
        finally:
            self.drop_parts()

    def drop_parts(self) -> None:
        """Give the parts' connections back; a part not prepared is rolled back."""
        parts, self.parts, self.part_pending = self.parts, [], []
        for part in parts:
            try:
                part.close()
            except Exception:  # a broken connection: its transaction is gone with it
                log.exception("closing %s", part.gid)

    # --- shared ----------------------------------------------------------------------------------

    def _payee_ids(self, keys: set[PayeeKey]) -> dict[PayeeKey, int]:
        missing = {k for k in keys if k not in self.payee_ids}
        if missing:
            if len(self.payee_ids) + len(missing) > PAYEE_CACHE_LIMIT:
                self.payee_ids = {k: v for k, v in self.payee_ids.items() if k in keys}
            self.payee_ids.update(resolve_payees(self.session, missing))
        return self.payee_ids

    def _wait(self) -> None:
        """Wait for every COPY under way; then raise the first one's error, if any."""
        pending = [f for f in [self.pending, *self.part_pending] if f is not None]
        self.pending, self.part_pending = None, [None] * len(self.part_pending)
        failure: BaseException | None = None
        for future in pending:
            try:
                _result(future)
            except BaseException as exc:  # raised below, after the others finished
                failure = failure or exc
        if failure is not None:
            raise failure

    def _reconcile(self, errors: ErrorReport) -> None:
        for reference, lines in self.repository.staged_duplicates():
            for line in lines[1:]:
                errors.add(line, None, "reference", f"reference {reference!r} also on line {lines[0]}")
        for line, reference, payment_id in self.repository.staged_conflicts(self.payer.payer_id):
            errors.add(
                line,
                None,
                "reference",
                f"reference {reference!r} is already used by payment {payment_id} with different content",
            )


def _result(future: Future[None]) -> None:
    try:
        future.result()
    except _DUPLICATE_ERRORS as exc:
        raise _DuplicateReferenceError from exc
