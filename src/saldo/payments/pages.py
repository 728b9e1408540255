"""The payer's pages: its payments, each with its history and the payer's decisions on it (hold,
release, cancel), and a payment file uploaded in the browser and checked through the same
all-or-nothing path as the API, with every bad record listed (line, field, reason)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from saldo.kit.clock import today
from saldo.payments.errors import BatchFormatError, BatchTooLargeError, PaymentNotFoundError, TransitionError
from saldo.payments.models import BatchFormat, PaymentStatus
from saldo.payments.repository import PaymentFilter
from saldo.payments.schemas import BatchAccepted, BatchRejected
from saldo.payments.service.batch import BatchSource, ingest_batch
from saldo.payments.service.cancel import cancel_payment
from saldo.payments.service.hold import PAYER_ACTOR_PREFIX, hold_payment, release_payment
from saldo.payments.service.lifecycle import can_transition
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.query import get_payment, list_payments, payment_history
from saldo.payments.service.register import payer_actor
from saldo.settings import Settings
from saldo.web.deps import CurrentPayerSession, DbSession, PathId, check_csrf, save_stream, upload_chunks
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


DECISIONS = ("hold", "release", "cancel")


@router.get("/payer/payments/{payment_id}", response_class=HTMLResponse)
def payment_page(request: Request, session: DbSession, principal: CurrentPayerSession, payment_id: PathId) -> Response:
    """One of the payer's payments: its facts, every transition with who and why, and the decisions
    the payer can still take on it."""
    return _payment(request, session, principal, payment_id, error=None, status=200)


@router.post("/payer/payments/{payment_id}/{decision}", response_class=HTMLResponse)
def decide(
    request: Request,
    session: DbSession,
    principal: CurrentPayerSession,
    payment_id: PathId,
    decision: str,
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Hold, release or cancel one of the payer's payments, with the reason the history keeps. The
    same rules as the API apply: a sent payment can no longer be stopped, and a hold the payment
    authority placed is released by the authority only."""
    check_csrf(principal, csrf)
    if decision not in DECISIONS:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    payer = principal.as_payer()
    if not reason.strip():
        return _payment(request, session, principal, payment_id, error="reason: give the reason", status=422)
    try:
        if decision == "cancel":
            cancel_payment(session, payer=payer, payment_id=payment_id, reason=reason)
        else:
            act = hold_payment if decision == "hold" else release_payment
            act(session, payment_id=payment_id, actor=payer_actor(payer), reason=reason, payer_id=payer.payer_id)
    except PaymentNotFoundError:
        session.rollback()
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    except TransitionError as exc:
        session.rollback()
        return _payment(request, session, principal, payment_id, error=str(exc), status=409)
    session.commit()
    return RedirectResponse(f"/payer/payments/{payment_id}", status_code=303)


def _payment(
    request: Request,
    session: DbSession,
    principal: CurrentPayerSession,
    payment_id: int,
    *,
    error: str | None,
    status: int,
) -> Response:
    payer = principal.as_payer()
    try:
        payment = get_payment(session, payer_id=payer.payer_id, payment_id=payment_id)
    except PaymentNotFoundError:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    held_by_payer = payment.hold is not None and payment.hold.held_by.startswith(PAYER_ACTOR_PREFIX)
    context = {
        "p": payment,
        "history": payment_history(session, payer_id=payer.payer_id, payment_id=payment_id),
        "can_hold": payment.hold is None
        and (payment.status is PaymentStatus.HELD or can_transition(payment.status, PaymentStatus.HELD)),
        "can_release": held_by_payer,
        "held_by_authority": payment.hold is not None and not held_by_payer,
        "can_cancel": can_transition(payment.status, PaymentStatus.CANCELLED),
        "error": error,
    }
    return render(request, "payer/payment.html", context, principal=principal, status_code=status)


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
