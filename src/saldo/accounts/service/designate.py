"""Designated accounts: the one account a payee's public payments go to (as with Denmark's NemKonto)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from saldo.accounts.errors import AccountNotFoundError, DesignationRefusedError
from saldo.accounts.models import AccountDesignation, Channel, Letter, LetterStatus
from saldo.accounts.repository import AccountRepository
from saldo.accounts.schemas import DesignationIn, DesignationOut, PartyIn
from saldo.kit.account_number import normalize_account
from saldo.kit.clock import today
from saldo.kit.national_id import kind_of, normalize_identifier
from saldo.payees.repository import PayeeRepository

LETTER_KIND = "designated_account_changed"


def mask_account(number: str) -> str:
    """An account number safe to print in a letter: the first four and last four characters."""
    return f"{number[:4]} **** {number[-4:]}" if len(number) > 8 else "****"


def designate_account(
    session: Session,
    request: DesignationIn,
    *,
    channel: Channel,
    actor: str,
    bank_id: int | None = None,
    evidence: dict[str, object] | None = None,
) -> DesignationOut:
    """Make an account the payee's designated account. The payee must hold it and it must be open.
    A change is told to the payee by letter to the registered address; designating the account
    already designated changes nothing. With ``bank_id``, only that bank's accounts are found;
    ``evidence`` is kept with a new designation (what it rests on beyond the register)."""
    identifier = normalize_identifier(request.payee.id_scheme, request.payee.identifier)
    account = normalize_account(request.account_scheme, request.account)
    repository = AccountRepository(session)
    found = repository.account_with_bank(account.scheme.value, account.number)
    if bank_id is not None and (found is None or found[0].bank_id != bank_id):
        # a bank designates only its own accounts; another bank's account and an unknown one answer alike
        raise AccountNotFoundError(f"no account {account.number} in the register")
    if found is None:
        raise DesignationRefusedError("no bank has reported this account to the account register")
    stored = found[0]
    if stored.closed_on is not None and stored.closed_on <= today():
        raise DesignationRefusedError("the account is closed")
    if not repository.holding_exists(stored.id, request.payee.id_scheme.value, identifier):
        raise DesignationRefusedError("the payee does not hold this account")
    payee_id = PayeeRepository(session).ensure_one(
        request.payee.id_scheme.value, identifier, kind_of(request.payee.id_scheme).value
    )
    current = repository.current_designation(payee_id)
    payee = PartyIn(id_scheme=request.payee.id_scheme, identifier=identifier)
    if current is not None and current[0] == stored.id:
        return DesignationOut(
            payee=payee,
            account_scheme=account.scheme,
            account=account.number,
            previous_account=account.number,
            channel=channel,
            actor=actor,
            designated_at=current[3],
            changed=False,
            letter_id=None,
        )
    designation = repository.add_designation(
        AccountDesignation(payee_id=payee_id, account_id=stored.id, channel=channel, actor=actor, evidence=evidence)
    )
    session.refresh(designation, ["designated_at"])
    previous = current[2] if current is not None else None
    letter = repository.add_letter(
        Letter(
            payee_id=payee_id,
            kind=LETTER_KIND,
            status=LetterStatus.PENDING,
            payload={
                "account": mask_account(account.number),
                "previous_account": mask_account(previous) if previous else None,
                "channel": channel.value,
                "designated_at": designation.designated_at.isoformat(),
            },
        )
    )
    return DesignationOut(
        payee=payee,
        account_scheme=account.scheme,
        account=account.number,
        previous_account=previous,
        channel=channel,
        actor=actor,
        designated_at=designation.designated_at,
        changed=True,
        letter_id=letter.id,
    )
