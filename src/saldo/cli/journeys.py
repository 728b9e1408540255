"""What the demo leaves for people to try, so every journey in the docs can be walked in it: a citizen
with several accounts to choose between, one of their payments held and one cancelled by the payer,
selected findings nobody has triaged yet, and an information request a payer's user can answer.

Everything goes through the services a bank, a payer and the authority's staff use; what was left is
written to ``journeys.json`` beside the tokens, and the demo says it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from saldo.analysis.service.pseudonyms import Pseudonymiser
    from saldo.kit.national_id import IdScheme
    from saldo.payers.schemas import PayerPrincipal
    from saldo.payments.schemas import PaymentOut


@dataclass
class Journeys:
    """What was left to try, by whom."""

    citizen: dict[str, str] = field(default_factory=dict)  # scheme, identifier, name
    citizen_accounts: list[str] = field(default_factory=list)
    held_payment: str = ""  # references, of the citizen's payer
    cancelled_payment: str = ""
    payer: str = ""  # the payer that held and cancelled them
    untriaged_findings: int = 0
    open_request_case: str = ""
    open_request_payer: str = ""  # organisation number
    open_request_user: str = ""  # the name of a person who answers it in the payer's pages


# Who works for the citizen's payer in its pages, when the demo's first payer users work elsewhere
PAYER_USER = ("198709141231", "Vera Utbetalare")


def leave_journeys(
    session: Session,
    pseudonyms: Pseudonymiser,
    *,
    payer_tokens: dict[str, str],
    bank_tokens: dict[str, str],
    payer_users: dict[str, str],
) -> Journeys:
    """``payer_tokens`` and ``bank_tokens`` by organisation number and BIC; ``payer_users`` the name
    of a person who works in the pages of a payer, by its organisation number."""
    from saldo.cases.service import triage_queue
    from saldo.payers.service import add_payer_user, authenticate
    from saldo.staff.service import principal_of

    left = Journeys()
    every = {orgnr: authenticate(session, token) for orgnr, token in payer_tokens.items()}
    _citizen_with_choices(session, left, every, bank_tokens)
    users = dict(payer_users)
    if left.payer and left.payer not in users:
        add_payer_user(session, organisation_number=left.payer, personnummer=PAYER_USER[0], name=PAYER_USER[1])
        users[left.payer] = PAYER_USER[1]
    # the citizen's payer first, so one person's pages show the held, the cancelled and the request
    order = sorted(users, key=lambda orgnr: orgnr != left.payer)
    _open_request(session, pseudonyms, left, {orgnr: every[orgnr] for orgnr in order}, users)
    left.untriaged_findings = len(triage_queue(session, principal_of(session, "anna.analytiker"), limit=10_000))
    return left


def _citizen_with_choices(
    session: Session, left: Journeys, principals: dict[str, PayerPrincipal], bank_tokens: dict[str, str]
) -> None:
    """The first person the development eID offers with two upcoming payments from one payer: a second
    account at their bank, one payment held and one cancelled by that payer."""
    from schwifty import IBAN

    from saldo.accounts.schemas import AccountRecordIn, AccountRecordsIn, HolderIn
    from saldo.accounts.service.register import register_accounts
    from saldo.banks.service import authenticate_bank
    from saldo.identity.repository import sample_persons
    from saldo.kit.account_number import AccountScheme
    from saldo.kit.clock import today
    from saldo.kit.national_id import IdScheme
    from saldo.payments.service.cancel import cancel_payment
    from saldo.payments.service.hold import hold_payment
    from saldo.payments.service.register import payer_actor

    for scheme, identifier, name in sample_persons(session, 8):
        for orgnr, payer in principals.items():
            upcoming = _upcoming(session, payer, IdScheme(scheme), identifier)
            if len(upcoming) < 2 or upcoming[0].account_scheme is not AccountScheme.IBAN:
                continue
            current = IBAN(upcoming[0].account)
            second = IBAN.generate("SE", bank_code=current.bank_code, account_code=f"9{identifier[2:]}".rjust(16, "0"))
            if current.bic is None or str(current.bic) not in bank_tokens:
                continue
            bank = authenticate_bank(session, bank_tokens[str(current.bic)])
            holder = HolderIn(id_scheme=IdScheme(scheme), identifier=identifier, name=name)
            record = AccountRecordIn(
                account_scheme=AccountScheme.IBAN,
                account=second.compact,
                opened_on=today() - dt.timedelta(days=40),
                holders=[holder],
            )
            register_accounts(
                session, bank=bank, request=AccountRecordsIn(accounts=[record]), max_records=10, max_errors=10
            )
            held, cancelled = upcoming[0], upcoming[1]
            hold_payment(
                session,
                payment_id=held.id,
                actor=payer_actor(payer),
                reason="the decision is appealed; paid once the appeal is decided",
                payer_id=payer.payer_id,
            )
            cancel_payment(session, payer=payer, payment_id=cancelled.id, reason="replaced by a new decision")
            left.citizen = {"scheme": scheme, "identifier": identifier, "name": name}
            left.citizen_accounts = [current.compact, second.compact]
            left.held_payment, left.cancelled_payment, left.payer = held.reference, cancelled.reference, orgnr
            return


def _upcoming(session: Session, payer: PayerPrincipal, scheme: IdScheme, identifier: str) -> list[PaymentOut]:
    from saldo.payments.models import PaymentStatus
    from saldo.payments.repository import PaymentFilter
    from saldo.payments.service.query import list_payments

    filters = PaymentFilter(status=PaymentStatus.VERIFIED, payees=((scheme, identifier),))
    return list_payments(session, payer_id=payer.payer_id, filters=filters, after=None, limit=2).items


def _open_request(
    session: Session,
    pseudonyms: Pseudonymiser,
    left: Journeys,
    principals: dict[str, PayerPrincipal],
    users: dict[str, str],
) -> None:
    """A case on an untriaged finding about a payment of a payer with users, with an information
    request out to that payer: its user answers it in the payer's pages."""
    from saldo.cases.service import assign_case, case_persons, open_case, triage_queue
    from saldo.inforequests.service import send_request
    from saldo.kit.clock import today
    from saldo.oversight.repository import OversightRepository
    from saldo.staff.service import principal_of

    analyst = principal_of(session, "anna.analytiker")
    auditor = principal_of(session, "erik.granskare")
    parties = OversightRepository(session)
    queue = triage_queue(session, analyst, limit=10_000)
    payer_of = {f.id: parties.payment_parties(f.payment_ids[0])[0] for f in queue if f.payment_ids}
    chosen = next(
        ((f, orgnr) for orgnr, p in principals.items() for f in queue if payer_of.get(f.id) == p.payer_id), None
    )
    if chosen is None:
        raise RuntimeError("no untriaged finding about a payer with users: the demo cannot leave a request open")
    finding, orgnr = chosen
    case = open_case(session, analyst, pseudonyms, finding_ids=[finding.id], purpose="suspected_error")
    assign_case(session, auditor, case.id, to=auditor.username)
    person = case_persons(session, case.id)[0]
    send_request(
        session,
        auditor,
        case_id=case.id,
        payer_id=principals[orgnr].payer_id,
        person=(person.person_scheme, person.person_id),
        categories_asked=["decision_basis", "declared_income"],
        question="What did the person declare as income, and on what grounds was the benefit decided?",
        deadline=today() + dt.timedelta(days=14),
        channel="cli",
    )
    left.open_request_case = case.reference
    left.open_request_payer, left.open_request_user = orgnr, users[orgnr]
