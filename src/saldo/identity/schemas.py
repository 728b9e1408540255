from __future__ import annotations

from dataclasses import dataclass

from saldo.identity.models import Audience
from saldo.payers.schemas import PayerPrincipal
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person by national identifier: the scheme and the canonical number."""

    scheme: str
    identifier: str


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """Who is logged in on this browser, and whom the pages are about.

    For a citizen, ``person`` and ``subject`` are the same. For a caseworker acting for a citizen
    (the assisted channel), ``subject`` is that citizen and ``purpose`` says why."""

    session_id: int
    audience: Audience
    person: PersonRef
    name: str
    loa: str
    csrf_token: str
    staff_id: int | None = None
    staff_username: str | None = None
    roles: frozenset[Role] = frozenset()
    acting_for: PersonRef | None = None
    purpose: str | None = None
    payer: PayerPrincipal | None = None  # the payer a payer user works for

    @property
    def subject(self) -> PersonRef | None:
        """The citizen whose data the pages show: themselves, or the one a caseworker acts for."""
        if self.audience is Audience.CITIZEN:
            return self.person
        return self.acting_for

    @property
    def assisted(self) -> bool:
        return self.audience is Audience.STAFF and self.acting_for is not None

    def subject_key(self) -> tuple[str, str]:
        """The citizen the pages are about, as (scheme, identifier): for routes that require one
        (``require_citizen``), where there always is."""
        if self.subject is None:
            raise ValueError("no citizen: a staff member who serves no one")
        return self.subject.scheme, self.subject.identifier

    @property
    def acted_by(self) -> str:
        """Who did it, as a record's history says: ``citizen``, or ``staff:<username>`` serving them."""
        return f"staff:{self.staff_username}" if self.assisted else "citizen"

    def as_staff(self) -> StaffPrincipal:
        """The staff member behind a staff session, as the services check roles on it."""
        if self.staff_id is None or self.staff_username is None:
            raise ValueError("not a staff session")
        return StaffPrincipal(staff_id=self.staff_id, username=self.staff_username, roles=self.roles)

    def as_payer(self) -> PayerPrincipal:
        """The payer a payer user's session works for, as the services scope by it."""
        if self.payer is None:
            raise ValueError("not a payer session")
        return self.payer
