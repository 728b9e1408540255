"""Credentials as a competent institution issues them: the applicable-legislation decisions a PDA1
certifies, issuing a PDA1 or an EHIC (its claims validated against its type, an entry taken at
random in a status list), suspending, reinstating and revoking it, and the signed status lists
verifiers read. Every step is appended to the credential's history; staff reads of a person's
credentials are written to the access log."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography import x509
from pydantic import ValidationError
from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import ISSUE_CREDENTIALS
from saldo.credentials import repository
from saldo.credentials.errors import (
    CredentialNotFoundError,
    InvalidAttributesError,
    IssuerNotConfiguredError,
    StatusChangeError,
)
from saldo.credentials.models import (
    Credential,
    CredentialEvent,
    CredentialState,
    CredentialType,
    LegislationDecision,
    StatusList,
)
from saldo.credentials.schemas import ALWAYS_DISCLOSABLE, CLAIMS_MODELS, DecisionIn, IssueIn
from saldo.credentials.service import sd_jwt_vc
from saldo.credentials.service import status_list as lists
from saldo.credentials.service.keys import IssuerKeys, load_anchors, load_issuer_keys
from saldo.eessi.service import get_case
from saldo.kit.clock import PAYMENT_ZONE
from saldo.kit.national_id import IdScheme, normalize_identifier
from saldo.settings import Settings

VCT = {CredentialType.PDA1: "urn:eudi:pda1:1", CredentialType.EHIC: "urn:eudi:ehic:1"}
TYPE_OF_VCT = {vct: kind for kind, vct in VCT.items()}
STATUS_VALUE = {
    CredentialState.VALID: lists.VALID,
    CredentialState.REVOKED: lists.INVALID,
    CredentialState.SUSPENDED: lists.SUSPENDED,
}
# a list is used up to half its entries, so a random pick finds a free entry in two tries on average
FILL_FACTOR = 0.5
# how long a signed status list stays usable offline: a verifier past its ttl may still rely on it,
# saying how old it is, for a day; after that the credential's status is unknown
STATUS_LIST_VALID = dt.timedelta(hours=24)
EHIC_YEARS = 5  # the longest an EHIC is issued for here


@dataclass(frozen=True)
class Issuer:
    """This installation as a credential issuer: who it is, what it signs with, where it is reached."""

    keys: IssuerKeys
    url: str  # the issuer identifier (iss) and the base of every URL a wallet or verifier reads
    authority_id: str  # the institution's EESSI id
    authority_name: str
    country: str
    status_ttl: dt.timedelta
    list_size: int

    @property
    def authority(self) -> dict[str, str]:
        return {"id": self.authority_id, "name": self.authority_name}

    def status_uri(self, list_id: int) -> str:
        return f"{self.url}/credentials/status/{list_id}"


def issuer_from_settings(settings: Settings) -> Issuer:
    """The issuer, or IssuerNotConfiguredError saying what is missing."""
    if settings.credentials_key is None or settings.credentials_chain is None:
        raise IssuerNotConfiguredError(
            "this installation issues no credentials: set SALDO_CREDENTIALS_KEY and SALDO_CREDENTIALS_CHAIN"
        )
    if settings.eessi_institution is None:
        raise IssuerNotConfiguredError("a credential names its issuing institution: set SALDO_EESSI_INSTITUTION")
    return Issuer(
        keys=_issuer_keys(settings.credentials_key, settings.credentials_chain, _mtime(settings.credentials_chain)),
        url=settings.base_url,
        authority_id=settings.eessi_institution,
        authority_name=settings.authority_name,
        country=settings.eessi_institution.split(":", 1)[0],
        status_ttl=dt.timedelta(seconds=settings.credentials_status_ttl_s),
        list_size=settings.credentials_status_list_size,
    )


def trust_anchors(settings: Settings) -> tuple[x509.Certificate, ...]:
    """The roots the verifier trusts for PDA1 and EHIC (the trusted list), read again when the file
    changes."""
    return anchors_in(settings.credentials_trust_anchors)


def anchors_in(path: Path | None) -> tuple[x509.Certificate, ...]:
    """The root certificates in a PEM file (none when unset), read again when the file changes."""
    if path is None:
        return ()
    return _anchors(path, _mtime(path))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _issuer_keys(key: Path, chain: Path, _mtime: float) -> IssuerKeys:
    return load_issuer_keys(key, chain)


@lru_cache(maxsize=8)
def _anchors(path: Path, _mtime: float) -> tuple[x509.Certificate, ...]:
    return load_anchors(path)


def person_of(scheme: str, person_id: str) -> tuple[str, str]:
    """The scheme and the canonical identifier, or InvalidAttributesError saying why not."""
    try:
        return scheme, normalize_identifier(IdScheme(scheme), person_id)
    except ValueError as error:  # an unknown scheme, or an InvalidIdentifierError
        raise InvalidAttributesError(f"person: {error}") from None


def record_decision(session: Session, data: DecisionIn, *, by: str) -> LegislationDecision:
    """Record an applicable-legislation decision (the ground a PDA1 is issued on)."""
    scheme, person_id = person_of(data.person_scheme, data.person_id)
    case_pk = None
    if data.eessi_case_id:
        case = get_case(session, data.eessi_case_id)
        if not case.buc_type.startswith("LA_BUC"):
            raise InvalidAttributesError(
                f"eessi_case_id: {case.case_id} is a {case.buc_type}; applicable legislation is decided in an LA_BUC"
            )
        if case.person_id is not None and (case.person_scheme, case.person_id) != (scheme, person_id):
            raise InvalidAttributesError(f"eessi_case_id: {case.case_id} is about another person")
        case_pk = case.id
    decision = LegislationDecision(
        person_scheme=scheme,
        person_id=person_id,
        legislation_country=data.legislation_country,
        status_confirmation=data.status_confirmation,
        starting_date=data.starting_date,
        ending_date=data.ending_date,
        employer=data.employer.model_dump(exclude_none=True),
        work_address=data.work_address.model_dump(exclude_none=True),
        eessi_case_id=case_pk,
        decided_by=by,
    )
    session.add(decision)
    session.flush()
    return decision


def get_decision(session: Session, decision_id: int) -> LegislationDecision:
    decision = repository.decision_by_id(session, decision_id)
    if decision is None:
        raise CredentialNotFoundError(f"no applicable-legislation decision {decision_id}")
    return decision


def new_document_number(country: str, kind: CredentialType) -> str:
    """A document number that says nothing but the issuer's country and the type: ``SE-PDA1-…``."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed from paper
    return f"{country}-{kind.value.upper()}-" + "".join(secrets.choice(alphabet) for _ in range(12))


def _claims(
    issuer: Issuer, data: IssueIn, decision: LegislationDecision | None, number: str, today: dt.date
) -> tuple[dict[str, object], str, str, dt.date, dt.date]:
    common: dict[str, object] = {
        "issuing_authority": issuer.authority,
        "issuing_country": issuer.country,
        "authentic_source": issuer.authority,
        "date_of_issuance": today.isoformat(),
        "document_number": number,
    }
    if decision is not None:
        until = decision.ending_date
        scheme, person_id = decision.person_scheme, decision.person_id
        claims = {
            **common,
            "personal_administrative_number": person_id,
            "date_of_expiry": until.isoformat(),
            "starting_date": decision.starting_date.isoformat(),
            "ending_date": until.isoformat(),
            "legislation_country": decision.legislation_country,
            "status_confirmation": decision.status_confirmation,
            "employer": decision.employer,
            "work_address": decision.work_address,
        }
    else:
        if not (data.person_scheme and data.person_id and data.starting_date and data.ending_date):
            raise InvalidAttributesError("an EHIC needs person_scheme, person_id, starting_date and ending_date")
        scheme, person_id = person_of(data.person_scheme, data.person_id)
        until = data.ending_date
        if until > years_after(today, EHIC_YEARS):
            raise InvalidAttributesError(f"ending_date: an EHIC is issued for at most {EHIC_YEARS} years")
        claims = {
            **common,
            "personal_administrative_number": person_id,
            "date_of_expiry": until.isoformat(),
            "starting_date": data.starting_date.isoformat(),
            "ending_date": until.isoformat(),
        }
    if until < today:
        raise InvalidAttributesError(f"ending_date: {until} has passed; a credential is issued for a period to come")
    try:
        validated = CLAIMS_MODELS[data.type].model_validate(claims)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "claims"
        raise InvalidAttributesError(f"{where}: {first['msg']}") from None
    return validated.model_dump(exclude_none=True), scheme, person_id, today, until


def years_after(day: dt.date, years: int) -> dt.date:
    """The same date ``years`` later (29 February: the 28th in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def issue(session: Session, issuer: Issuer, data: IssueIn, *, by: str, now: dt.datetime) -> Credential:
    """Record a PDA1 (from its decision) or an EHIC, with its status list entry, valid from now."""
    decision = get_decision(session, data.decision_id) if data.decision_id is not None else None
    number = new_document_number(issuer.country, data.type)
    claims, scheme, person_id, valid_from, valid_until = _claims(
        issuer, data, decision, number, now.astimezone(PAYMENT_ZONE).date()
    )
    status_list, index = _take_entry(session, issuer)
    credential = Credential(
        document_number=number,
        kind=data.type,
        vct=VCT[data.type],
        person_scheme=scheme,
        person_id=person_id,
        claims=claims,
        decision_id=decision.id if decision else None,
        status_list_id=status_list.id,
        status_index=index,
        state=CredentialState.VALID,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_by=by,
        collections=0,
    )
    session.add(credential)
    session.flush()
    add_event(session, credential, "issued", by)
    return credential


def _take_entry(session: Session, issuer: Issuer) -> tuple[StatusList, int]:
    """A free entry, at random, in the newest list with room (a new list when all are half full)."""
    status_list = repository.open_status_list(session, fill_limit=int(issuer.list_size * FILL_FACTOR))
    if status_list is None:
        status_list = StatusList(size=issuer.list_size, used=0, version=0)
        session.add(status_list)
        session.flush()
    while True:
        index = secrets.randbelow(status_list.size)
        if not repository.entry_taken(session, status_list.id, index):
            break
    status_list.used += 1
    return status_list, index


def add_event(
    session: Session,
    credential: Credential,
    action: str,
    actor: str,
    *,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    session.add(
        CredentialEvent(credential_pk=credential.id, action=action, actor=actor, reason=reason, details=details)
    )


def find_credential(session: Session, document_number: str) -> Credential | None:
    return repository.credential_by_number(session, document_number)


def get_credential(session: Session, document_number: str) -> Credential:
    credential = repository.credential_by_number(session, document_number)
    if credential is None:
        raise CredentialNotFoundError(f"no credential {document_number}")
    return credential


ALLOWED_CHANGES = {
    (CredentialState.VALID, CredentialState.SUSPENDED),
    (CredentialState.SUSPENDED, CredentialState.VALID),
    (CredentialState.VALID, CredentialState.REVOKED),
    (CredentialState.SUSPENDED, CredentialState.REVOKED),
}
ACTION_OF = {
    CredentialState.SUSPENDED: "suspended",
    CredentialState.VALID: "reinstated",
    CredentialState.REVOKED: "revoked",
}


def change_status(session: Session, credential: Credential, to: CredentialState, *, reason: str, by: str) -> None:
    """Suspend, reinstate or revoke: the status list says so from its next signing (within its ttl)."""
    if (credential.state, to) not in ALLOWED_CHANGES:
        raise StatusChangeError(
            f"credential {credential.document_number} is {credential.state.value}: it cannot be {ACTION_OF[to]}"
        )
    credential.state = to
    repository.bump_list_version(session, credential.status_list_id)
    add_event(session, credential, ACTION_OF[to], by, reason=reason)


def record_printing(session: Session, credential: Credential, *, by: str) -> None:
    """A paper copy was made: only of a valid credential, and written to its history."""
    if credential.state is not CredentialState.VALID:
        raise StatusChangeError(
            f"credential {credential.document_number} is {credential.state.value}: it is not printed"
        )
    add_event(session, credential, "printed", by)


def history(session: Session, credential: Credential) -> list[CredentialEvent]:
    return repository.events_of(session, credential.id)


def log_read(session: Session, credential: Credential, *, actor: str, role: str, channel: str) -> None:
    """Staff saw a person's credential (who it is for and what it says): written to the access log."""
    log_access(
        session,
        Access(
            actor=actor,
            role=role,
            action="read_credential",
            purpose=ISSUE_CREDENTIALS,
            person_scheme=credential.person_scheme,
            person_id=credential.person_id,
            channel=channel,
            details={"credential": credential.document_number},
        ),
    )


def credentials_of(session: Session, scheme: str, person_id: str) -> list[Credential]:
    return repository.credentials_of(session, scheme, person_id)


def recent(session: Session, *, limit: int) -> list[Credential]:
    return repository.recent_credentials(session, limit=limit)


# --- the status lists verifiers read ------------------------------------------------------------

_signed: dict[tuple[str, int], tuple[int, dt.datetime, str]] = {}
_signed_lock = threading.Lock()


def status_list_token(session: Session, issuer: Issuer, list_id: int, *, now: dt.datetime) -> str:
    """The signed list: signed again when an entry changed, or when half its ttl has passed (so a
    verifier that caches it for the ttl never holds one older than one and a half ttl)."""
    status_list = repository.status_list(session, list_id)
    if status_list is None:
        raise CredentialNotFoundError(f"no status list {list_id}")
    key = (issuer.url, list_id)
    with _signed_lock:
        cached = _signed.get(key)
    if cached and cached[0] == status_list.version and now - cached[1] < issuer.status_ttl / 2:
        return cached[2]
    entries = [(index, STATUS_VALUE[state]) for index, state in repository.not_valid_entries(session, list_id)]
    token = lists.sign(
        keys=issuer.keys,
        uri=issuer.status_uri(list_id),
        size=status_list.size,
        statuses=entries,
        issued_at=now,
        ttl=issuer.status_ttl,
        valid_for=STATUS_LIST_VALID,
    )
    with _signed_lock:
        _signed[key] = (status_list.version, now, token)
    return token


def sign_credential(
    issuer: Issuer, credential: Credential, *, holder_jwk: dict[str, Any] | None, now: dt.datetime
) -> str:
    """The SD-JWT VC of a recorded credential, valid from now to the day after its date of expiry,
    bound to ``holder_jwk`` (a wallet's key) or to no key (paper)."""
    return sd_jwt_vc.issue(
        keys=issuer.keys,
        issuer=issuer.url,
        vct=VCT[credential.kind],
        claims=credential.claims,
        disclosable=ALWAYS_DISCLOSABLE,
        holder_jwk=holder_jwk,
        issued_at=now,
        expires_at=dt.datetime.combine(credential.valid_until + dt.timedelta(days=1), dt.time(), dt.UTC),
        status={"status_list": {"idx": credential.status_index, "uri": issuer.status_uri(credential.status_list_id)}},
    )
