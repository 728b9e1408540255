from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from saldo.http.deps import READ_FROM_HEADER, AppSettings, DbReads, DbSession, receive_to_file
from saldo.kit.clock import today
from saldo.kit.dates import IsoDate
from saldo.kit.problem import FILENAME_PATTERN, LINE_PATTERN, Problem
from saldo.payers.http import CurrentPayer
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import BatchFormatError, BatchTooLargeError, PaymentNotFoundError
from saldo.payments.models import BatchFormat, PaymentStatus
from saldo.payments.repository import PaymentFilter
from saldo.payments.schemas import (
    BatchAccepted,
    BatchRejected,
    CancelIn,
    HoldIn,
    PaymentEventOut,
    PaymentIn,
    PaymentOut,
    PaymentPage,
)
from saldo.payments.service.batch import BatchSource, ingest_batch
from saldo.payments.service.cancel import cancel_payment
from saldo.payments.service.hold import hold_payment, release_payment
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.query import (
    get_batch_result,
    get_payment,
    get_payment_by_reference,
    payment_history,
    person_search,
    read_listing,
)
from saldo.payments.service.register import payer_actor, register_payment

router = APIRouter(prefix="/api/v1", tags=["payments"])
LISTING_LIMIT_MAX = 1000  # the most a listing's `limit` may ask for (the setting page_size_max may cap it lower)

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, unknown or revoked API token"},
    422: {"model": Problem, "description": "Invalid input, with every bad field"},
}
BATCH_MEDIA_TYPES = {
    "application/json": BatchFormat.JSON,
    "application/x-ndjson": BatchFormat.NDJSON,
    "application/jsonl": BatchFormat.NDJSON,
    "text/csv": BatchFormat.CSV,
}


@router.post(
    "/payments",
    response_model=PaymentOut,
    status_code=201,
    summary="Register one payment",
    responses={
        **PROBLEMS,
        200: {"model": PaymentOut, "description": "Identical payment already registered"},
        409: {"model": Problem, "description": "Reference already used for a different payment"},
    },
)
def post_payment(
    body: PaymentIn, payer: CurrentPayer, session: DbSession, settings: AppSettings, response: Response
) -> PaymentOut:
    """Register a payment on the payee's transaction account. Sending the same payment again
    (same reference, same content) returns the original with status 200."""
    payment, created = register_payment(
        session, payer=payer, payment=body, policy=RegistrationPolicy.from_settings(settings), today=today()
    )
    session.commit()
    if not created:
        response.status_code = 200
    return payment


READ_FROM: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            READ_FROM_HEADER: {
                "description": "Where the list was read: `primary`, or `replica; lag=<seconds>` (a streaming "
                "replica at most that far behind the primary, so the list may be that old)",
                "schema": {"type": "string"},
            }
        }
    }
}


@router.get("/payments", response_model=PaymentPage, summary="List own payments", responses={**PROBLEMS, **READ_FROM})
def get_payments(
    payer: CurrentPayer,
    session: DbSession,
    reads: DbReads,
    settings: AppSettings,
    status: PaymentStatus | None = None,
    benefit: Annotated[str | None, Query(max_length=32)] = None,
    due_from: IsoDate | None = None,
    due_to: IsoDate | None = None,
    batch_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    reference: Annotated[
        str | None, Query(max_length=64, pattern=LINE_PATTERN, description="References that begin with this")
    ] = None,
    person: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=LINE_PATTERN,
            description="Payments to this person: a personal or organisation number (any form the scheme "
            "takes), or a part of the payee's name",
        ),
    ] = None,
    order: Annotated[
        Literal["oldest", "newest"], Query(description="Registration order, oldest first (default) or newest")
    ] = "oldest",
    after: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="Cursor: `next_after` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=LISTING_LIMIT_MAX)] = 100,
) -> Response:
    """The calling payer's payments in registration order, filtered, one page at a time."""
    filters = person_search(
        PaymentFilter(
            status=status,
            benefit=benefit,
            due_from=due_from,
            due_to=due_to,
            batch_id=batch_id,
            reference=reference or None,
            newest_first=order == "newest",
        ),
        person or "",
    )
    page, read_from = read_listing(
        session, reads, settings, payer_id=payer.payer_id, filters=filters, after=after, limit=limit
    )
    # Built and checked as a PaymentPage already: serialised once, not validated a second time (FastAPI's
    # second pass took 1.9 ms of a 100-payment page, serialising it 0.24 ms; the bytes are the same).
    # A replica's answer may be a moment old: the header says where it was read.
    return Response(
        page.model_dump_json(), media_type="application/json", headers={READ_FROM_HEADER: read_from.header()}
    )


@router.get(
    "/payments/by-reference/{reference}",
    response_model=PaymentOut,
    summary="Get own payment by reference",
    responses={**PROBLEMS, 404: {"model": Problem}},
)
def get_by_reference(reference: str, payer: CurrentPayer, session: DbSession) -> PaymentOut:
    """One of the calling payer's payments, found by the payer's own reference."""
    return get_payment_by_reference(session, payer_id=payer.payer_id, reference=reference)


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentOut,
    summary="Get own payment",
    responses={**PROBLEMS, 404: {"model": Problem}},
)
def get_one(payment_id: int, payer: CurrentPayer, session: DbSession) -> PaymentOut:
    """One of the calling payer's payments. Other payers' payments do not exist for the caller."""
    return get_payment(session, payer_id=payer.payer_id, payment_id=_checked_id(payment_id))


@router.get(
    "/payments/{payment_id}/history",
    response_model=list[PaymentEventOut],
    summary="Status history",
    responses={**PROBLEMS, 404: {"model": Problem}},
)
def get_history(payment_id: int, payer: CurrentPayer, session: DbSession) -> list[PaymentEventOut]:
    """Every status transition of the payment, oldest first, with who made it and why."""
    return payment_history(session, payer_id=payer.payer_id, payment_id=_checked_id(payment_id))


@router.post(
    "/payments/{payment_id}/cancel",
    response_model=PaymentOut,
    summary="Cancel a payment not yet sent",
    responses={**PROBLEMS, 404: {"model": Problem}, 409: {"model": Problem, "description": "Already sent or final"}},
)
def post_cancel(payment_id: int, body: CancelIn, payer: CurrentPayer, session: DbSession) -> PaymentOut:
    """Withdraw a payment that has not been sent to the bank; the reason is kept in its history."""
    payment = cancel_payment(session, payer=payer, payment_id=_checked_id(payment_id), reason=body.reason)
    session.commit()
    return payment


@router.post(
    "/payment-batches",
    status_code=201,
    response_model=BatchAccepted,
    summary="Register a batch of payments (JSON, NDJSON or CSV)",
    responses={
        **PROBLEMS,
        200: {"model": BatchAccepted, "description": "This exact batch was received before"},
        413: {"model": Problem, "description": "Larger than the size limit"},
        415: {"model": Problem, "description": "Not JSON, NDJSON or CSV"},
        422: {"model": BatchRejected | Problem, "description": "Rejected whole, with every bad record"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": PaymentIn.model_json_schema()}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_batch(
    request: Request,
    payer: CurrentPayer,
    session: DbSession,
    settings: AppSettings,
    filename: Annotated[str | None, Query(max_length=255, pattern=FILENAME_PATTERN)] = None,
) -> Response:
    """All payments of the batch are registered, or none: a rejected batch comes back with every
    bad record (line, field, reason). Sending the same batch again returns the first result."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = BATCH_MEDIA_TYPES.get(media_type)
    if fmt is None:
        return JSONResponse(
            Problem(error="unsupported_media_type", detail=f"send {', '.join(BATCH_MEDIA_TYPES)}").model_dump(),
            status_code=415,
        )
    with tempfile.TemporaryDirectory(prefix="saldo-batch-") as folder:
        path = Path(folder) / "batch"
        digest = await receive_to_file(
            request, path, settings.max_upload_bytes, too_large=BatchTooLargeError, empty=BatchFormatError
        )
        source = BatchSource(path=path, format=fmt, sha256=digest, filename=filename)
        outcome = await run_in_threadpool(_ingest, session, payer, source, RegistrationPolicy.from_settings(settings))
    if isinstance(outcome, BatchRejected):
        return JSONResponse(outcome.model_dump(mode="json"), status_code=422)
    return JSONResponse(outcome.model_dump(mode="json"), status_code=200 if outcome.replayed else 201)


def _ingest(
    session: Session, payer: PayerPrincipal, source: BatchSource, policy: RegistrationPolicy
) -> BatchAccepted | BatchRejected:
    outcome = ingest_batch(session, payer=payer, source=source, policy=policy, today=today())
    if isinstance(outcome, BatchAccepted) and not outcome.replayed:
        session.commit()
    return outcome


@router.get(
    "/payment-batches/{batch_id}",
    response_model=BatchAccepted,
    summary="An accepted batch",
    responses={**PROBLEMS, 404: {"model": Problem}},
)
def get_batch(batch_id: int, payer: CurrentPayer, session: DbSession) -> BatchAccepted:
    """The result of one of the calling payer's accepted batches."""
    return get_batch_result(session, payer_id=payer.payer_id, batch_id=_checked_id(batch_id))


@router.post(
    "/payments/{payment_id}/hold",
    response_model=PaymentOut,
    summary="Hold a payment before it is sent",
    responses={**PROBLEMS, 404: {"model": Problem}, 409: {"model": Problem, "description": "Sent, final or held"}},
)
def post_hold(payment_id: int, body: HoldIn, payer: CurrentPayer, session: DbSession) -> PaymentOut:
    """Stop one of the payer's payments that has not been sent, as a recorded decision with a
    reason. A payment run leaves it out of any file not yet written; it stays held until released."""
    hold_payment(
        session,
        payment_id=_checked_id(payment_id),
        actor=payer_actor(payer),
        reason=body.reason,
        payer_id=payer.payer_id,
    )
    session.commit()
    return get_payment(session, payer_id=payer.payer_id, payment_id=payment_id)


@router.post(
    "/payments/{payment_id}/release",
    response_model=PaymentOut,
    summary="Release a payment the payer held",
    responses={**PROBLEMS, 404: {"model": Problem}, 409: {"model": Problem, "description": "Not held by the payer"}},
)
def post_release(payment_id: int, body: HoldIn, payer: CurrentPayer, session: DbSession) -> PaymentOut:
    """Lift the payer's own hold, with a reason; the payment is registered again and goes through
    the account check before a run takes it. A hold the payment authority placed stays."""
    release_payment(
        session,
        payment_id=_checked_id(payment_id),
        actor=payer_actor(payer),
        reason=body.reason,
        payer_id=payer.payer_id,
    )
    session.commit()
    return get_payment(session, payer_id=payer.payer_id, payment_id=payment_id)


def _checked_id(value: int) -> int:
    # ids are bigint; anything outside cannot exist, and must not reach PostgreSQL as an overflow error
    if not 1 <= value <= 2**63 - 1:
        raise PaymentNotFoundError(f"no payment or batch {value} for this payer")
    return value
