"""The one shape of an error response, shared by every domain's API: what went wrong and where."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

# A file name as a sender gives it: printable, no path separators, no control characters (NUL
# cannot even be stored in PostgreSQL text).
FILENAME_PATTERN = r"^[^\x00-\x1f\x7f/\\]+$"
# One line of text (a name, a reason, a query value): no control characters.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# Free text (a note, a question): line breaks and tabs, no other control characters.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class ErrorItem(BaseModel):
    line: int | None = Field(description="Line in the file (CSV, NDJSON); null for a JSON array.")
    record: int | None = Field(description="1-based number of the record in the batch.")
    field: str | None = Field(description="The field at fault; null when the record as a whole is unreadable.")
    reason: str


class Problem(BaseModel):
    """An error response: what went wrong, and for validation errors, where."""

    error: str
    detail: str
    errors: list[ErrorItem] = []
    extra: dict[str, Any] | None = None


class ProblemError(Exception):
    """An error that reaches the caller as a ``Problem``. Each class says, where it is defined, how
    it looks over HTTP — its ``status`` and ``error`` code, and when it has them, the items (line,
    field) and extra fields of the answer — so one handler answers for every domain. A family's base
    class leaves ``status`` None; only the classes that are raised carry one (a test checks)."""

    status: ClassVar[int | None] = None
    error: ClassVar[str] = "error"

    def problem_detail(self) -> str:
        return str(self)

    def problem_items(self) -> list[ErrorItem]:
        return []

    def problem_extra(self) -> dict[str, Any]:
        return {}

    def problem(self) -> Problem:
        extra = self.problem_extra()
        return Problem(error=self.error, detail=self.problem_detail(), errors=self.problem_items(), extra=extra or None)


def json_text_fault(value: Any, where: str = "") -> str | None:
    """Where a JSON value holds a NUL character (PostgreSQL cannot store one), or None."""
    if isinstance(value, str):
        return where or "value" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"{where}.{key!r}" if where else repr(key)
            fault = json_text_fault(item, f"{where}.{key}" if where else key)
            if fault:
                return fault
    if isinstance(value, list):
        for index, item in enumerate(value):
            fault = json_text_fault(item, f"{where}[{index}]")
            if fault:
                return fault
    return None


PROBLEM_DESCRIPTIONS = {
    401: "Missing, unknown or revoked token",
    403: "The caller lacks the role this needs",
    404: "No such resource for this caller",
    409: "Not possible in the resource's present state",
    422: "Invalid or refused input, with what and why",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of errors an endpoint (or router) can answer, all as ``Problem``."""
    return {s: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[s]} for s in statuses}
