"""Request dependencies every domain uses: the database session, the settings, ids in a path,
the bearer token, and bodies streamed to a file. Who a token or a session belongs to is each
domain's own (``saldo.<domain>.http``)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi import Path as PathParameter
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from saldo.db.replica import Reads
from saldo.kit.problem import LINE_PATTERN, ProblemError
from saldo.settings import Settings

bearer = HTTPBearer(
    auto_error=False,
    description=(
        "A payer API token (`saldo_…`), a bank API token (`saldobank_…`) or a staff token (`saldostaff_…`): "
        "`Authorization: Bearer <token>`"
    ),
)


class MissingTokenError(ProblemError):
    """A request that needs a bearer token came without one."""

    status = 401
    error = "unauthenticated"


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request. Endpoints that write commit it themselves before they respond, so a
    failed commit is an error response, never a success the database did not keep.

    Declared async so FastAPI does not hand it to a worker thread: opening a session does no I/O
    (the connection is taken at the first query, in the endpoint's thread), and the closing rollback
    only returns the connection to the pool. Each thread hop costs about as much as the query."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_reads(request: Request) -> Reads:
    """Reads that may go to the replica (saldo.db.replica): listings, never what a write depends on."""
    reads: Reads = request.app.state.reads
    return reads


DbSession = Annotated[Session, Depends(get_session)]
DbReads = Annotated[Reads, Depends(get_reads)]
READ_FROM_HEADER = "Saldo-Read-From"  # "primary", or "replica; lag=<seconds>"
AppSettings = Annotated[Settings, Depends(get_settings)]


MAX_ID = 2**63 - 1  # PostgreSQL bigint
# A resource id in a path: a positive bigint, so an out-of-range number is a 422, never a database error.
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
# Why a member of staff reads what a case holds about a person (logged; docs/security.md)
ReadPurpose = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=500,
        pattern=LINE_PATTERN,
        description="Why it is read (logged): a published purpose (GET /api/v1/staff/purposes) or a sentence. "
        "Needed unless the case is assigned to the caller or the caller opened it (then case_work).",
    ),
]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The request's bearer token; 401 without one (whose it is, each domain's ``http`` decides)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise MissingTokenError("missing API token: send `Authorization: Bearer <token>`")
    return credentials.credentials


# The OpenAPI request body of an endpoint that takes a CSV file as its body (read by receive_to_file).
CSV_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


async def receive_to_file(
    request: Request,
    path: Path,
    limit: int,
    *,
    too_large: Callable[[str], Exception],
    empty: Callable[[str], Exception],
) -> bytes:
    """Stream the request body to ``path`` (memory stays flat whatever the size) and return its SHA-256.
    Raises ``too_large`` past ``limit`` bytes (declared or received) and ``empty`` for no body."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(f"the upload is {declared} bytes; the limit is {limit}")
    return await save_stream(request.stream(), path, limit, too_large=too_large, empty=empty)


async def save_stream(
    chunks: AsyncIterator[bytes],
    path: Path,
    limit: int,
    *,
    too_large: Callable[[str], Exception],
    empty: Callable[[str], Exception],
) -> bytes:
    """Write ``chunks`` to ``path`` and return their SHA-256; ``too_large`` past ``limit`` bytes,
    ``empty`` for nothing at all. A request body and a file of a browser form both come this way."""
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as sink:
        async for part in chunks:
            size += len(part)
            if size > limit:
                raise too_large(f"the upload is larger than the {limit}-byte limit")
            digest.update(part)
            sink.write(part)
    if size == 0:
        raise empty("the request body is empty")
    return digest.digest()


async def upload_chunks(upload: UploadFile, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """A file of a browser form, a megabyte at a time (for ``save_stream``)."""
    while part := await upload.read(size):
        yield part
