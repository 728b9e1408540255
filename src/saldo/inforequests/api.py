"""Information requests: an auditor asks a payer for data on a person in a case; the payer sees
its own requests and answers them with JSON or a file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from saldo.http.deps import DbSession, PathId, ReadPurpose
from saldo.inforequests import service
from saldo.inforequests.errors import RequestStateError
from saldo.inforequests.models import RequestStatus
from saldo.inforequests.schemas import (
    AnswerIn,
    AnswerOut,
    CategoryOut,
    RequestIn,
    RequestOut,
    RequestWithAnswers,
    WithdrawIn,
)
from saldo.inforequests.service.catalogue import categories
from saldo.kit.problem import FILENAME_PATTERN, Problem, problem_responses
from saldo.payers.http import CurrentPayer
from saldo.staff.http import CurrentStaff

UNAUTHENTICATED = problem_responses(401, 404, 409, 422)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such request for this payer"}}
router = APIRouter(prefix="/api/v1", tags=["payer: information requests"], responses=UNAUTHENTICATED)
staff_router = APIRouter(
    prefix="/api/v1/staff",
    tags=["staff: cases"],
    responses=problem_responses(401, 403, 404, 409, 422),
)


@router.get("/data-categories", response_model=list[CategoryOut], summary="The data categories of requests")
def data_categories(payer: CurrentPayer) -> list[CategoryOut]:
    """What the authority may ask for, and the patient-confidential categories it may not."""
    return [CategoryOut.model_validate(c, from_attributes=True) for c in categories().values()]


@router.get("/information-requests", response_model=list[RequestOut], summary="The payer's information requests")
def list_requests(payer: CurrentPayer, session: DbSession, status: RequestStatus | None = None) -> list[RequestOut]:
    return [RequestOut.model_validate(r) for r in service.payer_requests(session, payer.payer_id, status=status)]


@router.get(
    "/information-requests/{request_id}",
    response_model=RequestOut,
    summary="One information request",
    responses=NOT_FOUND,
)
def get_request(request_id: PathId, payer: CurrentPayer, session: DbSession) -> RequestOut:
    return RequestOut.model_validate(service.payer_request(session, payer.payer_id, request_id))


@router.post(
    "/information-requests/{request_id}/answers",
    response_model=AnswerOut,
    status_code=201,
    summary="Answer with data",
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "Answered or withdrawn already"}},
)
def answer(request_id: PathId, body: AnswerIn, payer: CurrentPayer, session: DbSession) -> AnswerOut:
    """Data per requested category; a category that was not asked for is refused."""
    stored = service.answer_request(
        session,
        payer_id=payer.payer_id,
        received_by=f"payer:{payer.payer_id}/token:{payer.token_id}",
        request_id=request_id,
        data=body.data,
    )
    session.commit()
    return AnswerOut.model_validate(stored)


@router.post(
    "/information-requests/{request_id}/answer-files",
    response_model=AnswerOut,
    status_code=201,
    summary="Answer with a file",
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "Answered or withdrawn already"}},
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string"}}}}
    },
)
async def answer_file(
    request_id: PathId,
    request: Request,
    payer: CurrentPayer,
    session: DbSession,
    filename: Annotated[str, Query(min_length=1, max_length=255, pattern=FILENAME_PATTERN)],
) -> AnswerOut:
    """A document (PDF, CSV …) as the request body, up to 20 MiB."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > service.MAX_ANSWER_FILE_BYTES:
        raise RequestStateError(f"file: larger than {service.MAX_ANSWER_FILE_BYTES} bytes")
    content = await request.body()
    if not content:
        raise RequestStateError("the file is empty")
    stored = service.answer_request(
        session,
        payer_id=payer.payer_id,
        received_by=f"payer:{payer.payer_id}/token:{payer.token_id}",
        request_id=request_id,
        data={},
        filename=filename,
        content=content,
    )
    session.commit()
    return AnswerOut.model_validate(stored)


@staff_router.post(
    "/cases/{case_id}/information-requests",
    response_model=RequestOut,
    status_code=201,
    summary="Ask a payer for information",
    responses={422: {"model": Problem, "description": "Refused: an exempt category, a person not in the case …"}},
)
def send(case_id: PathId, body: RequestIn, staff: CurrentStaff, session: DbSession) -> RequestOut:
    """Ask a payer for data on a person of the case, by category. Patient-confidential categories
    are refused by the system. Auditor."""
    request = service.send_request(
        session,
        staff,
        case_id=case_id,
        payer_id=body.payer_id,
        person=(body.person.scheme, body.person.identifier),
        categories_asked=body.categories,
        question=body.question,
        deadline=body.deadline,
    )
    session.commit()
    return RequestOut.model_validate(request)


@staff_router.get(
    "/information-requests/{request_id}", response_model=RequestWithAnswers, summary="A request with its answers"
)
def read(
    request_id: PathId,
    staff: CurrentStaff,
    session: DbSession,
    purpose: ReadPurpose = None,
) -> RequestWithAnswers:
    """The request and the payer's answers; the read is logged. Auditor or supervisor; without a role
    on the case, only with a purpose (403 purpose_required)."""
    request, answers = service.read_answers(session, staff, request_id, purpose=purpose)
    session.commit()
    return RequestWithAnswers(
        request=RequestOut.model_validate(request), answers=[AnswerOut.model_validate(a) for a in answers]
    )


@staff_router.post(
    "/information-requests/{request_id}/withdrawal", response_model=RequestOut, summary="Withdraw a request"
)
def withdraw(request_id: PathId, body: WithdrawIn, staff: CurrentStaff, session: DbSession) -> RequestOut:
    request = service.withdraw_request(session, staff, request_id, reason=body.reason)
    session.commit()
    return RequestOut.model_validate(request)
