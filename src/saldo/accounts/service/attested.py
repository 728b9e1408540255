"""Accounts the payee's own bank attests in the EU wallet: designating an account at a bank that does
not report to the account register (a bank in another EU country), with the attestation as the
evidence. The register stays the authority for the banks connected to it: an attestation never
contradicts what a connected bank reported, it only fills in what no bank here could tell."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.accounts.errors import DesignationRefusedError
from saldo.accounts.models import AccountChange, Channel
from saldo.accounts.repository import AccountRepository
from saldo.accounts.schemas import DesignationIn, DesignationOut, PartyIn
from saldo.accounts.service.designate import designate_account
from saldo.banks.errors import InvalidBankError
from saldo.banks.models import Bank
from saldo.banks.repository import BankRepository
from saldo.banks.service import bank_ranges, holder_of, normalize_bic
from saldo.kit.account_number import AccountNumber, AccountScheme, normalize_account
from saldo.kit.clock import today
from saldo.kit.national_id import IdScheme, kind_of, normalize_identifier

SOURCE = "wallet_attestation"


@dataclass(frozen=True, slots=True)
class AttestedAccount:
    """What a verified account attestation says, for the person it was checked against."""

    iban: str
    bic: str
    bank_name: str  # the attestation's issuing organisation, as the bank calls itself
    holder_name: str  # the account holder as the bank registered them
    holder_scheme: IdScheme  # the person, as the PID and the session identify them
    holder_identifier: str
    attested_by: str  # the attestation's issuer (its certificate subject)


def designate_attested_account(
    session: Session, attested: AttestedAccount, *, actor: str, evidence: dict[str, object]
) -> DesignationOut:
    """Designate the attested account for the person's public payments, recording it in the
    register first when no bank here reports it. Refused when the register says otherwise: the
    account is a connected bank's and the person does not hold it there, or it is closed."""
    account = _iban(attested.iban)
    bic = _bic(attested.bic)
    identifier = normalize_identifier(attested.holder_scheme, attested.holder_identifier)
    repository = AccountRepository(session)
    found = repository.account_with_bank(account.scheme.value, account.number)
    if found is None:
        connected = holder_of(session, account)
        if connected is not None:
            raise DesignationRefusedError(
                f"{connected.name} reports its accounts to the account register and has not reported "
                f"{account.number}; ask the bank to report it, or choose one of the accounts you hold"
            )
        bank_id = _attesting_bank(session, bic, attested.bank_name, account)
        account_id = repository.insert_accounts(bank_id, [(account.scheme.value, account.number, today(), None)])[
            (account.scheme.value, account.number)
        ]
        repository.insert_events(
            [(account_id, AccountChange.OPENED, None, None, {"opened_on": today(), "bic": bic}, today())],
            actor=_event_actor(attested),
            source=SOURCE,
        )
        _add_holding(repository, account_id, attested, identifier)
    else:
        stored = found[0]
        if not repository.holding_exists(stored.id, attested.holder_scheme.value, identifier):
            if bank_ranges(session, stored.bank_id):
                # a connected bank's account: the register has it from the bank, and it says otherwise
                raise DesignationRefusedError(
                    f"the account register has {account.number} from {found[1]}, which does not list you as its "
                    "holder; ask the bank to correct it"
                )
            _add_holding(repository, stored.id, attested, identifier)  # a co-owner, attested by the same bank
    request = DesignationIn(
        payee=PartyIn(id_scheme=attested.holder_scheme, identifier=identifier),
        account_scheme=AccountScheme.IBAN,
        account=account.number,
    )
    return designate_account(session, request, channel=Channel.WALLET, actor=actor, evidence=evidence)


def _iban(raw: str) -> AccountNumber:
    try:
        return normalize_account(AccountScheme.IBAN, raw)
    except ValueError as error:
        raise DesignationRefusedError(f"the attestation's account: {error}") from None


def _bic(raw: str) -> str:
    try:
        return normalize_bic(raw)
    except InvalidBankError as error:
        raise DesignationRefusedError(f"the attestation's bank: {error}") from None


def _attesting_bank(session: Session, bic: str, name: str, account: AccountNumber) -> int:
    """The bank known by this BIC, recorded when first met. A connected bank (one with account
    ranges) whose ranges do not hold the account is not the account's bank."""
    banks = BankRepository(session)
    bank = banks.by_bic(bic)
    if bank is None:
        return banks.add(Bank(bic=bic, name=(name.strip() or bic)[:200])).id
    if bank_ranges(session, bank.id):
        raise DesignationRefusedError(f"{account.number} is not among the accounts {bank.name} ({bic}) holds")
    return bank.id


def _add_holding(repository: AccountRepository, account_id: int, attested: AttestedAccount, identifier: str) -> None:
    scheme = attested.holder_scheme.value
    name = attested.holder_name[:140]
    repository.insert_holders([(account_id, scheme, identifier, kind_of(attested.holder_scheme).value, name, today())])
    repository.insert_events(
        [(account_id, AccountChange.HOLDER_ADDED, scheme, identifier, {"name": name}, today())],
        actor=_event_actor(attested),
        source=SOURCE,
    )


def _event_actor(attested: AttestedAccount) -> str:
    return f"attestation:{attested.attested_by}"[:100]
