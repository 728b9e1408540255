"""Who did it, named: a history keeps its actors as stable codes (``payer:3:user:7``,
``staff:eva``, ``bank:NDEASESS:camt.054:MSG-1``, ``system:payment-run``), and the pages show
people and organisations by name. One query per kind of actor, whatever the number of lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from saldo.payments.repository import ActorRepository


class ActorKind(StrEnum):
    PAYER_USER = "payer_user"  # a person at a payer, in Saldo's pages
    PAYER_API = "payer_api"  # a payer's system, by API token
    PAYER = "payer"  # a payer, not saying who
    STAFF = "staff"  # a person at the payment authority
    OPERATOR = "operator"  # someone at the authority on the command line
    BANK = "bank"  # a bank, by its message or its register report
    SYSTEM = "system"  # Saldo itself: the account check, a payment run
    UNKNOWN = "unknown"  # shown as recorded


@dataclass(frozen=True, slots=True)
class ActorName:
    kind: ActorKind
    name: str  # the person's or organisation's name; for SYSTEM, its code (the page translates it)
    of: str | None = None  # the organisation a person acts for
    detail: str | None = None  # a bank's message: type and id


def name_actors(session: Session, actors: Iterable[str]) -> dict[str, ActorName]:
    """Each distinct actor code with the name to show for it."""
    codes = {a for a in actors if a}
    parts = {code: code.split(":") for code in codes}
    payer_ids = {int(p[1]) for p in parts.values() if p[0] == "payer" and len(p) > 1 and p[1].isdigit()}
    user_ids = {int(p[3]) for p in parts.values() if p[0] == "payer" and len(p) == 4 and p[3].isdigit()}
    usernames = {p[1] for p in parts.values() if p[0] == "staff" and len(p) == 2}
    bank_keys = {p[1] for p in parts.values() if p[0] == "bank" and len(p) > 1}
    repository = ActorRepository(session)
    payers = repository.payer_names(payer_ids)
    users = repository.payer_user_names(user_ids)
    staff = repository.staff_names(usernames)
    banks = repository.bank_names(bank_keys)
    return {code: _name(code, p, payers, users, staff, banks) for code, p in parts.items()}


def _name(
    code: str,
    p: list[str],
    payers: dict[int, str],
    users: dict[int, str],
    staff: dict[str, str],
    banks: dict[str, str],
) -> ActorName:
    kind, key = p[0], p[1] if len(p) > 1 else ""
    named: ActorName | None = None
    if kind == "payer" and key.isdigit() and int(key) in payers:
        named = _payer(p, payers[int(key)], users)
    elif kind == "staff" and len(p) == 2:
        named = ActorName(ActorKind.STAFF, staff.get(key, key))
    elif kind == "operator" and len(p) == 2:
        named = ActorName(ActorKind.OPERATOR, key)
    elif kind == "bank" and key in banks:
        named = ActorName(ActorKind.BANK, banks[key], detail=" ".join(p[2:]) or None)
    elif kind == "system" and len(p) == 2:
        named = ActorName(ActorKind.SYSTEM, key)
    return named or ActorName(ActorKind.UNKNOWN, code)


def _payer(p: list[str], payer: str, users: dict[int, str]) -> ActorName:
    if len(p) == 4 and p[2] == "user" and p[3].isdigit() and int(p[3]) in users:
        return ActorName(ActorKind.PAYER_USER, users[int(p[3])], of=payer)
    if len(p) == 4 and p[2] == "token":
        return ActorName(ActorKind.PAYER_API, payer)
    return ActorName(ActorKind.PAYER, payer)
