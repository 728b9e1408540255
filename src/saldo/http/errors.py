"""Errors to HTTP answers, all in one shape (``Problem``): what went wrong and where. Each domain
declares how its errors look (``saldo.kit.problem.ProblemError``: status, error code, items) next
to the errors themselves; one handler here answers for all of them, as a Problem to the API and as
an error page to a browser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from saldo.http.rendering import render
from saldo.kit.problem import ErrorItem, Problem, ProblemError

PAGE_PREFIXES = ("/me", "/staff", "/payer")  # browser pages, answered in HTML rather than as a Problem


def _is_page(request: Request) -> bool:
    return request.url.path.startswith(PAGE_PREFIXES)


def problem(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    body = Problem(error=error, detail=detail, errors=extra.pop("errors", []), extra=extra or None)
    return _json(status, body)


def _json(status: int, body: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def problem_response(exc: ProblemError) -> JSONResponse:
    """The Problem an error declares for itself."""
    if exc.status is None:  # a family's base raised as it is: a defect, and a test keeps it from happening
        raise TypeError(f"{type(exc).__name__} declares no HTTP status") from exc
    return _json(exc.status, exc.problem())


def _field_of(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _validation_items(errors: Sequence[Any]) -> list[ErrorItem]:
    return [ErrorItem(line=None, record=None, field=_field_of(e.get("loc", ())), reason=_reason_of(e)) for e in errors]


def _reason_of(error: Any) -> str:
    """Pydantic's message, without the "Value error, " it puts before a validator's own words."""
    return str(error.get("msg")).removeprefix("Value error, ")


async def _declared(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    if _is_page(request) and exc.status is not None:
        return render(request, "error.html", {"reason": str(exc)}, status_code=exc.status)
    return problem_response(exc)


async def _request_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem(422, "invalid_request", "the request does not match the API", errors=_validation_items(exc.errors()))


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    # Never the driver's message: it can name hosts and users.
    response = problem(503, "unavailable", "the database cannot be reached; try again shortly")
    response.headers["Retry-After"] = "5"
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
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


def install_error_handlers(app: FastAPI, special: Mapping[type[Exception], Any] = {}) -> None:
    """One handler for every declared error (found through the class's MRO, so a new error is
    answered the day it is written), the framework's own errors, and ``special`` handlers a domain
    gives for errors its pages answer otherwise (a login redirect)."""
    app.add_exception_handler(ProblemError, _declared)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type, handler in (special or {}).items():
        app.add_exception_handler(error_type, handler)
