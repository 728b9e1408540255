"""The payer's pages: its payments, and a payment file uploaded in the browser and checked through
the same all-or-nothing path as the API, with every bad record listed (line, field, reason)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from saldo.kit.clock import today
from saldo.payments.errors import BatchFormatError, BatchTooLargeError
from saldo.payments.models import BatchFormat, PaymentStatus
from saldo.payments.repository import PaymentFilter
from saldo.payments.schemas import BatchAccepted, BatchRejected
from saldo.payments.service.batch import BatchSource, ingest_batch
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.query import list_payments
from saldo.settings import Settings
from saldo.web.deps import CurrentPayerSession, DbSession, check_csrf, save_stream, upload_chunks
from saldo.web.rendering import render

router = APIRouter(include_in_schema=False)
FORMATS = {
    ".csv": BatchFormat.CSV,
    ".ndjson": BatchFormat.NDJSON,
    ".jsonl": BatchFormat.NDJSON,
    ".json": BatchFormat.JSON,
}
ERRORS_SHOWN = 500  # the page lists this many bad records; the total is always given


@router.get("/payer", response_class=HTMLResponse)
def payer_home(
    request: Request,
    session: DbSession,
    principal: CurrentPayerSession,
    status: PaymentStatus | None = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """The payer's payments, newest registrations last, 50 at a time, filtered by status."""
    payer = principal.as_payer()
    page = list_payments(session, payer_id=payer.payer_id, filters=PaymentFilter(status=status), after=after, limit=50)
    context = {"payer": payer, "page": page, "status": status, "statuses": list(PaymentStatus)}
    return render(request, "payer/home.html", context, principal=principal)


@router.get("/payer/upload", response_class=HTMLResponse)
def upload_form(request: Request, principal: CurrentPayerSession) -> HTMLResponse:
    """Choose a payment file (CSV, NDJSON or JSON, docs/formats/payment-file.md)."""
    return render(request, "payer/upload.html", {"payer": principal.as_payer(), "result": None}, principal=principal)


@router.post("/payer/upload", response_class=HTMLResponse)
async def upload(request: Request, session: DbSession, principal: CurrentPayerSession) -> HTMLResponse:
    """Check and register the file whole, or nothing: the page shows what was registered or every bad
    record. Sending the same file again shows the first result."""
    settings: Settings = request.app.state.settings
    payer = principal.as_payer()
    form = await request.form(max_files=1, max_fields=2)
    csrf = form.get("csrf")
    check_csrf(principal, csrf if isinstance(csrf, str) else None)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _result(request, principal, error="choose a file to send", status=422)
    fmt = FORMATS.get(Path(upload.filename).suffix.lower())
    if fmt is None:
        return _result(request, principal, error="the file must be .csv, .ndjson or .json", status=422)
    with tempfile.TemporaryDirectory(prefix="saldo-upload-") as folder:
        path = Path(folder) / "batch"
        try:
            digest = await save_stream(
                upload_chunks(upload),
                path,
                settings.max_upload_bytes,
                too_large=BatchTooLargeError,
                empty=BatchFormatError,
            )
        except (BatchTooLargeError, BatchFormatError) as exc:
            return _result(
                request, principal, error=str(exc), status=413 if isinstance(exc, BatchTooLargeError) else 422
            )
        source = BatchSource(path=path, format=fmt, sha256=digest, filename=Path(upload.filename).name[:255])
        policy = RegistrationPolicy.from_settings(settings)

        def ingest() -> BatchAccepted | BatchRejected:
            outcome = ingest_batch(session, payer=payer, source=source, policy=policy, today=today())
            if isinstance(outcome, BatchAccepted) and not outcome.replayed:
                session.commit()
            return outcome

        try:
            outcome = await run_in_threadpool(ingest)
        except BatchFormatError as exc:
            return _result(request, principal, error=str(exc), status=422)
    status = 422 if isinstance(outcome, BatchRejected) else 200
    return _result(request, principal, outcome=outcome, filename=source.filename, status=status)


def _result(
    request: Request,
    principal: CurrentPayerSession,
    *,
    outcome: BatchAccepted | BatchRejected | None = None,
    error: str | None = None,
    filename: str | None = None,
    status: int,
) -> HTMLResponse:
    context = {
        "payer": principal.as_payer(),
        "result": outcome,
        "error": error,
        "filename": filename,
        "shown": ERRORS_SHOWN,
    }
    return render(request, "payer/upload.html", context, principal=principal, status_code=status)
