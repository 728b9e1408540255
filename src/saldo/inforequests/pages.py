"""Information requests in the payer's pages: what the authority asks about a person in a case, by
data category and deadline, answered with text per category asked, a document, or both."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from saldo.http.deps import DbSession, PathId, save_stream, upload_chunks
from saldo.http.rendering import render
from saldo.identity.http import CurrentPayerSession, check_csrf
from saldo.inforequests.errors import InvalidAnswerError, RequestNotFoundError, RequestStateError
from saldo.inforequests.service import MAX_ANSWER_FILE_BYTES, answer_request, payer_request, payer_requests
from saldo.inforequests.service.catalogue import categories

router = APIRouter(include_in_schema=False)


@router.get("/payer/requests", response_class=HTMLResponse)
def requests_page(request: Request, session: DbSession, principal: CurrentPayerSession) -> HTMLResponse:
    """The payer's information requests, newest first, open ones with their deadlines."""
    payer = principal.as_payer()
    found = sorted(payer_requests(session, payer.payer_id), key=lambda r: r.id, reverse=True)
    return render(request, "payer/requests.html", {"requests": found}, principal=principal)


@router.get("/payer/requests/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, session: DbSession, principal: CurrentPayerSession, request_id: PathId) -> Response:
    return _request(request, session, principal, request_id, error=None, status=200)


@router.post("/payer/requests/{request_id}/answer", response_class=HTMLResponse)
async def answer(request: Request, session: DbSession, principal: CurrentPayerSession, request_id: PathId) -> Response:
    """Text for the categories asked (one field each) and/or a document of up to 20 MiB."""
    payer = principal.as_payer()
    form = await request.form(max_files=1, max_fields=64)
    csrf = form.get("csrf")
    check_csrf(principal, csrf if isinstance(csrf, str) else None)
    data = {
        key.removeprefix("data:"): value.strip()
        for key, value in form.multi_items()
        if key.startswith("data:") and isinstance(value, str) and value.strip()
    }
    upload = form.get("file")
    filename, content = None, None
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            with tempfile.TemporaryDirectory(prefix="saldo-answer-") as folder:
                path = Path(folder) / "answer"
                await save_stream(
                    upload_chunks(upload),
                    path,
                    MAX_ANSWER_FILE_BYTES,
                    too_large=RequestStateError,
                    empty=RequestStateError,
                )
                filename, content = Path(upload.filename).name[:255], path.read_bytes()
        answer_request(
            session,
            payer_id=payer.payer_id,
            received_by=f"payer:{payer.payer_id}/user:{payer.user_id}",
            request_id=request_id,
            data=data,
            filename=filename,
            content=content,
        )
    except RequestNotFoundError:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    except (RequestStateError, InvalidAnswerError) as exc:
        session.rollback()
        return _request(request, session, principal, request_id, error=str(exc), status=422)
    session.commit()
    return RedirectResponse(f"/payer/requests/{request_id}", status_code=303)


def _request(
    request: Request,
    session: DbSession,
    principal: CurrentPayerSession,
    request_id: int,
    *,
    error: str | None,
    status: int,
) -> HTMLResponse:
    payer = principal.as_payer()
    try:
        found = payer_request(session, payer.payer_id, request_id)
    except RequestNotFoundError:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    known = categories()
    context = {"r": found, "categories": [known[c] for c in found.categories if c in known], "error": error}
    return render(request, "payer/request.html", context, principal=principal, status_code=status)
