"""Connecting banks to the account register and authenticating them."""

from __future__ import annotations

from collections.abc import Sequence

from schwifty import BIC
from schwifty.exceptions import SchwiftyException
from sqlalchemy.orm import Session

from saldo.banks.errors import BankExistsError, InvalidBankError, InvalidBankTokenError, UnknownBankError
from saldo.banks.models import Bank, BankRange, BankToken
from saldo.banks.repository import BankRepository
from saldo.banks.schemas import BankOut, BankPrincipal, IssuedBankToken
from saldo.kit.account_number import AccountNumber
from saldo.kit.account_ranges import AccountRange, InvalidRangeError, parse_range, published_ranges, range_key
from saldo.kit.tokens import hash_token, looks_like_token, new_token

# Distinct from payer tokens ("saldo_"), so a leaked token says whose it is and where to revoke it.
TOKEN_MARKER = "saldobank_"  # noqa: S105 — a public marker, not a secret


def normalize_bic(raw: str) -> str:
    """A BIC (ISO 9362) validated by schwifty, upper case, 8 or 11 characters."""
    try:
        return str(BIC(raw.strip()).compact)
    except SchwiftyException as exc:
        raise InvalidBankError(f"not a valid BIC: {str(exc).rstrip('.').lower()}") from exc


def create_bank(session: Session, *, bic: str, name: str, ranges: Sequence[str] | None = None) -> BankOut:
    """Connect a bank to the account register with the account ranges it holds: those given, or
    else those the published registers give its BIC. A range another bank holds is refused."""
    code = normalize_bic(bic)
    if not name.strip():
        raise InvalidBankError("a bank needs a name")
    repository = BankRepository(session)
    if repository.by_bic(code) is not None:
        raise BankExistsError(f"a bank with BIC {code} is already connected")
    try:
        held = [parse_range(r) for r in ranges] if ranges is not None else published_ranges(code)
    except InvalidRangeError as exc:
        raise InvalidBankError(str(exc)) from exc
    _refuse_overlaps(repository, held)
    bank = repository.add(Bank(bic=code, name=name.strip()))
    repository.add_ranges([BankRange(bank_id=bank.id, scheme=r.scheme, first=r.first, last=r.last) for r in held])
    return describe_bank(session, bank.id)


def _refuse_overlaps(repository: BankRepository, held: Sequence[AccountRange]) -> None:
    for index, wanted in enumerate(held):
        for other in held[:index]:
            if wanted.overlaps(other):
                raise InvalidBankError(f"ranges {other} and {wanted} overlap")
        for row in repository.ranges_of_scheme(wanted.scheme):
            if wanted.overlaps(AccountRange(row.scheme, row.first, row.last)):
                holder = repository.get(row.bank_id)
                assert holder is not None
                raise InvalidBankError(
                    f"range {wanted} overlaps {_as_range(row)}, held by {holder.name} ({holder.bic})"
                )


def _as_range(row: BankRange) -> AccountRange:
    return AccountRange(row.scheme, row.first, row.last)


def describe_bank(session: Session, bank_id: int) -> BankOut:
    """A connected bank with the account ranges it holds."""
    repository = BankRepository(session)
    bank = repository.get(bank_id)
    if bank is None:
        raise UnknownBankError(f"no bank with id {bank_id}")
    ranges = [str(_as_range(r)) for r in repository.ranges_of(bank_id)]
    return BankOut(id=bank.id, bic=bank.bic, name=bank.name, created_at=bank.created_at, ranges=ranges)


def bank_ranges(session: Session, bank_id: int) -> list[AccountRange]:
    """The account ranges a bank holds."""
    return [_as_range(r) for r in BankRepository(session).ranges_of(bank_id)]


def holder_of(session: Session, account: AccountNumber) -> BankOut | None:
    """The connected bank whose ranges hold this account number, if any."""
    bank = BankRepository(session).holder_of(account.scheme, range_key(account))
    return describe_bank(session, bank.id) if bank is not None else None


def find_bank(session: Session, bic: str) -> BankOut:
    """The connected bank with this BIC."""
    bank = BankRepository(session).by_bic(normalize_bic(bic))
    if bank is None:
        raise UnknownBankError(f"no connected bank has BIC {bic}")
    return describe_bank(session, bank.id)


def list_banks(session: Session) -> Sequence[BankOut]:
    """Every connected bank, with its ranges."""
    return [describe_bank(session, b.id) for b in BankRepository(session).list_all()]


def issue_bank_token(session: Session, *, bank_id: int, label: str) -> IssuedBankToken:
    """Create an API token for a bank. The secret is returned once and stored only as a hash."""
    repository = BankRepository(session)
    if repository.get(bank_id) is None:
        raise UnknownBankError(f"no bank with id {bank_id}")
    token, prefix = new_token(TOKEN_MARKER)
    row = repository.add_token(BankToken(bank_id=bank_id, label=label, prefix=prefix, secret_sha256=hash_token(token)))
    return IssuedBankToken(id=row.id, bank_id=bank_id, label=label, token=token)


def is_bank_token(token: str) -> bool:
    """Whether a bearer token is a bank's (by its marker), before any lookup."""
    return looks_like_token(token, TOKEN_MARKER)


def authenticate_bank(session: Session, token: str) -> BankPrincipal:
    """The bank a bearer token belongs to, or InvalidBankTokenError."""
    if not is_bank_token(token):
        raise InvalidBankTokenError("malformed bank API token")
    found = BankRepository(session).active_token_principal(hash_token(token))
    if found is None:
        raise InvalidBankTokenError("unknown or revoked API token")
    token_id, bank_id, bic, name = found
    return BankPrincipal(bank_id=bank_id, bic=bic, name=name, token_id=token_id)
