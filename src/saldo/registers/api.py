"""The register keeper's API: the population and income registers sent by the authority that keeps
them (docs/formats/analysis-inputs.md), checked whole like the files the authority loads itself."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from saldo.http.deps import CSV_BODY, AppSettings, DbSession, receive_to_file
from saldo.kit.problem import Problem, problem_responses
from saldo.registers.errors import RegisterFileEmptyError, RegisterFileTooLargeError
from saldo.registers.http import CurrentKeeper
from saldo.registers.models import RegisterKind
from saldo.registers.schemas import KeeperPrincipal, RegisterLoaded, RegisterLoadOut
from saldo.registers.service import keeper_loads, load_register_as_keeper

router = APIRouter(prefix="/api/v1/registers", tags=["registers"], responses=problem_responses(401, 422))


@router.put(
    "/{register}",
    response_model=RegisterLoaded,
    summary="Send a register extract (CSV)",
    responses={
        403: {"model": Problem, "description": "The caller does not keep this register"},
        413: {"model": Problem, "description": "Larger than the size limit"},
        422: {"model": Problem, "description": "Rejected whole, with every fault (line, field, reason)"},
    },
    openapi_extra=CSV_BODY,
)
async def put_register(
    register: RegisterKind,
    request: Request,
    keeper: CurrentKeeper,
    session: DbSession,
    settings: AppSettings,
    filename: Annotated[str, Query(max_length=200, pattern=r"^[\w.\-]+$", description="Recorded with the load.")] = "",
) -> RegisterLoaded:
    """A population extract replaces the previous one; an income file adds or corrects months. The
    file is checked whole: stored, or refused with every fault and nothing stored. The same file sent
    again changes nothing (`already_loaded`)."""
    with tempfile.TemporaryDirectory(prefix="saldo-register-") as folder:
        path = Path(folder) / "register.csv"
        await receive_to_file(
            request, path, settings.max_upload_bytes, too_large=RegisterFileTooLargeError, empty=RegisterFileEmptyError
        )
        name = filename or f"{register.value}.csv"
        return await run_in_threadpool(_load, session, keeper, register, path, name)


def _load(session: Session, keeper: KeeperPrincipal, register: RegisterKind, path: Path, name: str) -> RegisterLoaded:
    loaded = load_register_as_keeper(session, keeper, register, path, filename=name)
    session.commit()
    return loaded


@router.get("/loads", response_model=list[RegisterLoadOut], summary="The register files this keeper sent")
def get_loads(
    keeper: CurrentKeeper,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RegisterLoadOut]:
    """Newest first: which register, the file's name, rows and SHA-256, who sent it and when."""
    return keeper_loads(session, keeper, limit=limit)
