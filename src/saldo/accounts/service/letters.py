"""Letters to a person's registered address: the second channel that reaches the person whatever
happens online. They wait in the ``letters`` outbox until the print service sends them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from saldo.accounts.models import Letter, LetterStatus
from saldo.accounts.repository import AccountRepository
from saldo.kit.national_id import IdScheme, kind_of
from saldo.payees.repository import PayeeRepository


def write_letter(session: Session, scheme: IdScheme, identifier: str, *, kind: str, payload: dict[str, object]) -> int:
    """A letter of ``kind`` to the person's registered address, in the outbox; its id."""
    payee_id = PayeeRepository(session).ensure_one(scheme.value, identifier, kind_of(scheme).value)
    letter = AccountRepository(session).add_letter(
        Letter(payee_id=payee_id, kind=kind, status=LetterStatus.PENDING, payload=payload)
    )
    return letter.id
