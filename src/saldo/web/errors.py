"""Domain errors to HTTP responses, all in one shape (``Problem``): what went wrong and where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from saldo.accesslog.purposes import PurposeError
from saldo.accounts.errors import (
    AccountNotFoundError,
    BankFileTooLargeError,
    BankFileUnreadableError,
    DesignationRefusedError,
    InvalidCheckError,
    RecordsRejectedError,
    TooManyChecksError,
)
from saldo.analysis.service.run import AnalysisError
from saldo.banks.errors import BankExistsError, InvalidBankError, InvalidBankTokenError, UnknownBankError
from saldo.benefits.errors import UnknownBenefitError
from saldo.cases.errors import CaseNotFoundError, CaseStateError, PurposeRequiredError, TriageError
from saldo.decisions.errors import DecisionFileEmptyError, DecisionFileTooLargeError
from saldo.identity.errors import CsrfError, NotActingError, NotLoggedInError
from saldo.inforequests.errors import (
    CategoryRefusedError,
    InvalidAnswerError,
    RequestNotFoundError,
    RequestStateError,
)
from saldo.kit.account_number import InvalidAccountError
from saldo.kit.national_id import InvalidIdentifierError
from saldo.kit.problem import ErrorItem, Problem
from saldo.kit.tabular import FileRejectedError
from saldo.mediation.errors import BankMessageError, BankMessageTooLargeError, RunError, RunNotFoundError
from saldo.messages.errors import InvalidWebhookError, NoWebhookError
from saldo.notifications.errors import NothingToNotifyError, NotificationNotFoundError, OutcomeRejectedError
from saldo.payers.errors import InvalidTokenError, PayerExistsError, UnknownPayerError
from saldo.payments.errors import (
    BatchFormatError,
    BatchTooLargeError,
    PaymentNotFoundError,
    PaymentRejectedError,
    ReferenceConflictError,
    TransitionError,
)
from saldo.registers.errors import (
    InvalidKeeperTokenError,
    NotTheKeeperError,
    RegisterFileEmptyError,
    RegisterFileTooLargeError,
)
from saldo.staff.errors import ForbiddenError, InvalidStaffTokenError, StaffExistsError, UnknownStaffError
from saldo.web.rendering import render


def _is_page(request: Request) -> bool:
    """A browser page (the workbench, the citizen's pages), answered in HTML rather than as a Problem."""
    return request.url.path.startswith(("/me", "/staff", "/payer"))


def problem(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    body = Problem(error=error, detail=detail, errors=extra.pop("errors", []), extra=extra or None)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _field_of(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _validation_items(errors: Sequence[Any]) -> list[ErrorItem]:
    return [ErrorItem(line=None, record=None, field=_field_of(e.get("loc", ())), reason=_reason_of(e)) for e in errors]


def _reason_of(error: Any) -> str:
    """Pydantic's message, without the "Value error, " it puts before a validator's own words."""
    return str(error.get("msg")).removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    """Register one handler per domain error."""

    async def request_invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(
            422, "invalid_request", "the request does not match the API", errors=_validation_items(exc.errors())
        )

    async def payment_rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PaymentRejectedError)
        items = [ErrorItem(line=None, record=None, field=e.field, reason=e.reason) for e in exc.errors]
        return problem(422, "payment_rejected", "the payment was not registered", errors=items)

    async def records_rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RecordsRejectedError)
        items = [ErrorItem(line=e.line, record=e.record, field=e.field, reason=e.reason) for e in exc.errors]
        return problem(422, "records_rejected", str(exc), errors=items, error_total=exc.total)

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        # Never the driver's message: it can name hosts and users.
        response = problem(503, "unavailable", "the database cannot be reached; try again shortly")
        response.headers["Retry-After"] = "5"
        return response

    async def bank_message_refused(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BankMessageError)
        item = ErrorItem(line=exc.line, record=None, field=None, reason=exc.reason)
        return problem(422, "message_refused", f"nothing was applied: {exc}", errors=[item])

    async def file_rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FileRejectedError)
        items = [ErrorItem(line=e.line, record=None, field=e.field, reason=e.reason) for e in exc.errors]
        return problem(422, "file_rejected", str(exc), errors=items, error_total=exc.error_count)

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, ReferenceConflictError):
            return problem(409, "reference_conflict", str(exc), payment_id=exc.payment_id, fields=exc.fields)
        return problem(409, "conflict", str(exc))

    async def not_logged_in(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return problem(401, "unauthenticated", str(exc))
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        audience = "staff" if request.url.path.startswith("/staff") else "citizen"
        if request.url.path.startswith("/payer"):
            audience = "payer"
        return RedirectResponse(f"/login?{urlencode({'next': target, 'audience': audience})}", status_code=303)

    async def not_acting(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return problem(403, "not_acting", str(exc))
        return RedirectResponse("/staff/assist", status_code=303)

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return problem(403, "csrf", str(exc))
        return PlainTextResponse(str(exc), status_code=403)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        if exc.status_code == 400:  # FastAPI could not read the body at all (not UTF-8, not JSON)
            item = ErrorItem(line=None, record=None, field="body", reason="not readable as JSON in UTF-8")
            return problem(422, "invalid_request", "the request does not match the API", errors=[item])
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        response = problem(exc.status_code, code.get(exc.status_code, "http_error"), str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    handlers: dict[type[Exception], Any] = {
        StarletteHTTPException: http_error,
        NotLoggedInError: not_logged_in,
        NotActingError: not_acting,
        CsrfError: csrf_refused,
        RequestValidationError: request_invalid,
        PaymentRejectedError: payment_rejected,
        RecordsRejectedError: records_rejected,
        OperationalError: unavailable,
        BankExistsError: conflict,
        ReferenceConflictError: conflict,
        TransitionError: conflict,
        PayerExistsError: conflict,
        RunError: conflict,
        BankMessageError: bank_message_refused,
        FileRejectedError: file_rejected,
    }
    simple: dict[type[Exception], tuple[int, str]] = {
        InvalidTokenError: (401, "unauthenticated"),
        InvalidBankTokenError: (401, "unauthenticated"),
        InvalidKeeperTokenError: (401, "unauthenticated"),
        NotTheKeeperError: (403, "not_the_keeper"),
        RegisterFileTooLargeError: (413, "file_too_large"),
        RegisterFileEmptyError: (422, "file_unreadable"),
        AccountNotFoundError: (404, "not_found"),
        UnknownBankError: (404, "not_found"),
        InvalidBankError: (422, "invalid_bank"),
        DesignationRefusedError: (422, "designation_refused"),
        BankFileUnreadableError: (422, "file_unreadable"),
        BankFileTooLargeError: (413, "file_too_large"),
        TooManyChecksError: (413, "too_many_checks"),
        InvalidCheckError: (422, "invalid_check"),
        PaymentNotFoundError: (404, "not_found"),
        UnknownPayerError: (404, "not_found"),
        UnknownBenefitError: (422, "unknown_benefit"),
        InvalidIdentifierError: (422, "invalid_identifier"),
        InvalidAccountError: (422, "invalid_account"),
        BatchFormatError: (422, "batch_unreadable"),
        BatchTooLargeError: (413, "batch_too_large"),
        BankMessageTooLargeError: (413, "file_too_large"),
        RunNotFoundError: (404, "not_found"),
        DecisionFileTooLargeError: (413, "file_too_large"),
        DecisionFileEmptyError: (422, "file_unreadable"),
        InvalidStaffTokenError: (401, "unauthenticated"),
        ForbiddenError: (403, "forbidden"),
        StaffExistsError: (409, "conflict"),
        UnknownStaffError: (404, "not_found"),
        CaseNotFoundError: (404, "not_found"),
        TriageError: (409, "triage_refused"),
        PurposeRequiredError: (403, "purpose_required"),
        PurposeError: (422, "invalid_purpose"),
        CaseStateError: (409, "case_state"),
        CategoryRefusedError: (422, "category_refused"),
        RequestNotFoundError: (404, "not_found"),
        RequestStateError: (409, "request_state"),
        InvalidAnswerError: (422, "invalid_answer"),
        NotificationNotFoundError: (404, "not_found"),
        OutcomeRejectedError: (422, "outcome_rejected"),
        NothingToNotifyError: (409, "nothing_to_notify"),
        InvalidWebhookError: (422, "invalid_webhook"),
        NoWebhookError: (404, "not_found"),
        AnalysisError: (422, "analysis_refused"),
    }
    for error_type, (status, code) in simple.items():

        async def handle(request: Request, exc: Exception, status: int = status, code: str = code) -> Response:
            if _is_page(request):
                return render(request, "error.html", {"reason": str(exc)}, status_code=status)
            return problem(status, code, str(exc))

        handlers[error_type] = handle
    for error_type, handler in handlers.items():
        app.add_exception_handler(error_type, handler)
