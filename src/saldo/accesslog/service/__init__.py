"""The access log: every read of a person's identity or data by staff, append-only and chained.

Writing goes through the ``access_log_append`` database function in the caller's transaction, so an
entry exists exactly when the read it records was committed. Verification recomputes every entry's
digest and checks every link; with an anchor (a sequence number and hash published earlier outside
the database) it also proves that nothing before the anchor was rewritten (docs/access-log.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from saldo.accesslog.models import AccessLogEntry
from saldo.accesslog.repository import AccessLogRepository, chain_state, faulty_entries

GENESIS_HASH = bytes(32)  # what the first entry points back at

MAX_FAULTS = 100


@dataclass(frozen=True, slots=True)
class Access:
    """What one read of a person's data was: who, in which role, through which channel, and why."""

    actor: str
    role: str
    action: str
    purpose: str
    person_scheme: str | None = None
    person_id: str | None = None
    case_id: int | None = None
    channel: str = "api"
    details: dict[str, Any] = field(default_factory=dict)


def log_access(session: Session, access: Access) -> int:
    """Append an entry in the caller's transaction; returns its sequence number. Appending takes the
    log's lock until the transaction ends, so entries are numbered in commit order without gaps."""
    if not access.purpose.strip():
        raise ValueError("an access to a person's data needs a purpose")
    return AccessLogRepository(session).append(
        {
            "actor": access.actor,
            "role": access.role,
            "channel": access.channel,
            "action": access.action,
            "scheme": access.person_scheme,
            "person": access.person_id,
            "case_id": access.case_id,
            "purpose": access.purpose,
            "details": orjson.dumps(access.details).decode(),
        }
    )


@dataclass
class Verification:
    entries: int
    head_seq: int
    head_hash: bytes
    faults: list[str]

    @property
    def intact(self) -> bool:
        return not self.faults


def verify_chain(
    engine: Engine,
    *,
    anchor: tuple[int, bytes] | None = None,
    workers: int = 2,
    chunk: int = 1_000_000,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Recompute every digest and check every link, ``workers`` ranges at a time. Faults name the
    entry and what is wrong; an anchor (an entry's number and hash published earlier) must still hold.
    The last entry's number and hash are returned as the head, to publish as the next anchor."""
    with engine.connect() as connection:
        count, top, last, anchored = chain_state(connection, anchor[0] if anchor is not None else None)
    faults: list[str] = []
    if count != top:
        faults.append(f"{top - count} entries are missing: {count} entries but the last is number {top}")
    if anchor is not None and anchored != anchor[1]:
        faults.append(f"anchor {anchor[0]}:{anchor[1].hex()} does not hold: that entry is gone or was rewritten")
    ranges = [(low, min(low + chunk - 1, top)) for low in range(1, top + 1, chunk)]

    def check(bounds: tuple[int, int]) -> list[str]:
        low, high = bounds
        # One entry before the range, so the first link of the range is checked too.
        with engine.connect() as connection:
            rows = faulty_entries(connection, low=low, high=high, genesis=GENESIS_HASH, limit=MAX_FAULTS)
        if progress is not None:
            progress(high - low + 1)
        return [_fault(*row) for row in rows]

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for found in pool.map(check, ranges):
            faults.extend(found)
    return Verification(count, top, last or GENESIS_HASH, faults[:MAX_FAULTS])


def _fault(seq: int, sealed: bool, linked: bool, numbered: bool) -> str:
    reasons = [
        *([] if sealed else ["its content does not match its hash (changed)"]),
        *([] if linked else ["it does not point at the entry before it (removed or inserted entries)"]),
        *([] if numbered else ["its number does not follow the one before it"]),
    ]
    return f"entry {seq}: " + "; ".join(reasons)


def entries(
    session: Session,
    *,
    person: tuple[str, str] | None = None,
    actor: str | None = None,
    action: str | None = None,
    case_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> Sequence[AccessLogEntry]:
    """Entries matching every filter given, oldest first, after ``after_seq`` (for paging)."""
    return AccessLogRepository(session).entries(
        person=person,
        actor=actor,
        action=action,
        case_id=case_id,
        since=since,
        until=until,
        after_seq=after_seq,
        limit=limit,
    )
