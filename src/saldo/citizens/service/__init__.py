"""The citizen's overview: every public payment from every payer on one page, the account they go
to, the checks that ran and who at the authority looked at their data. Reading it is the citizen's
right (förordning 2023:462 §4); a caseworker reading it on their behalf is logged."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from saldo.accounts.errors import DesignationRefusedError
from saldo.accounts.models import Channel
from saldo.accounts.schemas import DesignationIn, DesignationOut, PartyIn
from saldo.accounts.service.designate import designate_account
from saldo.analysis.service.catalogue import Rule, load_catalogue
from saldo.citizens.repository import CitizenRepository
from saldo.citizens.schemas import (
    AccessLine,
    Account,
    ChecksRan,
    CitizenOverview,
    CrossBorderExchange,
    Designation,
    ExchangedSed,
    IssuedCredential,
    PaymentGroup,
    PaymentLine,
    RuleRun,
    Total,
)
from saldo.credentials.models import PresentationRequest
from saldo.credentials.service import account_attestation
from saldo.db.replica import PRIMARY, ReadFrom, Reads
from saldo.identity.schemas import SessionPrincipal
from saldo.identity.service import log_assisted_read
from saldo.kit.clock import today, utcnow
from saldo.kit.national_id import IdScheme
from saldo.payments.models import PaymentStatus

ACCESS_SHOWN = 50  # the newest entries on the page; the rest are a request away (docs/citizen-pages.md)
GROUP_OF: dict[str, PaymentGroup] = {
    PaymentStatus.REGISTERED: PaymentGroup.UPCOMING,
    PaymentStatus.VERIFIED: PaymentGroup.UPCOMING,
    PaymentStatus.SCHEDULED: PaymentGroup.UPCOMING,
    PaymentStatus.HELD: PaymentGroup.HELD,
    PaymentStatus.SENT: PaymentGroup.PAID,
    PaymentStatus.SETTLED: PaymentGroup.PAID,
    PaymentStatus.REPORTED: PaymentGroup.PAID,
    PaymentStatus.RETURNED: PaymentGroup.NOT_PAID,
    PaymentStatus.REJECTED: PaymentGroup.NOT_PAID,
    PaymentStatus.CANCELLED: PaymentGroup.CANCELLED,
}
FAR_FUTURE = dt.date(9999, 1, 1)


@cache
def _rules() -> dict[str, Rule]:
    return {rule.id: rule for rule in load_catalogue()}


def overview_window(year: int | None, now: dt.date) -> tuple[int, dt.date, dt.date]:
    """The year shown and its due dates [start, end): this year's view also holds every payment due
    later (upcoming); an earlier year's view holds that year's payments."""
    shown = year or now.year
    end = FAR_FUTURE if shown >= now.year else dt.date(shown + 1, 1, 1)
    return shown, dt.date(shown, 1, 1), end


def citizen_overview(session: Session, principal: SessionPrincipal, *, year: int | None = None) -> CitizenOverview:
    """The overview of the person the session is about; a caseworker's read of it is logged."""
    return overview_read(session, principal, year=year)[0]


def overview_read(
    session: Session, principal: SessionPrincipal, *, year: int | None = None, reads: Reads | None = None
) -> tuple[CitizenOverview, ReadFrom]:
    """The overview, and where it was read: on the replica when ``reads`` is given and the replica
    is fit (saldo.db.replica; for the statement, a PDF to keep, not a page after a change), else on
    ``session``. A caseworker's read of it is logged on the primary."""
    scheme, identifier = principal.subject_key()
    now = today()
    shown, start, end = overview_window(year, now)

    def read(reading: Session) -> Any:
        return CitizenRepository(reading).overview(
            scheme, identifier, start=start, end=end, today=now, access_limit=ACCESS_SHOWN
        )

    row, read_from = reads.run(read, session) if reads is not None else (read(session), PRIMARY)
    log_assisted_read(session, principal, action="read_overview", details={"year": shown})
    return overview_of(row, shown, now), read_from


def person_overview(session: Session, scheme: str, identifier: str, *, year: int) -> CitizenOverview:
    """A person's overview of ``year`` for a release the caller logs itself (evidence the person
    approved to send abroad, saldo.onceonly), not for a page."""
    now = today()
    shown, start, end = overview_window(year, now)
    row = CitizenRepository(session).overview(
        scheme, identifier, start=start, end=end, today=now, access_limit=ACCESS_SHOWN
    )
    return overview_of(row, shown, now)


def overview_of(row: Any, shown: int, now: dt.date) -> CitizenOverview:
    """The overview from the statement's row (``CitizenRepository.overview``, or the fast path's)."""
    lines = [_line(r) for r in row.payments]
    years = [now.year]
    if row.span and row.span[0] is not None:
        first, last = int(row.span[0][:4]), int(row.span[1][:4])
        years = list(range(max(last, now.year), first - 1, -1))
    designation = None
    if row.designation is not None:
        found = row.designation
        designation = Designation(
            account_scheme=found[0], account=found[1], bank=found[2], designated_at=found[3], channel=found[4]
        )
    return CitizenOverview(
        person_scheme=row.person_scheme,
        person_id=row.person_id,
        year=shown,
        years=years,
        payments=lines,
        totals=totals_of(lines),
        designation=designation,
        held_accounts=[Account(account_scheme=r[0], account=r[1], bank=r[2]) for r in row.held],
        checks=_checks(row.last_run),
        access=[
            AccessLine(
                at=r[0],
                role=r[1],
                channel=r[2],
                action=r[3],
                purpose=r[4],
                case_reference=r[5],
                payer=r[6],
                authority=r[7],
            )
            for r in row.access
        ],
        exchanges=[
            CrossBorderExchange(
                case_id=e[0],
                buc_type=e[1],
                institution=e[2],
                country=e[2].split(":", 1)[0],
                started_here=e[3],
                purpose=e[4],
                opened_at=e[5],
                closed=e[6],
                seds=[ExchangedSed(sed_type=d[0], direction=d[1], at=d[2], institution=d[3]) for d in e[7]],
            )
            for e in row.exchanges
        ],
        credentials=[
            IssuedCredential(
                document_number=k[0],
                kind=k[1],
                state=k[2],
                valid_from=k[3],
                valid_until=k[4],
                issued_at=k[5],
                in_wallet_since=k[6],
            )
            for k in row.credentials
        ],
    )


def totals_of(lines: list[PaymentLine]) -> list[Total]:
    """Sums per group and currency (never across currencies)."""
    sums: dict[tuple[PaymentGroup, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        entry = sums[(line.group, line.currency)]
        entry[0] += line.amount_minor
        entry[1] += 1
    order = list(PaymentGroup)
    return [
        Total(group=group, currency=currency, amount_minor=amount, payments=count)
        for (group, currency), (amount, count) in sorted(sums.items(), key=lambda i: (order.index(i[0][0]), i[0][1]))
    ]


def change_account(
    session: Session, principal: SessionPrincipal, *, account_scheme: str, account: str
) -> DesignationOut:
    """The citizen (or a caseworker for them) designates one of the accounts they hold for their public
    payments; the account register's checks apply and the change is told by letter."""
    person = principal.subject
    assert person is not None
    if not account:
        raise DesignationRefusedError("choose one of your accounts")
    channel = Channel.CASEWORKER if principal.assisted else Channel.CITIZEN
    actor = f"staff:{principal.staff_username}" if principal.assisted else f"citizen:session:{principal.session_id}"
    request = DesignationIn(
        payee=PartyIn(id_scheme=IdScheme(person.scheme), identifier=person.identifier),
        account_scheme=account_scheme,
        account=account,
    )
    result = designate_account(session, request, channel=channel, actor=actor)
    log_assisted_read(session, principal, action="designate_account", details={"changed": result.changed})
    return result


def start_wallet_designation(session: Session, principal: SessionPrincipal) -> PresentationRequest:
    """A request for the person's PID and their bank's account attestation, answered from their own
    wallet. A caseworker cannot start one: the wallet is the person's own, on their own login."""
    person = principal.subject
    assert person is not None
    if principal.assisted:
        raise DesignationRefusedError(
            "an account is designated from the wallet by the person on their own login; "
            "as a caseworker, choose one of the accounts they hold"
        )
    return account_attestation.start(
        session,
        person_scheme=person.scheme,
        person_id=person.identifier,
        actor=f"citizen:session:{principal.session_id}",
        now=utcnow(),
    )


def wallet_designation(session: Session, principal: SessionPrincipal, request_id: str) -> PresentationRequest:
    """The person's own designation request (another person's is not found)."""
    person = principal.subject
    assert person is not None
    return account_attestation.request_of(session, request_id, person_scheme=person.scheme, person_id=person.identifier)


def _line(r: Any) -> PaymentLine:
    return PaymentLine(
        id=r[0],
        payer=r[1],
        benefit_code=r[2],
        benefit_sv=r[3],
        benefit_en=r[4],
        period_start=r[5],
        period_end=r[6],
        due_date=r[7],
        amount_minor=r[8],
        currency=r[9],
        status=r[10],
        group=GROUP_OF[r[10]],
        account_scheme=r[11],
        account=r[12],
        account_check=r[13],
        decision_reference=r[14],
    )


def _checks(run: Any) -> ChecksRan:
    """The rules of the last finished run: ``run`` is [finished_at, rules, snapshot taken at]."""
    if run is None:
        return ChecksRan(analysis_finished_at=None, snapshot_at=None, rules=[])
    catalogue = _rules()
    rules = [
        RuleRun(
            id=rule.id,
            version=rule.version,
            title_sv=rule.title_sv,
            title_en=rule.title_en,
            legal_basis=rule.legal_basis,
        )
        for entry in run[1]
        if (rule := catalogue.get(str(entry.get("id")))) is not None
    ]
    return ChecksRan(analysis_finished_at=run[0], snapshot_at=run[2], rules=rules)
