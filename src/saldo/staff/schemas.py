from __future__ import annotations

from dataclasses import dataclass

from saldo.staff.models import Role


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    """Who at the authority is calling, and with which roles."""

    staff_id: int
    username: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles
