from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from saldo.staff.models import StaffMember, StaffToken

# Runs on every staff request: a constant statement.
_PRINCIPAL = text(
    "SELECT m.id, m.username, m.roles FROM staff_tokens t JOIN staff_members m ON m.id = t.staff_id "
    "WHERE t.secret_sha256 = :secret AND t.revoked_at IS NULL AND m.disabled_at IS NULL"
)


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_username(self, username: str) -> StaffMember | None:
        return self.session.scalar(select(StaffMember).where(StaffMember.username == username))

    def by_id(self, staff_id: int) -> StaffMember | None:
        return self.session.get(StaffMember, staff_id)

    def by_person(self, scheme: str, identifier: str) -> StaffMember | None:
        return self.session.scalar(
            select(StaffMember).where(StaffMember.person_scheme == scheme, StaffMember.person_id == identifier)
        )

    def add(self, row: StaffMember | StaffToken) -> None:
        self.session.add(row)
        self.session.flush()

    def disable(self, staff_id: int, at: dt.datetime) -> None:
        self.session.execute(update(StaffMember).where(StaffMember.id == staff_id).values(disabled_at=at))

    def principal(self, secret_sha256: bytes) -> tuple[int, str, list[str]] | None:
        """(staff id, username, roles) of an active token of an enabled member."""
        row = self.session.execute(_PRINCIPAL, {"secret": secret_sha256}).first()
        return (int(row[0]), str(row[1]), list(row[2])) if row is not None else None

    def list_all(self) -> Sequence[StaffMember]:
        return self.session.scalars(select(StaffMember).order_by(StaffMember.username)).all()
