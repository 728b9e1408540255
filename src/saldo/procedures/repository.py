"""The queries of the online procedures."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saldo.procedures.models import Application, ApplicationKind, ApplicationState


def insert_once(session: Session, values: dict[str, object]) -> Application | None:
    """The application, written once per person and form key: a form sent twice (a double click, a
    retry after a lost answer) finds the one written first. None when another form of the same kind
    is waiting (two sent at once: the other was written)."""
    session.execute(insert(Application).values(**values).on_conflict_do_nothing())
    return session.scalars(
        select(Application).where(
            Application.person_scheme == values["person_scheme"],
            Application.person_id == values["person_id"],
            Application.form_key == values["form_key"],
        )
    ).one_or_none()


def waiting_of_kind(session: Session, scheme: str, person_id: str, kind: ApplicationKind) -> Application | None:
    query = select(Application).where(
        Application.person_scheme == scheme,
        Application.person_id == person_id,
        Application.kind == kind,
        Application.state == ApplicationState.SUBMITTED,
    )
    return session.scalars(query.limit(1)).first()


def by_reference(session: Session, reference: str, *, for_update: bool = False) -> Application | None:
    query = select(Application).where(Application.reference == reference)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def of_person(session: Session, scheme: str, person_id: str) -> list[Application]:
    query = select(Application).where(Application.person_scheme == scheme, Application.person_id == person_id)
    return list(session.scalars(query.order_by(Application.id.desc())))


def listed(session: Session, state: ApplicationState | None, *, limit: int) -> list[Application]:
    """Waiting ones oldest first (the queue); decided ones newest first."""
    query = select(Application)
    if state is ApplicationState.SUBMITTED:
        query = query.where(Application.state == state).order_by(Application.submitted_at, Application.id)
    elif state is not None:
        query = query.where(Application.state == state).order_by(Application.id.desc())
    else:
        query = query.order_by(Application.id.desc())
    return list(session.scalars(query.limit(limit)))
