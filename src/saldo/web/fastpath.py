"""The fast path for single verification-of-payee checks: a plain ASGI layer in front of the app.

VoP is answered in the payer's payment flow, thousands of times a second on peak days. Through the
full FastAPI stack (dependency injection, a worker-thread hop, an ORM session, two round trips
for token and account) one check costs several times the work of the check itself. This layer
answers the common case — a valid token and a well-formed check — with one prepared statement on
an async connection pool and the same validation and decision code as the documented route
(``POST /api/v1/vop/checks`` in saldo.accounts.api). Anything else (no or unknown token, bad JSON,
bad account, a database error) is passed on unchanged to that route, which gives the documented
error. tests/accounts/test_vop_fastpath.py holds the two to the same answers.
See docs/decisions/0007-verification-of-payee-fast-path.md."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from saldo.accounts.repository import AsyncVopLookup
from saldo.accounts.schemas import VopCheckIn
from saldo.accounts.service.verify import PreparedCheck, decide
from saldo.kit.clock import today
from saldo.kit.name_match import Thresholds
from saldo.kit.tokens import MAX_TOKEN_LENGTH, hash_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/api/v1/vop/checks"
MAX_BODY = 16 * 1024  # a check is a few hundred bytes; a larger body goes the documented way
_HEADERS = [(b"content-type", b"application/json")]


class VopFastPath:
    def __init__(self, app: ASGIApp, *, pool: AsyncConnectionPool, thresholds: Thresholds) -> None:
        self.app = app
        self.pool = pool
        self.lookup = AsyncVopLookup(pool)
        self.thresholds = thresholds
        self._opened = False
        self._opening = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        answer = await self._answer(scope, body) if complete else None
        if answer is None:
            await self.app(scope, _replay(body, receive, complete), send)
            return
        headers = [*_HEADERS, (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    async def _answer(self, scope: Scope, body: bytes) -> bytes | None:
        headers = dict(scope["headers"])
        token = _bearer(headers.get(b"authorization", b""))
        if token is None or headers.get(b"content-type", b"").split(b";")[0].strip() != b"application/json":
            return None
        try:
            request = PreparedCheck(VopCheckIn.model_validate_json(body))
        except (ValidationError, ValueError):
            return None  # the documented route reports what is wrong
        try:
            await self._open()
            rows = await self.lookup.rows_for_caller(hash_token(token), *request.key)
        except (psycopg.Error, OSError):
            return None  # the documented route answers not_possible / register_unavailable
        if rows is None:
            return None  # unknown or revoked token: 401 from the documented route
        return orjson.dumps(decide(request, rows, today(), self.thresholds).model_dump(mode="json"))

    async def _open(self) -> None:
        if not self._opened:
            async with self._opening:
                if not self._opened:
                    await self.pool.open()
                    self._opened = True


def _bearer(value: bytes) -> str | None:
    scheme, _, token = value.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body, unless it grows past MAX_BODY: then what was read and False (read no further)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts), False
        chunk = message.get("body", b"")
        parts.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(parts), True
        if size > MAX_BODY:
            return b"".join(parts), False


def _replay(body: bytes, receive: Receive, complete: bool) -> Receive:
    """A receive that hands the app what was already read, then reads on."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay
