"""The once-only exchange over HTTP: the AS4 endpoint other countries' gateways deliver queries and
responses to. Authenticated by the message's signature against the directory, not by a token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from saldo.db.queue import defer_job
from saldo.http.deps import AppSettings, DbSession
from saldo.kit import crash_points
from saldo.kit.problem import Problem
from saldo.onceonly import service
from saldo.onceonly.jobs import DELIVER_LOCK, DELIVER_QUEUE, DELIVER_TASK

MAX_AS4_BYTES = 8 * 1024**2
SOAP = "application/soap+xml"

as4_router = APIRouter(tags=["once-only: AS4"])


@as4_router.post(
    "/oots/as4",
    summary="Receive an AS4 message (another country's evidence query or response)",
    responses={
        200: {"content": {SOAP: {}}, "description": "A signed non-repudiation receipt"},
        400: {"content": {SOAP: {}}, "description": "A signed ebMS error signal saying what was refused"},
        413: {"description": "The message is larger than 8 MiB"},
        404: {"model": Problem, "description": "This node takes no part in the once-only exchange"},
    },
)
async def receive_as4(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """An ebMS 3 One-Way/Push user message with the OOTS P-Mode (service QueryManager; actions
    ExecuteQueryRequest, ExecuteQueryResponse, ExceptionResponse), signed and encrypted. Every message
    gets a signed answer: a receipt when it was taken in (or had been, for a resent one), an error
    signal otherwise. The answer to a query goes back as a message of its own."""
    gateway = service.gateway_from_settings(settings)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_AS4_BYTES:
            return Response(status_code=413, content=b"the message is larger than 8 MiB", media_type="text/plain")
    return await run_in_threadpool(_take_in, session, gateway, dict(request.headers), bytes(body))


def _take_in(session: DbSession, gateway: service.Gateway, headers: dict[str, str], body: bytes) -> Response:
    answer = service.receive(session, gateway, headers, body)
    if answer.status == 200 and answer.outcome != "duplicate":
        deliver_soon(session)
    crash_points.reach("onceonly.before_commit_received")
    session.commit()
    return Response(content=answer.body, status_code=answer.status, media_type=SOAP)


def deliver_soon(session: DbSession) -> None:
    """Have the worker send the outbox now (in the caller's transaction: only if it commits)."""
    defer_job(session, task=DELIVER_TASK, queue=DELIVER_QUEUE, args={}, lock=DELIVER_LOCK)
