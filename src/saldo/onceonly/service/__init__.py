"""The once-only evidence exchange (Single Digital Gateway, docs/once-only.md): Saldo asks another
country's evidence provider for evidence an application needs, and provides a statement of a
person's public payments to another country's procedures — in both directions only after the
person has seen the evidence at the provider and approved it.

As requester: ``ask`` sends an ``ExecuteQueryRequest``; the provider answers *PreviewRequired*
with where the person previews; the person goes there and comes back (``returned``), and the
request is sent again naming that preview; the evidence arrives with its origin and is kept with
the application for ``KEPT`` after it arrived, or until the person withdraws it or the application.

As provider: a request is matched to a person here (crossborder's rules), answered *PreviewRequired*
with the preview's address; the person logs in here, sees the evidence and approves or refuses
(``decide``); when the requester asks again, an approved evidence goes, and is written to the
access log the person reads. Nothing is sent without the approval.

Every message goes through the outbox (``evidence_messages``): written in the transaction that
decided it, sent at least once until the partner's signed receipt proves it arrived, taken in
exactly once by its message id."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import DECIDE_APPLICATIONS, FETCH_EVIDENCE, RELEASE_EVIDENCE
from saldo.crossborder.service import OPENS, match
from saldo.crossborder.service.eidas import ForeignIdentity
from saldo.eessi.service import NATIONAL_SCHEMES, written_at
from saldo.eessi.service import transport as as4
from saldo.eessi.service.keys import NodeKeys, load_keys
from saldo.kit import crash_points
from saldo.kit.clock import utcnow
from saldo.kit.national_id import IdScheme, birth_date_of
from saldo.onceonly import repository
from saldo.onceonly.errors import (
    ExchangeNotFoundError,
    ExchangeStateError,
    NoProviderError,
    OnceOnlyNotConfiguredError,
)
from saldo.onceonly.models import (
    EvidenceExchange,
    ExchangeMessage,
    ExchangeRole,
    ExchangeState,
    MessageDirection,
    MessageStatus,
)
from saldo.onceonly.service import edm, transport
from saldo.onceonly.service.directory import Directory, KnownEvidenceType, Party, UnknownPartyError, load
from saldo.settings import Settings

log = logging.getLogger(__name__)

PREVIEW_TIME = dt.timedelta(hours=24)  # the person previews within a day, or the request lapses
KEPT = dt.timedelta(days=90)  # requester: evidence kept this long after it arrived, unless withdrawn sooner
MAX_BACKOFF_S = 900
MAX_REASON = 500
PREVIEW_PATH = "/me/evidence/preview/"


@dataclass(frozen=True)
class Gateway:
    """This node on the once-only network: its party id, its eDelivery keys and the directory."""

    party_id: str
    keys: NodeKeys
    directory_path: Path
    base_url: str
    ca_bundle: Path | None = None
    retry_hours: float = 48.0

    def directory(self) -> Directory:
        return load(self.directory_path)

    def me(self) -> Party:
        return self.directory().party(self.party_id)

    def local(self) -> Any:
        return as4.local_party(self.party_id, self.keys, party_type=transport.PARTY_TYPE)

    def preview_url(self, token: str) -> str:
        return f"{self.base_url}{PREVIEW_PATH}{token}"


def gateway_from_settings(settings: Settings) -> Gateway:
    """The gateway as configured, or OnceOnlyNotConfiguredError saying what is missing."""
    missing = [
        name
        for name, value in (
            ("SALDO_ONCEONLY_PARTY", settings.onceonly_party),
            ("SALDO_ONCEONLY_DIRECTORY", settings.onceonly_directory),
            ("SALDO_EESSI_KEY", settings.eessi_key),
            ("SALDO_EESSI_CERTIFICATE", settings.eessi_certificate),
        )
        if value is None
    ]
    if missing:
        raise OnceOnlyNotConfiguredError(f"this node takes no part in the once-only exchange: set {', '.join(missing)}")
    return _gateway(
        str(settings.onceonly_party),
        Path(str(settings.eessi_key)),
        Path(str(settings.eessi_certificate)),
        Path(str(settings.onceonly_directory)),
        settings.base_url,
        settings.eessi_ca_bundle,
        settings.eessi_retry_hours,
        written_at(Path(str(settings.eessi_key)), Path(str(settings.eessi_certificate))),
    )


@lru_cache(maxsize=8)
def _gateway(
    party: str,
    key: Path,
    certificate: Path,
    directory: Path,
    base_url: str,
    ca: Path | None,
    hours: float,
    written: tuple[int, ...],  # the key's and certificate's times: a rotated key loads anew
) -> Gateway:
    return Gateway(party, load_keys(key, certificate), directory, base_url, ca, hours)


# ---- the requester's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """The person the evidence is asked for, as this node knows them."""

    scheme: str
    person_id: str
    given_name: str
    family_name: str
    level_of_assurance: str = "High"

    def eidas_identifier(self, requester_country: str) -> str:
        """How the eIDAS network names a person of this node's own eID scheme to a service abroad."""
        origin = next((c for c, s in NATIONAL_SCHEMES.items() if s.value == self.scheme), requester_country)
        return f"{origin}/{requester_country}/{self.person_id}"

    def birth_date(self) -> dt.date:
        born = birth_date_of(IdScheme(self.scheme), self.person_id)
        if born is None:
            raise ValueError(f"{self.scheme} {self.person_id} carries no birth date")
        return born


def evidence_choices(gateway: Gateway, procedure: str) -> list[tuple[KnownEvidenceType, list[Party]]]:
    """What a procedure may fetch, and from whom: each evidence type with its providers abroad."""
    directory = gateway.directory()
    me = directory.party(gateway.party_id)
    choices = []
    for known in directory.for_procedure(procedure):
        providers = [
            p
            for p in directory.parties.values()
            if known.evidence_type.identifier in p.provides and p.country != me.country
        ]
        if providers:
            choices.append((known, sorted(providers, key=lambda p: p.country)))
    return choices


def ask(
    session: Session,
    gateway: Gateway,
    *,
    applicant: Applicant,
    evidence_type: str,
    country: str,
    procedure: str,
    application_pk: int | None,
    language: str,
    now: dt.datetime,
) -> EvidenceExchange:
    """Ask the provider of ``evidence_type`` in ``country`` for the applicant's evidence: the
    exchange, and the request queued in the same transaction."""
    directory = gateway.directory()
    me = directory.party(gateway.party_id)
    known = directory.evidence_types.get(evidence_type)
    providers = directory.providers(evidence_type, country)
    if known is None or procedure not in known.procedures or not providers:
        raise NoProviderError(
            f"evidence_type: no authority in {country} provides {evidence_type} for procedure {procedure}"
        )
    provider = providers[0]
    person = edm.Person(
        identifier=applicant.eidas_identifier(me.country),
        family_name=applicant.family_name,
        given_name=applicant.given_name,
        birth_date=applicant.birth_date(),
        level_of_assurance=applicant.level_of_assurance,
    )
    exchange = EvidenceExchange(
        role=ExchangeRole.REQUESTER,
        request_id=edm.new_request_id(),
        partner=provider.id,
        partner_name=provider.agent.name,
        partner_country=provider.country,
        evidence_type=evidence_type,
        procedure=procedure,
        eidas_identifier=person.identifier,
        given_name=person.given_name,
        family_name=person.family_name,
        birth_date=person.birth_date,
        person_scheme=applicant.scheme,
        person_id=applicant.person_id,
        application_pk=application_pk,
        state=ExchangeState.REQUESTED,
        language=language,
        created_at=now,
        updated_at=now,
        expires_at=now + PREVIEW_TIME,
    )
    session.add(exchange)
    session.flush()
    _send_request(session, gateway, exchange, me, provider, known.requirement, known.evidence_type, now=now)
    return exchange


def _send_request(
    session: Session,
    gateway: Gateway,
    exchange: EvidenceExchange,
    me: Party,
    provider: Party,
    requirement: edm.Requirement,
    evidence_type: edm.EvidenceType,
    *,
    now: dt.datetime,
    preview_location: str | None = None,
) -> None:
    request = edm.EvidenceRequest(
        request_id=exchange.request_id,
        issued_at=now,
        procedure=exchange.procedure,
        requirement=requirement,
        requester=me.agent,
        provider=provider.agent,
        person=edm.Person(
            exchange.eidas_identifier, exchange.family_name, exchange.given_name, exchange.birth_date, "High"
        ),
        evidence_type=evidence_type,
        preview_possible=True,
        explicit_request=True,
        preview_location=preview_location,
        language=exchange.language[:2].upper(),
    )
    _queue(session, exchange, provider.id, transport.REQUEST, edm.request_xml(request))


def owned(session: Session, exchange_id: int, scheme: str, person_id: str) -> EvidenceExchange:
    """The person's own exchange as requester, or ExchangeNotFoundError (also for another's)."""
    exchange = repository.requester_exchange(session, exchange_id)
    if exchange is None or (exchange.person_scheme, exchange.person_id) != (scheme, person_id):
        raise ExchangeNotFoundError(f"no evidence request {exchange_id} of yours")
    return exchange


def preview_address(exchange: EvidenceExchange, return_url: str) -> str:
    """Where the person goes to see the evidence at the provider, told where to come back."""
    if exchange.preview_location is None:
        raise ExchangeStateError("the provider has not named a preview yet")
    joiner = "&" if "?" in exchange.preview_location else "?"
    return f"{exchange.preview_location}{joiner}returnurl={quote(return_url, safe='')}"


def returned(session: Session, gateway: Gateway, exchange: EvidenceExchange, *, now: dt.datetime) -> bool:
    """The person is back from the preview: ask again, naming the preview, so an approved evidence
    comes. Idempotent: a second return while the answer is awaited sends nothing more."""
    if exchange.state is not ExchangeState.PREVIEW:
        return False
    directory = gateway.directory()
    known = directory.evidence_types[exchange.evidence_type]
    provider = directory.party(exchange.partner)
    exchange.request_id = edm.new_request_id()  # each request its own id; the preview links them
    exchange.state = ExchangeState.REQUESTED
    exchange.updated_at = now
    _send_request(
        session,
        gateway,
        exchange,
        directory.party(gateway.party_id),
        provider,
        known.requirement,
        known.evidence_type,
        now=now,
        preview_location=exchange.preview_location,
    )
    return True


def withdraw(exchange: EvidenceExchange, *, now: dt.datetime) -> None:
    """The person gives up the request: any evidence kept is deleted; a late answer is ignored."""
    if exchange.state in (ExchangeState.WITHDRAWN, ExchangeState.EXPIRED):
        return
    exchange.state = ExchangeState.WITHDRAWN
    exchange.evidence = None
    exchange.updated_at = now


def expire(session: Session, *, now: dt.datetime) -> tuple[int, int]:
    """Keep nothing longer than the procedure needs: previews not done within ``PREVIEW_TIME``
    lapse, and evidence is deleted ``KEPT`` after it arrived or at once when its application was
    withdrawn. Returns (lapsed, deleted)."""
    return repository.expire(session, now)


def log_evidence_read(session: Session, exchange: EvidenceExchange, *, actor: str) -> None:
    """A caseworker read evidence fetched for an application they decide: the person sees it."""
    log_access(
        session,
        Access(
            actor=actor,
            role="issuer",
            action="read_evidence",
            purpose=DECIDE_APPLICATIONS,
            person_scheme=exchange.person_scheme,
            person_id=exchange.person_id,
            channel="web",
            details={"exchange": exchange.id, "provider": exchange.partner_name, "country": exchange.partner_country},
        ),
    )


def exchanges_of(session: Session, scheme: str, person_id: str) -> list[EvidenceExchange]:
    return repository.of_person(session, scheme, person_id)


def of_application(session: Session, application_pk: int) -> list[EvidenceExchange]:
    return repository.of_application(session, application_pk)


def _take_response(
    session: Session, sender: Party, message: Any, now: dt.datetime
) -> str:  # the outcome, for the log and the tests
    answer = edm.read_response(message.payload)
    exchange = repository.requester_by_request(session, answer.request_id)
    if exchange is None or exchange.partner != sender.id:
        raise _RefusedError(f"{answer.request_id} is not a request of ours to {sender.id}")
    if exchange.state is not ExchangeState.REQUESTED:
        return f"ignored: the request is {exchange.state.value}"
    exchange.updated_at = now
    exchange.response_id = answer.response_id
    if isinstance(answer, edm.ExceptionResponse):
        if answer.preview_required:
            exchange.state = ExchangeState.PREVIEW
            exchange.preview_location = answer.preview_location
            return "preview"
        exchange.state = (
            ExchangeState.REFUSED
            if answer.code is edm.ErrorCode.AUTHORIZATION
            else ExchangeState.EXPIRED
            if answer.code is edm.ErrorCode.TIMEOUT
            else ExchangeState.FAILED
        )
        exchange.error_code, exchange.error_message = answer.code.value, answer.message[:MAX_REASON]
        return exchange.state.value
    content = message.attachment(answer.evidence.content_id)
    if content is None:
        raise _RefusedError(f"the evidence at cid:{answer.evidence.content_id} is not in the message")
    if answer.person.identifier != exchange.eidas_identifier or answer.person.birth_date != exchange.birth_date:
        exchange.state = ExchangeState.FAILED
        exchange.error_code = edm.ErrorCode.INVALID_REQUEST.value
        exchange.error_message = "the evidence is about another person than the one asked for; it was not kept"
        return "refused: another person"
    exchange.state = ExchangeState.DELIVERED
    exchange.evidence = content
    exchange.evidence_format = answer.evidence_type.format
    exchange.evidence_title = answer.evidence.title[:200]
    exchange.evidence_issued_on = answer.evidence.issued_on
    exchange.expires_at = now + KEPT
    if exchange.person_scheme and exchange.person_id:
        log_access(
            session,
            Access(
                actor=f"oots:{sender.id}",
                role="abroad",
                action="receive_evidence",
                purpose=FETCH_EVIDENCE,
                person_scheme=exchange.person_scheme,
                person_id=exchange.person_id,
                channel="oots",
                details={"authority": sender.agent.name, "country": sender.country, "title": exchange.evidence_title},
            ),
        )
    return "delivered"


# ---- the provider's side -----------------------------------------------------------------------

Evidence = Callable[[Session, EvidenceExchange], tuple[bytes, str]]  # (the evidence, its title)


def _take_request(session: Session, gateway: Gateway, sender: Party, message: Any, now: dt.datetime) -> str:
    me = gateway.me()
    try:
        request = edm.read_request(message.payload)
    except edm.EdmError as error:
        raise _RefusedError(f"the request cannot be read: {error}") from error
    if request.requester.identifier != sender.agent.identifier:
        raise _RefusedError(f"the request names {request.requester.identifier} as requester, not {sender.id}")
    if request.preview_location is not None:
        return _asked_again(session, gateway, sender, request, now)
    existing = repository.provider_by_request(session, request.request_id)
    if existing is not None:
        return "duplicate"
    exchange = EvidenceExchange(
        role=ExchangeRole.PROVIDER,
        request_id=request.request_id,
        partner=sender.id,
        partner_name=sender.agent.name,
        partner_country=sender.country,
        evidence_type=request.evidence_type.identifier,
        procedure=request.procedure[:4],
        eidas_identifier=request.person.identifier,
        given_name=request.person.given_name[:200],
        family_name=request.person.family_name[:200],
        birth_date=request.person.birth_date,
        state=ExchangeState.PREVIEW,
        language=request.language.lower(),
        created_at=now,
        updated_at=now,
        expires_at=now + PREVIEW_TIME,
    )
    session.add(exchange)
    session.flush()
    refusal = _why_not(session, me, request, exchange)
    if refusal is not None:
        code, reason = refusal
        exchange.state = ExchangeState.FAILED
        exchange.error_code, exchange.error_message = code.value, reason
        _queue_exception(session, gateway, exchange, sender, request.request_id, code, reason, now)
        return f"refused: {code.value}"
    exchange.preview_token = secrets.token_urlsafe(24)
    _queue_exception(
        session,
        gateway,
        exchange,
        sender,
        request.request_id,
        edm.ErrorCode.AUTHORIZATION,
        "The person must see the evidence and approve it before it is sent",
        now,
        preview_location=gateway.preview_url(exchange.preview_token),
    )
    return "preview"


def _why_not(
    session: Session, me: Party, request: edm.EvidenceRequest, exchange: EvidenceExchange
) -> tuple[edm.ErrorCode, str] | None:
    """Why this request is answered with an error, or None when it goes to the person's preview."""
    if request.provider.identifier != me.agent.identifier:
        return edm.ErrorCode.INVALID_REQUEST, f"the request is addressed to {request.provider.identifier}, not to us"
    if request.evidence_type.identifier not in me.provides:
        return edm.ErrorCode.UNSUPPORTED, f"we provide no evidence of type {request.evidence_type.identifier}"
    if request.person.level_of_assurance not in ("Substantial", "High"):
        return edm.ErrorCode.AUTHENTICATION, "the person was identified at a level of assurance below substantial"
    if not request.preview_possible:
        return edm.ErrorCode.AUTHORIZATION, "this evidence goes only after the person's preview, and none is possible"
    person = request.person
    identity = ForeignIdentity(
        person_identifier=person.identifier,
        origin=person.origin,
        national_part=person.national_part,
        given_name=person.given_name,
        family_name=person.family_name,
        birth_date=person.birth_date,
        loa=person.level_of_assurance.lower(),
        assertion_id=request.request_id,
    )
    found = match(session, identity, country=me.country)
    if found.strength not in OPENS or found.person is None:
        return edm.ErrorCode.NOT_FOUND, "no person here can be told with certainty from this identity"
    exchange.person_scheme, exchange.person_id = found.person
    exchange.match = f"{found.strength.value}: {found.detail}"[:300]
    return None


def _asked_again(
    session: Session, gateway: Gateway, sender: Party, request: edm.EvidenceRequest, now: dt.datetime
) -> str:
    """The requester asks again after the preview: the evidence if the person approved it."""
    location = request.preview_location or ""
    token = location.removeprefix(f"{gateway.base_url}{PREVIEW_PATH}").split("?", 1)[0]
    exchange = repository.by_token(session, token, for_update=True) if location.startswith(gateway.base_url) else None
    if (
        exchange is None
        or exchange.partner != sender.id
        or exchange.eidas_identifier != request.person.identifier
        or exchange.evidence_type != request.evidence_type.identifier
    ):
        _queue_exception(
            session,
            gateway,
            None,
            sender,
            request.request_id,
            edm.ErrorCode.UNRESOLVED_REFERENCE,
            "the preview named is not one of this request",
            now,
        )
        return "refused: unknown preview"
    if exchange.state is ExchangeState.PREVIEW and now > exchange.expires_at:
        exchange.state = ExchangeState.EXPIRED
    if exchange.state is ExchangeState.APPROVED:
        _queue_evidence(session, gateway, exchange, sender, request, now)
        return "delivered"
    if exchange.state is ExchangeState.PREVIEW:
        _queue_exception(
            session,
            gateway,
            exchange,
            sender,
            request.request_id,
            edm.ErrorCode.AUTHORIZATION,
            "The person has not yet approved the evidence",
            now,
            preview_location=gateway.preview_url(exchange.preview_token or ""),
        )
        return "preview"
    code, reason = {
        ExchangeState.REFUSED: (edm.ErrorCode.AUTHORIZATION, "The person refused to have the evidence sent"),
        ExchangeState.EXPIRED: (edm.ErrorCode.TIMEOUT, "The person did not see the evidence in time"),
        ExchangeState.DELIVERED: (edm.ErrorCode.QUERY, "The evidence was sent already; ask anew for another copy"),
    }.get(exchange.state, (edm.ErrorCode.NOT_FOUND, "There is no evidence for this request"))
    _queue_exception(session, gateway, exchange, sender, request.request_id, code, reason, now)
    return f"refused: {code.value}"


_EVIDENCE: list[Evidence] = []


def provide_with(evidence: Evidence) -> None:
    """What the provider sends: set once by the composition (the payments statement, from the
    citizens' domain), so this domain does not reach into the pages' rendering."""
    _EVIDENCE[:] = [evidence]


def _queue_evidence(
    session: Session,
    gateway: Gateway,
    exchange: EvidenceExchange,
    sender: Party,
    request: edm.EvidenceRequest,
    now: dt.datetime,
) -> None:
    me = gateway.me()
    content, title = _EVIDENCE[0](session, exchange)
    known = gateway.directory().evidence_types[exchange.evidence_type]
    content_id = f"{uuid.uuid4().hex}@{me.country.lower()}saldo"
    response = edm.EvidenceResponse(
        response_id=str(uuid.uuid4()),
        request_id=request.request_id,
        issued_at=now,
        provider=me.agent,
        requester=sender.agent,
        person=request.person,
        evidence_type=known.evidence_type,
        evidence=edm.Evidence(str(uuid.uuid4()), now.date(), exchange.language[:2].upper(), content_id, title),
    )
    _queue(
        session,
        exchange,
        sender.id,
        transport.RESPONSE,
        edm.response_xml(response),
        attachment=(content_id, known.evidence_type.format, content),
    )
    exchange.state = ExchangeState.DELIVERED
    exchange.updated_at = now
    log_access(
        session,
        Access(
            actor=f"oots:{sender.id}",
            role="abroad",
            action="release_evidence",
            purpose=RELEASE_EVIDENCE,
            person_scheme=exchange.person_scheme,
            person_id=exchange.person_id,
            channel="oots",
            details={"authority": sender.agent.name, "country": sender.country, "procedure": exchange.procedure},
        ),
    )


def _queue_exception(
    session: Session,
    gateway: Gateway,
    exchange: EvidenceExchange | None,
    sender: Party,
    request_id: str,
    code: edm.ErrorCode,
    message: str,
    now: dt.datetime,
    *,
    preview_location: str | None = None,
) -> None:
    answer = edm.ExceptionResponse(
        response_id=str(uuid.uuid4()),
        request_id=request_id,
        issued_at=now,
        provider=gateway.me().agent,
        requester=sender.agent,
        code=code,
        message=message,
        preview_location=preview_location,
        preview_description="Your statement of public payments" if preview_location else None,
    )
    _queue(session, exchange, sender.id, transport.EXCEPTION, edm.exception_xml(answer))


def preview(session: Session, token: str, scheme: str, person_id: str) -> EvidenceExchange:
    """The exchange the person previews, or ExchangeNotFoundError — also when it is about someone
    else: a preview address opens nothing for another person."""
    exchange = repository.by_token(session, token)
    if exchange is None or (exchange.person_scheme, exchange.person_id) != (scheme, person_id):
        raise ExchangeNotFoundError("no evidence waiting for your preview at this address")
    return exchange


def safe_return(gateway: Gateway, exchange: EvidenceExchange, return_url: str | None) -> str | None:
    """The requester's return address, when it is on the requester's own gateway host (never an
    open redirect); None otherwise."""
    if not return_url:
        return None
    try:
        partner = gateway.directory().party(exchange.partner)
    except UnknownPartyError:
        return None
    wanted, allowed = urlsplit(return_url), urlsplit(partner.endpoint)
    if wanted.scheme == allowed.scheme and wanted.netloc == allowed.netloc and wanted.scheme in ("https", "http"):
        return return_url
    return None


def decide(exchange: EvidenceExchange, *, approve: bool, now: dt.datetime) -> None:
    """The person's decision at the preview: recorded once; the evidence goes when asked again."""
    if exchange.state is ExchangeState.PREVIEW and now > exchange.expires_at:
        exchange.state = ExchangeState.EXPIRED
    if exchange.state is not ExchangeState.PREVIEW:
        raise ExchangeStateError(f"the request is {exchange.state.value}; there is nothing to decide")
    exchange.state = ExchangeState.APPROVED if approve else ExchangeState.REFUSED
    exchange.decided_at = now
    exchange.updated_at = now


# ---- the messages: outbox, delivery, inbox -----------------------------------------------------


def _queue(
    session: Session,
    exchange: EvidenceExchange | None,
    partner: str,
    action: str,
    document: bytes,
    *,
    attachment: tuple[str, str, bytes] | None = None,
) -> ExchangeMessage:
    message = ExchangeMessage(
        direction=MessageDirection.OUT,
        message_id=f"{uuid.uuid4()}@saldo",
        exchange_pk=exchange.id if exchange is not None else None,
        partner=partner,
        action=action,
        document=document,
        attachment_id=attachment[0] if attachment else None,
        attachment_format=attachment[1] if attachment else None,
        attachment=attachment[2] if attachment else None,
        status=MessageStatus.PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


@dataclass(frozen=True)
class Delivery:
    message_id: str
    outcome: str  # built | delivered | retry | undeliverable
    detail: str = ""


def deliver_one(session: Session, gateway: Gateway, post: Any) -> Delivery | None:  # noqa: PLR0911 — one per outcome
    """Send the oldest due message of the outbox and record the outcome; None when none is due. A
    message not yet built into its AS4 form is built first, and only that (``built``): the caller
    commits, then sends, so a resend after a crash sends the same bytes."""
    message = repository.next_due(session, utcnow())
    if message is None:
        return None
    try:
        partner = gateway.directory().party(message.partner)
    except UnknownPartyError as error:
        return _give_up(message, str(error))
    receiver = as4.remote_party(partner.id, partner.certificate, party_type=transport.PARTY_TYPE)
    sender = gateway.local()
    if message.as4_message is None or message.exchange is None:
        attachments = (
            [
                as4.Attachment(
                    content_id=message.attachment_id, mime_type=message.attachment_format, content=message.attachment
                )
            ]
            if message.attachment is not None and message.attachment_id and message.attachment_format
            else []
        )
        args = as4.ProfileMessageArgs(
            action=message.action,
            properties=transport.properties(gateway.party_id, partner.id),
            mime_type=transport.REGREP_MIME_TYPE,
            attachments=attachments,
        )
        exchange, headers, body = as4.build_message(
            transport.OotsProfile,
            sender,
            receiver,
            message.document,
            args=args,
            message_id=message.message_id,
            conversation_id=str(message.exchange_pk or message.message_id),
        )
        message.exchange = {"exchange": json.loads(exchange.model_dump_json()), "headers": headers}
        message.as4_message = body
        return Delivery(message.message_id, "built")
    sending = as4.SendingExchange.restore(json.dumps(message.exchange["exchange"]), sender)
    crash_points.reach("onceonly.before_post")
    try:
        status, answer = post(partner.endpoint, message.exchange["headers"], message.as4_message)
    except OSError as error:
        return _retry(gateway, message, f"{partner.id} could not be reached: {error}")
    if status >= 500 and not answer.startswith(b"<"):
        return _retry(gateway, message, f"{partner.id} answered HTTP {status}")
    refused = as4.signal_error(answer)
    if refused is not None:
        return _give_up(message, f"{partner.id} refused the message: {refused}"[:MAX_REASON])
    try:
        sending.receive_signal(answer)
    except Exception as error:
        return _retry(gateway, message, f"the receipt from {partner.id} does not prove delivery: {error}")
    message.status = MessageStatus.DELIVERED
    message.delivered_at = utcnow()
    message.receipt = answer
    message.reason = None
    message.next_attempt_at = None
    return Delivery(message.message_id, "delivered")


def _retry(gateway: Gateway, message: ExchangeMessage, reason: str) -> Delivery:
    message.attempts += 1
    message.reason = reason
    if utcnow() - message.created_at > dt.timedelta(hours=gateway.retry_hours):
        return _give_up(message, f"{reason}; tried {message.attempts} times over {gateway.retry_hours:g} hours")
    message.next_attempt_at = utcnow() + dt.timedelta(seconds=min(2 ** min(message.attempts, 12), MAX_BACKOFF_S))
    log.warning("once-only %s to %s: %s (attempt %d)", message.action, message.partner, reason, message.attempts)
    return Delivery(message.message_id, "retry", reason)


def _give_up(message: ExchangeMessage, reason: str) -> Delivery:
    message.status = MessageStatus.UNDELIVERABLE
    message.reason = reason
    message.next_attempt_at = None
    log.error("once-only %s to %s is undeliverable: %s", message.action, message.partner, reason)
    return Delivery(message.message_id, "undeliverable", reason)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    outcome: str


class _RefusedError(Exception):
    pass


def receive(session: Session, gateway: Gateway, headers: dict[str, str], body: bytes) -> Answer:
    """An AS4 message from another gateway: verified against the directory, taken in once, answered
    with a signed receipt (or a signed error signal saying what was refused)."""
    directory = gateway.directory()

    def listed(party_id: str) -> Sequence[Any]:
        return directory.party(party_id).certificates

    received = as4.receive(gateway.local(), headers, body, listed, profile=transport.OotsProfile)
    message = received.message
    if message is None or message.parse_error is not None:
        reason = str(message.parse_error) if message and message.parse_error else "unreadable"
        log.warning("once-only AS4 message refused: %s", reason)
        return Answer(400, received.build_signal()[1], f"refused: {reason}")
    earlier = repository.received(session, message.message_id)
    if earlier is not None:
        return Answer(200, earlier.receipt or b"", "duplicate")
    sender = directory.party(message.soap_envelope.header.messaging.user_message.party_info.party_from.party_id.value)
    receipt = received.build_signal()[1]
    now = utcnow()
    try:
        with session.begin_nested():
            if message.action == transport.REQUEST:
                outcome = _take_request(session, gateway, sender, message, now)
            else:
                outcome = _take_response(session, sender, message, now)
            session.add(
                ExchangeMessage(
                    direction=MessageDirection.IN,
                    message_id=message.message_id,
                    exchange_pk=None,
                    partner=sender.id,
                    action=message.action or "",
                    document=message.payload,
                    status=MessageStatus.RECEIVED,
                    receipt=receipt,
                )
            )
            session.flush()
    except IntegrityError:  # the same message, taken in by a concurrent request a moment ago
        stored = repository.received(session, message.message_id)
        if stored is None:
            raise
        return Answer(200, stored.receipt or b"", "duplicate")
    except (_RefusedError, edm.EdmError) as error:
        log.warning("once-only %s from %s refused: %s", message.action, sender.id, error)
        return Answer(400, as4.refusal(received, str(error)[:MAX_REASON]), f"refused: {error}")
    return Answer(200, receipt, outcome)
