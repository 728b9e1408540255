"""Staff of the payment authority: members, their roles and their API tokens."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy.orm import Session

from saldo.kit.national_id import IdScheme, normalize_identifier
from saldo.kit.tokens import hash_token, looks_like_token, new_token
from saldo.staff.errors import ForbiddenError, InvalidStaffTokenError, StaffExistsError, UnknownStaffError
from saldo.staff.models import Role, StaffMember, StaffToken
from saldo.staff.repository import StaffRepository
from saldo.staff.schemas import StaffPrincipal

TOKEN_PREFIX = "saldostaff_"  # noqa: S105 — a public marker for leak scanners, not a secret
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


def create_staff(
    session: Session,
    *,
    username: str,
    name: str,
    roles: Iterable[Role],
    person: tuple[IdScheme, str] | None = None,
) -> StaffMember:
    """Add a staff member with these roles (at least one); ``person`` (scheme, national identifier) is
    who they are when they log in with eID on Saldo's pages."""
    if not USERNAME.match(username):
        raise ValueError(f"username {username!r}: lower-case letters, digits, '.', '_' or '-', 2-64 characters")
    granted = sorted({Role(r).value for r in roles})
    if not granted:
        raise ValueError("a staff member needs at least one role")
    repository = StaffRepository(session)
    if repository.by_username(username) is not None:
        raise StaffExistsError(f"a staff member {username!r} exists already")
    person_scheme, person_id = (None, None)
    if person is not None:
        person_scheme, person_id = person[0].value, normalize_identifier(person[0], person[1])
        if repository.by_person(person_scheme, person_id) is not None:
            raise StaffExistsError(f"a staff member with identifier {person_id} exists already")
    member = StaffMember(
        username=username, name=name.strip(), roles=granted, person_scheme=person_scheme, person_id=person_id
    )
    repository.add(member)
    return member


def find_staff(session: Session, username: str) -> StaffMember:
    member = StaffRepository(session).by_username(username)
    if member is None:
        raise UnknownStaffError(f"no staff member {username!r}")
    return member


def issue_staff_token(session: Session, *, username: str, label: str) -> str:
    """A new API token for a staff member; the secret is returned once and kept only as a hash."""
    member = find_staff(session, username)
    token, prefix = new_token(TOKEN_PREFIX)
    StaffRepository(session).add(
        StaffToken(staff_id=member.id, label=label, prefix=prefix, secret_sha256=hash_token(token))
    )
    return token


def disable_staff(session: Session, username: str, *, now: dt.datetime | None = None) -> None:
    """Disable a member: every token of theirs stops working at once."""
    member = find_staff(session, username)
    StaffRepository(session).disable(member.id, now or dt.datetime.now(dt.UTC))


def authenticate_staff(session: Session, token: str) -> StaffPrincipal:
    """The staff member behind a bearer token, or InvalidStaffTokenError."""
    if not looks_like_token(token, TOKEN_PREFIX):
        raise InvalidStaffTokenError("malformed staff token")
    row = StaffRepository(session).principal(hash_token(token))
    if row is None:
        raise InvalidStaffTokenError("unknown or revoked staff token, or a disabled staff member")
    return StaffPrincipal(staff_id=int(row[0]), username=str(row[1]), roles=frozenset(Role(r) for r in row[2]))


def require_role(principal: StaffPrincipal, *roles: Role) -> None:
    """ForbiddenError unless the principal holds one of ``roles``."""
    if not any(principal.has(r) for r in roles):
        wanted = " or ".join(r.value for r in roles)
        raise ForbiddenError(f"{principal.username} lacks the role this needs: {wanted}")


def is_staff_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def principal_of(session: Session, username: str) -> StaffPrincipal:
    """The principal of a named, enabled staff member (the CLI acts as one)."""
    member = find_staff(session, username)
    if member.disabled_at is not None:
        raise InvalidStaffTokenError(f"staff member {username!r} is disabled")
    return StaffPrincipal(staff_id=member.id, username=member.username, roles=frozenset(Role(r) for r in member.roles))


def list_staff(session: Session) -> list[StaffMember]:
    return list(StaffRepository(session).list_all())


def staff_by_person(session: Session, scheme: str, identifier: str) -> StaffPrincipal | None:
    """The enabled staff member who is this person (matched by eID identifier), if there is one."""
    member = StaffRepository(session).by_person(scheme, identifier)
    if member is None or member.disabled_at is not None:
        return None
    return StaffPrincipal(staff_id=member.id, username=member.username, roles=frozenset(Role(r) for r in member.roles))


def staff_by_id(session: Session, staff_id: int) -> StaffPrincipal | None:
    """The enabled staff member with this id, with their roles as they are now."""
    member = StaffRepository(session).by_id(staff_id)
    if member is None or member.disabled_at is not None:
        return None
    return StaffPrincipal(staff_id=member.id, username=member.username, roles=frozenset(Role(r) for r in member.roles))
