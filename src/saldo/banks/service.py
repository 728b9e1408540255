"""Connecting banks to the account register and authenticating them."""

from __future__ import annotations

from collections.abc import Sequence

from schwifty import BIC
from schwifty.exceptions import SchwiftyException
from sqlalchemy.orm import Session

from saldo.banks.errors import BankExistsError, InvalidBankError, InvalidBankTokenError, UnknownBankError
from saldo.banks.models import Bank, BankToken
from saldo.banks.repository import BankRepository
from saldo.banks.schemas import BankOut, BankPrincipal, IssuedBankToken
from saldo.kit.tokens import hash_token, looks_like_token, new_token

# Distinct from payer tokens ("saldo_"), so a leaked token says whose it is and where to revoke it.
TOKEN_MARKER = "saldobank_"  # noqa: S105 — a public marker, not a secret


def normalize_bic(raw: str) -> str:
    """A BIC (ISO 9362) validated by schwifty, upper case, 8 or 11 characters."""
    try:
        return str(BIC(raw.strip()).compact)
    except SchwiftyException as exc:
        raise InvalidBankError(f"not a valid BIC: {str(exc).rstrip('.').lower()}") from exc


def create_bank(session: Session, *, bic: str, name: str) -> BankOut:
    """Connect a bank to the account register."""
    code = normalize_bic(bic)
    if not name.strip():
        raise InvalidBankError("a bank needs a name")
    repository = BankRepository(session)
    if repository.by_bic(code) is not None:
        raise BankExistsError(f"a bank with BIC {code} is already connected")
    return BankOut.model_validate(repository.add(Bank(bic=code, name=name.strip())))


def find_bank(session: Session, bic: str) -> BankOut:
    """The connected bank with this BIC."""
    bank = BankRepository(session).by_bic(normalize_bic(bic))
    if bank is None:
        raise UnknownBankError(f"no connected bank has BIC {bic}")
    return BankOut.model_validate(bank)


def list_banks(session: Session) -> Sequence[BankOut]:
    """Every connected bank."""
    return [BankOut.model_validate(b) for b in BankRepository(session).list_all()]


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
