"""The payer's pages: its payments, each with its history and the payer's decisions on it (hold,
release, cancel), and a payment file uploaded in the browser and checked through the same
all-or-nothing path as the API, with every bad record listed (line, field, reason)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from saldo.db.replica import PRIMARY
from saldo.http.deps import READ_FROM_HEADER, AppSettings, DbReads, DbSession, PathId, save_stream, upload_chunks
from saldo.http.i18n import choose_language, number, translations
from saldo.http.rendering import render
from saldo.identity.http import CurrentPayerSession, check_csrf
from saldo.kit.clock import today
from saldo.kit.national_id import InvalidIdentifierError
from saldo.kit.problem import LINE_PATTERN
from saldo.payments.errors import BatchFormatError, BatchTooLargeError, PaymentNotFoundError, TransitionError
from saldo.payments.jobs import check_upload
from saldo.payments.models import BatchFormat, PaymentStatus
from saldo.payments.repository import PaymentFilter
from saldo.payments.schemas import PaymentPage, UploadOut
from saldo.payments.service.actors import name_actors
from saldo.payments.service.batch import BatchSource
from saldo.payments.service.cancel import cancel_payment
from saldo.payments.service.hold import can_hold, hold_payment, payer_may_release, release_payment
from saldo.payments.service.lifecycle import can_transition
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.query import get_payment, list_payments, payer_benefits, payment_history, person_search
from saldo.payments.service.register import payer_actor
from saldo.payments.service.uploads import begin_upload, get_upload, recent_uploads, upload_folder
from saldo.settings import Settings

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
    reads: DbReads,
    principal: CurrentPayerSession,
    settings: AppSettings,
    status: Annotated[PaymentStatus | Literal[""], Query()] = "",
    benefit: Annotated[str, Query(max_length=32, pattern=LINE_PATTERN)] = "",
    due_from: Annotated[dt.date | Literal[""], Query()] = "",
    due_to: Annotated[dt.date | Literal[""], Query()] = "",
    reference: Annotated[str, Query(max_length=64, pattern=LINE_PATTERN)] = "",
    person: Annotated[str, Query(max_length=64, pattern=LINE_PATTERN)] = "",
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """The payer's payments, newest first, 50 at a time: found by reference or person, filtered by
    status, benefit and due date."""
    payer = principal.as_payer()
    reference, person = reference.strip(), person.strip()
    form = {
        "status": status,
        "benefit": benefit,
        "due_from": due_from,
        "due_to": due_to,
        "reference": reference,
        "person": person,
    }
    filters = PaymentFilter(
        status=status or None,
        benefit=benefit or None,
        due_from=due_from or None,
        due_to=due_to or None,
        reference=reference or None,
        newest_first=True,
    )
    error = None
    try:
        filters = person_search(filters, person)
        page, read_from = reads.run(
            lambda reading: list_payments(
                reading,
                payer_id=payer.payer_id,
                filters=filters,
                after=after,
                limit=50,
                read_limit=settings.listing_read_limit,
            ),
            session,
        )
    except InvalidIdentifierError as exc:
        error, page, read_from = str(exc), PaymentPage(items=[], next_after=None), PRIMARY
    searched = {k: str(v) for k, v in form.items() if v}
    benefits = payer_benefits(session, payer.payer_id)
    context = {
        "payer": payer,
        "page": page,
        "form": form,
        "searched": bool(searched),
        "next_query": urlencode({**searched, "after": page.next_after}) if page.next_after else None,
        "read_limit": settings.listing_read_limit,
        "statuses": list(PaymentStatus),
        "benefits": benefits,
        "benefit_names": {b.code: b for b in benefits},
        "error": error,
        "read_from": read_from,
    }
    page_answer = render(request, "payer/home.html", context, principal=principal, status_code=422 if error else 200)
    page_answer.headers[READ_FROM_HEADER] = read_from.header()
    return page_answer


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
    held_by_payer = payment.hold is not None and payer_may_release(payment.hold.held_by)
    history = payment_history(session, payer_id=payer.payer_id, payment_id=payment_id)
    context = {
        "p": payment,
        "history": history,
        "actors": name_actors(session, [e.actor for e in history]),
        "can_hold": can_hold(payment.status, payment.hold.id if payment.hold else None),
        "can_release": held_by_payer,
        "held_by_authority": payment.hold is not None and not held_by_payer,
        "can_cancel": can_transition(payment.status, PaymentStatus.CANCELLED),
        "error": error,
    }
    return render(request, "payer/payment.html", context, principal=principal, status_code=status)


@router.get("/payer/upload", response_class=HTMLResponse)
def upload_form(request: Request, session: DbSession, principal: CurrentPayerSession) -> HTMLResponse:
    """Choose a payment file (CSV, NDJSON or JSON, docs/formats/payment-file.md)."""
    return _result(request, session, principal, error=None, status=200)


@router.post("/payer/upload", response_class=HTMLResponse)
async def upload(request: Request, session: DbSession, principal: CurrentPayerSession) -> Response:
    """Receive the file and start its check in the background; the browser goes to the upload's
    page and watches the payments being checked. A file refused before its check starts (none, of
    another kind, empty, too large) gets the form again with the reason."""
    settings: Settings = request.app.state.settings
    payer = principal.as_payer()
    form = await request.form(max_files=1, max_fields=2)
    csrf = form.get("csrf")
    check_csrf(principal, csrf if isinstance(csrf, str) else None)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _result(request, session, principal, error="choose a file to send", status=422)
    fmt = FORMATS.get(Path(upload.filename).suffix.lower())
    if fmt is None:
        return _result(request, session, principal, error="the file must be .csv, .ndjson or .json", status=422)
    folder = upload_folder(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.part"
    try:
        digest = await save_stream(
            upload_chunks(upload),
            path,
            settings.max_upload_bytes,
            too_large=BatchTooLargeError,
            empty=BatchFormatError,
        )
    except (BatchTooLargeError, BatchFormatError) as exc:
        path.unlink(missing_ok=True)
        status = 413 if isinstance(exc, BatchTooLargeError) else 422
        return _result(request, session, principal, error=str(exc), status=status)
    source = BatchSource(path=path, format=fmt, sha256=digest, filename=Path(upload.filename).name[:255])

    def begin() -> int:
        started = begin_upload(session, payer=payer, source=source, size_bytes=path.stat().st_size)
        session.commit()
        return started.id

    upload_id = await run_in_threadpool(begin)
    request.app.state.upload_checks.submit(
        check_upload,
        request.app.state.session_factory,
        upload_id=upload_id,
        payer=payer,
        source=source,
        policy=RegistrationPolicy.from_settings(settings),
        today=today(),
        slots=request.app.state.upload_slots,
    )
    return RedirectResponse(f"/payer/uploads/{upload_id}", status_code=303)


@router.get("/payer/uploads/{upload_id}", response_class=HTMLResponse)
def upload_page(request: Request, session: DbSession, principal: CurrentPayerSession, upload_id: PathId) -> Response:
    """The upload's progress while it is checked, then its result: what was registered, or every
    bad record by line, field and reason."""
    payer = principal.as_payer()
    try:
        found = get_upload(session, payer_id=payer.payer_id, upload_id=upload_id)
    except PaymentNotFoundError:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    status = 422 if found.state in ("rejected", "failed", "interrupted") else 200
    context = {"payer": payer, "u": found, "shown": ERRORS_SHOWN}
    return render(request, "payer/upload_status.html", context, principal=principal, status_code=status)


@router.get("/payer/uploads/{upload_id}/progress")
def upload_progress(
    request: Request, session: DbSession, principal: CurrentPayerSession, upload_id: PathId
) -> Response:
    """How far the check has come, for the page's progress bar: the state, the percentage and the
    sentence the page shows, in the page's language."""
    payer = principal.as_payer()
    try:
        found = get_upload(session, payer_id=payer.payer_id, upload_id=upload_id)
    except PaymentNotFoundError:
        return JSONResponse({"detail": f"no upload {upload_id} for this payer"}, status_code=404)
    return JSONResponse(
        {
            "state": found.state,
            "records_checked": found.records_checked,
            "expected_records": found.expected_records,
            "percent": found.percent,
            "message": progress_message(found, choose_language(request)),
        }
    )


def progress_message(found: UploadOut, language: str) -> str:
    """ "12 000 of about 3 100 000 payments checked", as the page and its script show it."""
    gettext = translations(language).gettext
    checked = number(found.records_checked, language)
    if found.expected_records is None:
        return gettext("%(checked)s payments checked") % {"checked": checked}
    expected = number(found.expected_records, language)
    return gettext("%(checked)s of about %(expected)s payments checked") % {"checked": checked, "expected": expected}


def _result(
    request: Request, session: DbSession, principal: CurrentPayerSession, *, error: str | None, status: int
) -> HTMLResponse:
    payer = principal.as_payer()
    context = {"payer": payer, "error": error, "uploads": recent_uploads(session, payer_id=payer.payer_id)}
    return render(request, "payer/upload.html", context, principal=principal, status_code=status)
