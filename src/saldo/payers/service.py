from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from saldo.benefits.errors import UnknownBenefitError
from saldo.benefits.repository import BenefitRepository
from saldo.kit.account_number import AccountScheme, normalize_account
from saldo.kit.national_id import IdScheme, normalize_identifier
from saldo.kit.tokens import hash_token, looks_like_token, new_token
from saldo.payers.errors import InvalidPayerError, InvalidTokenError, PayerExistsError, UnknownPayerError
from saldo.payers.models import ApiToken, ConnectionModel, Payer, PayerKind, PayerUser
from saldo.payers.repository import PayerRepository
from saldo.payers.schemas import IssuedToken, PayerOut, PayerPrincipal, TokenOut

TOKEN_PREFIX = "saldo_"  # noqa: S105 — a public marker that makes leaked tokens easy to scan for, not a secret


def create_payer(
    session: Session,
    *,
    organisation_number: str,
    name: str,
    kind: PayerKind,
    connection_model: ConnectionModel,
    debtor_account_scheme: AccountScheme,
    debtor_account: str,
    benefit_codes: Sequence[str],
    bank_id: int | None = None,
) -> Payer:
    """Connect a new payer: validated organisation number and debtor account, the benefits it pays,
    and the bank that holds the account (``bank_id``; without it, the bank whose account ranges hold
    it — an IBAN or clearing number names its bank, a Bankgiro number does not)."""
    orgnr = normalize_identifier(IdScheme.SE_ORGANISATIONSNUMMER, organisation_number)
    account = normalize_account(debtor_account_scheme, debtor_account)
    repository = PayerRepository(session)
    if repository.by_organisation_number(orgnr) is not None:
        raise PayerExistsError(f"a payer with organisation number {orgnr} is already connected")
    named = repository.banks_of_account(account.scheme, account.number)
    if bank_id is not None and named - {bank_id}:
        raise InvalidPayerError(
            f"the payers already paying from {account.number} name another bank as holding it; "
            "one account is held by one bank"
        )
    bank_id = bank_id if bank_id is not None else next(iter(named), None)
    benefits = BenefitRepository(session).by_codes(list(benefit_codes))
    unknown = sorted(set(benefit_codes) - {b.code for b in benefits})
    if unknown:
        raise UnknownBenefitError(f"unknown benefit code(s): {', '.join(unknown)}")
    payer = repository.add(
        Payer(
            organisation_number=orgnr,
            name=name.strip(),
            kind=kind,
            connection_model=connection_model,
            debtor_account_scheme=account.scheme,
            debtor_account=account.number,
            bank_id=bank_id,
        )
    )
    repository.grant_benefits(payer.id, [b.id for b in benefits])
    return payer


def set_payer_bank(session: Session, *, organisation_number: str, bank_id: int) -> Payer:
    """Name the bank that holds a payer's debtor account: its payment files go there, and only that
    bank's answers move its payments. Every payer paying from the same account gets the same bank."""
    payer = find_payer(session, organisation_number)
    PayerRepository(session).set_bank_of_account(payer.debtor_account_scheme, payer.debtor_account, bank_id)
    session.refresh(payer)
    return payer


def payer_name(session: Session, payer_id: int) -> str:
    """A payer's name, as people know it."""
    payer = PayerRepository(session).get(payer_id)
    if payer is None:
        raise UnknownPayerError(f"no payer with id {payer_id}")
    return payer.name


def describe_payer(session: Session, payer_id: int) -> PayerOut:
    """A payer with the codes of the benefits it may pay."""
    repository = PayerRepository(session)
    payer = repository.get(payer_id)
    if payer is None:
        raise UnknownPayerError(f"no payer with id {payer_id}")
    return _payer_out(payer, repository.benefit_codes(payer.id))


def list_payers(session: Session) -> list[PayerOut]:
    """Every connected payer with the benefits it may pay, by name (two queries, whatever the count)."""
    repository = PayerRepository(session)
    codes = repository.benefit_codes_by_payer()
    return [_payer_out(p, codes.get(p.id, [])) for p in repository.list_all()]


def _payer_out(payer: Payer, benefit_codes: list[str]) -> PayerOut:
    fields = {c: getattr(payer, c) for c in PayerOut.model_fields if c != "benefits"}
    return PayerOut.model_validate({**fields, "benefits": benefit_codes})


def find_payer(session: Session, organisation_number: str) -> Payer:
    """The payer with this organisation number, or UnknownPayerError."""
    orgnr = normalize_identifier(IdScheme.SE_ORGANISATIONSNUMMER, organisation_number)
    payer = PayerRepository(session).by_organisation_number(orgnr)
    if payer is None:
        raise UnknownPayerError(f"no connected payer has organisation number {orgnr}")
    return payer


def issue_token(session: Session, *, payer_id: int, label: str) -> IssuedToken:
    """Create an API token for a payer. The secret is returned once and stored only as a hash."""
    if PayerRepository(session).get(payer_id) is None:
        raise UnknownPayerError(f"no payer with id {payer_id}")
    token, prefix = new_token(TOKEN_PREFIX)
    row = PayerRepository(session).add_token(
        ApiToken(payer_id=payer_id, label=label, prefix=prefix, secret_sha256=hash_token(token))
    )
    return IssuedToken(id=row.id, payer_id=payer_id, label=label, token=token)


def list_tokens(session: Session, payer_id: int) -> list[TokenOut]:
    """A payer's tokens, active and revoked, without their secrets."""
    return [TokenOut.model_validate(t) for t in PayerRepository(session).tokens(payer_id)]


def revoke_token(session: Session, *, token_id: int, now: dt.datetime | None = None) -> None:
    """Revoke a token; it stops working at once. Revoking twice is an error, not a silent no-op."""
    at = now or dt.datetime.now(dt.UTC)
    if not PayerRepository(session).revoke_token(token_id, at):
        raise InvalidTokenError(f"no active token with id {token_id}")


def authenticate(session: Session, token: str) -> PayerPrincipal:
    """The payer a bearer token belongs to, or InvalidTokenError for a malformed, unknown or revoked one."""
    if not looks_like_token(token, TOKEN_PREFIX):
        raise InvalidTokenError("malformed API token")
    found = PayerRepository(session).active_token_principal(hash_token(token))
    if found is None:
        raise InvalidTokenError("unknown or revoked API token")
    token_id, payer_id, organisation_number, name, connection_model = found
    return PayerPrincipal(
        payer_id=payer_id,
        organisation_number=organisation_number,
        name=name,
        connection_model=ConnectionModel(connection_model),
        token_id=token_id,
    )


def add_payer_user(session: Session, *, organisation_number: str, personnummer: str, name: str) -> PayerUser:
    """Let a person (by Swedish personal identity number) work in the payer's pages after eID login."""
    payer = find_payer(session, organisation_number)
    identifier = normalize_identifier(IdScheme.SE_PERSONNUMMER, personnummer)
    repository = PayerRepository(session)
    if repository.user_principal(IdScheme.SE_PERSONNUMMER.value, identifier) is not None:
        raise PayerExistsError(f"{identifier} is already a user of a payer")
    return repository.add_user(
        PayerUser(
            payer_id=payer.id, person_scheme=IdScheme.SE_PERSONNUMMER.value, person_id=identifier, name=name.strip()
        )
    )


def payer_user_principal(session: Session, *, scheme: str, identifier: str) -> PayerPrincipal | None:
    """The payer a logged-in person works for, if they are an enabled user of one."""
    return _user_principal(PayerRepository(session).user_principal(scheme, identifier))


def payer_user_by_id(session: Session, user_id: int) -> PayerPrincipal | None:
    """The payer of an enabled user, by the user's id (each page request of a payer session)."""
    return _user_principal(PayerRepository(session).user_principal_by_id(user_id))


def _user_principal(found: Any) -> PayerPrincipal | None:
    if found is None:
        return None
    return PayerPrincipal(
        payer_id=int(found[1]),
        organisation_number=str(found[2]),
        name=str(found[3]),
        connection_model=ConnectionModel(found[4]),
        token_id=0,
        user_id=int(found[0]),
    )
