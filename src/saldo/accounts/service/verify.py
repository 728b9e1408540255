"""Verification of payee (EPC VOP): does this account belong to this name or this identifier?"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from saldo.accounts.errors import InvalidCheckError, TooManyChecksError
from saldo.accounts.repository import AccountRepository, VopRow
from saldo.accounts.schemas import VopBulkItem, VopBulkOut, VopCheckIn, VopResult
from saldo.accounts.service.records import check_name
from saldo.kit.account_number import normalize_account
from saldo.kit.clock import today
from saldo.kit.name_match import Outcome, Thresholds, match_name
from saldo.kit.national_id import IdKind, normalize_identifier
from saldo.settings import Settings


class VopReason(StrEnum):
    """Reasons that come from the register rather than from comparing names."""

    IDENTIFIER_MATCH = "identifier_match"  # the identifier given is a holder of the account
    IDENTIFIER_MISMATCH = "identifier_mismatch"  # the identifier given holds no part of the account
    ACCOUNT_UNKNOWN = "account_unknown"  # no bank has reported the account
    ACCOUNT_CLOSED = "account_closed"
    NO_HOLDER = "no_holder"  # the account is open but has no current holder
    REGISTER_UNAVAILABLE = "register_unavailable"  # the register could not be read: try again


class PreparedCheck:
    """One check, validated: canonical account, name, identifier."""

    __slots__ = ("identifier", "key", "name")

    def __init__(self, check: VopCheckIn) -> None:
        account = normalize_account(check.account_scheme, check.account)
        self.key = (account.scheme.value, account.number)
        try:
            self.name = check_name(check.name, IdKind.ORGANISATION) if check.name is not None else None
        except ValueError as exc:
            raise InvalidCheckError(f"name: {exc}") from exc
        self.identifier = (
            (check.party.id_scheme.value, normalize_identifier(check.party.id_scheme, check.party.identifier))
            if check.party is not None
            else None
        )
        if self.name is None and self.identifier is None:
            raise InvalidCheckError("give the payee's name, its identifier (party), or both")


def thresholds_from(settings: Settings) -> Thresholds:
    """The name-matching thresholds Saldo is configured with."""
    return Thresholds(match=settings.vop_match_threshold, close_match=settings.vop_close_match_threshold)


_STRENGTH = {Outcome.MATCH: 0, Outcome.CLOSE_MATCH: 1, Outcome.NO_MATCH: 2, Outcome.NOT_POSSIBLE: 3}


def _not_possible(reason: VopReason) -> VopResult:
    return VopResult(outcome=Outcome.NOT_POSSIBLE, epc_code=Outcome.NOT_POSSIBLE.epc_code, reason=reason.value)


def decide(request: PreparedCheck, rows: Sequence[VopRow], on: dt.date, thresholds: Thresholds) -> VopResult:
    """The answer for a validated check, from the account's rows in the register (none: unknown)."""
    if not rows:
        return _not_possible(VopReason.ACCOUNT_UNKNOWN)
    closed_on = rows[0][0]
    if closed_on is not None and closed_on <= on:
        return _not_possible(VopReason.ACCOUNT_CLOSED)
    holders = [r for r in rows if r[1] is not None]
    if not holders:
        return _not_possible(VopReason.NO_HOLDER)
    if request.identifier is not None:
        held = any((h[1], h[2]) == request.identifier for h in holders)
        outcome = Outcome.MATCH if held else Outcome.NO_MATCH
        reason = VopReason.IDENTIFIER_MATCH if held else VopReason.IDENTIFIER_MISMATCH
        return VopResult(outcome=outcome, epc_code=outcome.epc_code, reason=reason.value)
    assert request.name is not None
    # A joint account: the name may be any holder's; the best answer counts.
    matches = [
        (match_name(request.name, h[4], organisation=h[3] == IdKind.ORGANISATION, thresholds=thresholds), h[4])
        for h in holders
    ]
    match, registered = min(matches, key=lambda m: (_STRENGTH[m[0].outcome], -m[0].score))
    return VopResult(
        outcome=match.outcome,
        epc_code=match.outcome.epc_code,
        reason=match.reason.value,
        # EPC VOP: with a close match the payer is shown the name as registered, and only then.
        registered_name=registered if match.outcome is Outcome.CLOSE_MATCH else None,
    )


def check_payee(session: Session, check: VopCheckIn, *, thresholds: Thresholds) -> VopResult:
    """Verify one account against a name and/or identifier. Bad input raises (InvalidAccountError,
    InvalidIdentifierError, ValueError); an unreadable register answers NOT_POSSIBLE."""
    request = PreparedCheck(check)
    try:
        rows = AccountRepository(session).vop_rows(*request.key)
    except OperationalError:
        return _not_possible(VopReason.REGISTER_UNAVAILABLE)
    return decide(request, rows, today(), thresholds)


def check_payees(
    session: Session, checks: Sequence[VopCheckIn], *, thresholds: Thresholds, max_checks: int
) -> VopBulkOut:
    """Verify many accounts in one round trip; a bad check gets an error item, the others an answer."""
    if len(checks) > max_checks:
        raise TooManyChecksError(f"{len(checks)} checks in one request; at most {max_checks}")
    requests: list[PreparedCheck | str] = []
    for check in checks:
        try:
            requests.append(PreparedCheck(check))
        except ValueError as exc:  # InvalidAccountError and InvalidIdentifierError are ValueErrors
            requests.append(str(exc))
    keys = list({r.key for r in requests if isinstance(r, PreparedCheck)})
    on = today()
    try:
        rows = AccountRepository(session).vop_rows_many(keys)
    except OperationalError:
        rows = None
    items: list[VopBulkItem] = []
    counts: Counter[str] = Counter()
    for index, request in enumerate(requests):
        if isinstance(request, str):
            items.append(VopBulkItem(index=index, error=request))
            counts["error"] += 1
            continue
        result = (
            decide(request, rows.get(request.key, []), on, thresholds)
            if rows is not None
            else _not_possible(VopReason.REGISTER_UNAVAILABLE)
        )
        items.append(VopBulkItem(index=index, result=result))
        counts[result.outcome.value] += 1
    return VopBulkOut(results=items, counts=dict(counts))
