"""The one shape of an error response, shared by every domain's API: what went wrong and where."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# A file name as a sender gives it: printable, no path separators, no control characters (NUL
# cannot even be stored in PostgreSQL text).
FILENAME_PATTERN = r"^[^\x00-\x1f\x7f/\\]+$"


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
