"""The cross-border citizen's queries: foreign eIDs linked to persons here by a code by letter."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from saldo.crossborder.models import ForeignLink, LinkState


def linked_person(session: Session, person_identifier: str) -> tuple[str, str] | None:
    row = session.execute(
        select(ForeignLink.person_scheme, ForeignLink.person_id).where(
            ForeignLink.person_identifier == person_identifier, ForeignLink.state == LinkState.CONFIRMED
        )
    ).first()
    return (row[0], row[1]) if row else None


def pending_link(
    session: Session, person_identifier: str, *, now: dt.datetime, for_update: bool = False
) -> ForeignLink | None:
    query = select(ForeignLink).where(
        ForeignLink.person_identifier == person_identifier,
        ForeignLink.state == LinkState.PENDING,
        ForeignLink.expires_at > now,
    )
    return session.scalar(query.with_for_update() if for_update else query)


def letters_since(session: Session, *, since: dt.datetime, person_identifier: str, person_id: str) -> tuple[int, int]:
    """How many letters went since ``since`` for this foreign eID, and to this person here."""
    counted = select(
        func.count().filter(ForeignLink.person_identifier == person_identifier),
        func.count().filter(ForeignLink.person_id == person_id),
    ).where(
        ForeignLink.created_at > since,
        (ForeignLink.person_identifier == person_identifier) | (ForeignLink.person_id == person_id),
    )
    row = session.execute(counted).one()
    return int(row[0]), int(row[1])


def supersede_pending(session: Session, person_identifier: str) -> None:
    session.execute(
        update(ForeignLink)
        .where(ForeignLink.person_identifier == person_identifier, ForeignLink.state == LinkState.PENDING)
        .values(state=LinkState.SUPERSEDED)
    )


def links_of(session: Session, person_scheme: str, person_id: str) -> list[ForeignLink]:
    """The person's foreign eIDs: linked, and letters on their way; newest first."""
    return list(
        session.scalars(
            select(ForeignLink)
            .where(
                ForeignLink.person_scheme == person_scheme,
                ForeignLink.person_id == person_id,
                ForeignLink.state.in_((LinkState.CONFIRMED, LinkState.PENDING)),
            )
            .order_by(ForeignLink.id.desc())
        )
    )


def own_link(session: Session, link_id: int, person_scheme: str, person_id: str) -> ForeignLink | None:
    """The person's link or waiting letter by its id, locked; ``None`` when it is another's or gone."""
    return session.scalar(
        select(ForeignLink)
        .where(
            ForeignLink.id == link_id,
            ForeignLink.person_scheme == person_scheme,
            ForeignLink.person_id == person_id,
            ForeignLink.state.in_((LinkState.CONFIRMED, LinkState.PENDING)),
        )
        .with_for_update()
    )
