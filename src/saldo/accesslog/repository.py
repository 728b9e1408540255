from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from saldo.accesslog.models import AccessLogEntry

_APPEND = text(
    "SELECT access_log_append(:actor, :role, :channel, :action, :scheme, :person, :case_id, :purpose, "
    "CAST(:details AS jsonb))"
)
# Each entry's digest recomputed and its link to the one before checked; only faults come back.
_CHECK_RANGE = text(
    """
    SELECT seq, sealed, linked, numbered FROM (
        SELECT seq,
               hash = access_log_digest(prev_hash, seq, at, actor, role, channel, action, person_scheme, person_id,
                                        case_id, purpose, details) AS sealed,
               prev_hash = coalesce(lag(hash) OVER w, :genesis) AS linked,
               seq = coalesce(lag(seq) OVER w, 0) + 1 AS numbered
          FROM access_log WHERE seq >= :low AND seq <= :high WINDOW w AS (ORDER BY seq)
    ) checked
    WHERE seq >= :first_checked AND NOT (sealed AND linked AND numbered)
    ORDER BY seq LIMIT :limit
    """
)


class AccessLogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, values: dict[str, Any]) -> int:
        return int(self.session.execute(_APPEND, values).scalar_one())

    def entries(
        self,
        *,
        person: tuple[str, str] | None,
        actor: str | None,
        action: str | None,
        case_id: int | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
        after_seq: int,
        limit: int,
    ) -> Sequence[AccessLogEntry]:
        query = select(AccessLogEntry).where(AccessLogEntry.seq > after_seq)
        if person is not None:
            query = query.where(AccessLogEntry.person_scheme == person[0], AccessLogEntry.person_id == person[1])
        if actor is not None:
            query = query.where(AccessLogEntry.actor == actor)
        if action is not None:
            query = query.where(AccessLogEntry.action == action)
        if case_id is not None:
            query = query.where(AccessLogEntry.case_id == case_id)
        if since is not None:
            query = query.where(AccessLogEntry.at >= since)
        if until is not None:
            query = query.where(AccessLogEntry.at < until)
        return self.session.scalars(query.order_by(AccessLogEntry.seq).limit(limit)).all()


def chain_state(connection: Connection, anchor_seq: int | None) -> tuple[int, int, bytes | None, bytes | None]:
    """(entries, the last entry's number, its hash, the anchor entry's hash)."""
    count, top = connection.execute(text("SELECT count(*), coalesce(max(seq), 0) FROM access_log")).one()
    last = connection.execute(text("SELECT hash FROM access_log ORDER BY seq DESC LIMIT 1")).scalar()
    anchored = (
        connection.execute(text("SELECT hash FROM access_log WHERE seq = :seq"), {"seq": anchor_seq}).scalar()
        if anchor_seq is not None
        else None
    )
    return (
        int(count),
        int(top),
        bytes(last) if last is not None else None,
        bytes(anchored) if anchored is not None else None,
    )


def faulty_entries(
    connection: Connection, *, low: int, high: int, genesis: bytes, limit: int
) -> list[tuple[int, bool, bool, bool]]:
    """(seq, sealed, linked, numbered) of the faulty entries in ``low``..``high``; the entry before
    ``low`` is read too, so the range's first link is checked."""
    rows = connection.execute(
        _CHECK_RANGE, {"low": max(low - 1, 1), "high": high, "first_checked": low, "genesis": genesis, "limit": limit}
    )
    return [(int(r[0]), bool(r[1]), bool(r[2]), bool(r[3])) for r in rows]
