"""The cross-border exchange: this node's cases (BUCs) with other countries' institutions.

Sending: a SED is checked against the BUC's state machine, signed by this institution and queued
in the case's outbox in the caller's transaction; ``claim_due`` and ``send_claimed`` (or
``deliver_one``, one at a time) send it as a signed, encrypted AS4
message and keeps it queued until the partner's signed receipt proves delivery (at least once; the
same AS4 message, byte for byte, on every retry). Receiving: ``receive`` verifies the AS4 message
and the SED's own signature against the directory, stores the SED once per AS4 message id (a resent
message gets the same receipt again), applies what fits the case and answers what does not with an
X011 giving the reason."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import CROSS_BORDER_WORK, IDENTIFY_ABROAD
from saldo.eessi import repository
from saldo.eessi.errors import (
    CaseNotFoundError,
    ExchangeNotConfiguredError,
    InvalidSedError,
    SedNotAllowedError,
)
from saldo.eessi.models import (
    CaseStatus,
    CrossBorderCase,
    CrossBorderDocument,
    CrossBorderFact,
    Direction,
    DocumentStatus,
    FactKind,
    PersonMatch,
)
from saldo.eessi.service import bucs, seds, signatures, transport
from saldo.eessi.service.directory import Directory, Institution, UnknownInstitutionError, load
from saldo.eessi.service.keys import NodeKeys, load_keys
from saldo.kit import crash_points
from saldo.kit.clock import utcnow
from saldo.kit.name_match import Outcome, Reason, match_name
from saldo.kit.national_id import IdScheme, InvalidIdentifierError, born_on_bounds, normalize_identifier
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal

log = logging.getLogger(__name__)

# Whose personal identification numbers a country's institutions give (the scheme Saldo keeps them in).
NATIONAL_SCHEMES = {
    "SE": IdScheme.SE_PERSONNUMMER,
    "FI": IdScheme.FI_HETU,
    "NO": IdScheme.NO_FODSELSNUMMER,
    "DK": IdScheme.DK_CPR,
    "IS": IdScheme.IS_KENNITALA,
    "EE": IdScheme.EE_ISIKUKOOD,
    "LV": IdScheme.LV_PERSONAS_KODS,
    "LT": IdScheme.LT_ASMENS_KODAS,
}
MAX_BACKOFF_S = 15 * 60
# The outbox's delivery takes this many due SEDs at a time, and posts this many of them side by side.
DELIVERY_BATCH = 32
POSTS_AT_ONCE = 4
# A message stamped further ahead than this is refused: the sender's clock is wrong. An old stamp is
# fine (a message is resent as built, for up to SALDO_EESSI_RETRY_HOURS); a replay changes nothing.
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
# What the sender may keep from this node's answer in its log of refusals.
MAX_REASON = 2000


@dataclass(frozen=True)
class Node:
    """This installation as an EESSI institution: its id, keys and directory."""

    institution: str
    keys: NodeKeys
    directory_path: Path
    ca_bundle: Path | None = None
    retry_hours: float = 48.0
    previous: tuple[NodeKeys, ...] = ()  # keys rotated out: messages encrypted to them are still read

    @property
    def country(self) -> str:
        return self.institution.split(":", 1)[0]

    def directory(self) -> Directory:
        return load(self.directory_path)

    def party(self) -> Any:
        return transport.local_party(self.institution, self.keys)


def node_from_settings(settings: Settings) -> Node:
    if not (settings.eessi_institution and settings.eessi_key and settings.eessi_certificate):
        raise ExchangeNotConfiguredError(
            "this node takes no part in the cross-border exchange: set SALDO_EESSI_INSTITUTION, SALDO_EESSI_KEY, "
            "SALDO_EESSI_CERTIFICATE and SALDO_EESSI_DIRECTORY"
        )
    if settings.eessi_directory is None:
        raise ExchangeNotConfiguredError("SALDO_EESSI_DIRECTORY is not set")
    return _node(
        settings.eessi_institution,
        settings.eessi_key,
        settings.eessi_certificate,
        settings.eessi_directory,
        settings.eessi_ca_bundle,
        settings.eessi_retry_hours,
        tuple((pair.key, pair.certificate) for pair in settings.eessi_previous_keys),
        written_at(settings.eessi_key, settings.eessi_certificate),
    )


def written_at(*paths: Path) -> tuple[int, ...]:
    """When each file was last written (0 for one that cannot be read: loading it will say why): a
    key rotated on disk is read again without a restart."""
    stamps = []
    for path in paths:
        try:
            stamps.append(path.stat().st_mtime_ns)
        except OSError:
            stamps.append(0)
    return tuple(stamps)


@lru_cache(maxsize=8)
def _node(
    institution: str,
    key: Path,
    certificate: Path,
    directory: Path,
    ca_bundle: Path | None,
    retry_hours: float,
    previous: tuple[tuple[Path, Path], ...],
    written: tuple[int, ...],
) -> Node:
    """Loaded once per process and key: reading an RSA key checks it, which takes tens of
    milliseconds; ``written`` (the files' times) makes a rotated key load anew."""
    earlier = tuple(load_keys(k, c) for k, c in previous)
    return Node(institution, load_keys(key, certificate), directory, ca_bundle, retry_hours, earlier)


# ---- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRef:
    """The person a case is about, as this node knows them, and as the SED names them."""

    scheme: str | None
    person_id: str | None
    identification: seds.PersonIdentification | None


def _side(case: CrossBorderCase, institution: str) -> bucs.Side:
    return "owner" if case.owner == institution else "counterparty"


def _history(session: Session, case: CrossBorderCase, institution: str) -> list[bucs.Sent]:
    """The case's SEDs between its owner and ``institution`` (a participant, or the owner as seen
    from a participant's node), in order: the state machine runs once per participant."""
    return _thread(repository.case_documents(session, case.id), case, institution)


def _thread(documents: Sequence[CrossBorderDocument], case: CrossBorderCase, institution: str) -> list[bucs.Sent]:
    return [
        bucs.Sent(d.document_id, d.sed_type, _side(case, d.sender), d.answered_at is not None)
        for d in documents
        if d.status is not DocumentStatus.REJECTED and institution in (d.sender, d.receiver)
    ]


def open_case(
    session: Session,
    node: Node,
    *,
    buc_type: str,
    partner: str,
    content: dict[str, Any],
    person: PersonRef | None,
    purpose: str,
    by: str,
    audit_case_id: int | None = None,
) -> CrossBorderCase:
    """A new case of ``buc_type`` with ``partner``, its starter SED queued to go; ``audit_case_id``
    is the audit case it is asked from, when it is."""
    definition = _buc(buc_type)
    try:
        node.directory().get(partner, buc_type=buc_type)
    except UnknownInstitutionError as error:
        raise SedNotAllowedError(str(error)) from error
    if partner == node.institution:
        raise SedNotAllowedError("a case is opened with another institution, not with this node itself")
    case = CrossBorderCase(
        case_id=f"{node.institution}-{uuid.uuid4().hex[:16]}",
        buc_type=buc_type,
        owner=node.institution,
        counterparty=partner,
        partner=partner,
        participants=[partner],
        status=CaseStatus.OPEN,
        person_scheme=person.scheme if person else None,
        person_id=person.person_id if person else None,
        person_match=PersonMatch.IDENTIFIER if person and person.person_id else None,
        purpose=purpose,
        opened_by=by,
        audit_case_id=audit_case_id,
    )
    session.add(case)
    session.flush()
    send_sed(session, node, case, definition.starter, content, person=person, by=by)
    return case


def _buc(buc_type: str) -> bucs.Buc:
    try:
        return bucs.buc(buc_type)
    except bucs.NotAllowedError as error:
        raise SedNotAllowedError(str(error)) from error


def send_sed(
    session: Session,
    node: Node,
    case: CrossBorderCase,
    sed_type: str,
    content: dict[str, Any],
    *,
    person: PersonRef | None = None,
    answers: str | None = None,
    to: str | None = None,
    by: str,
) -> list[CrossBorderDocument]:
    """Check ``sed_type`` against the case, sign it and queue it, once for each institution it goes
    to (``_receivers``); raises SedNotAllowedError or InvalidSedError with the reason, and then
    queues nothing. The starter to a participant not yet sent anything is followed by the X005s that
    tell it who else takes part (``_announce_participants``); they are among the documents returned."""
    typed = _content(sed_type, content)
    answers = answers or getattr(typed, "document_id", None)
    definition = _buc(case.buc_type)
    history = repository.case_documents(session, case.id)
    receivers = _receivers(node, case, typed, history, starter=definition.starter, answers=answers, to=to)
    steps = []
    for receiver in receivers:
        try:
            step = bucs.check(
                case.buc_type,
                sed_type,
                side=_side(case, node.institution),
                version=definition.version,
                history=_thread(history, case, receiver),
                closed=case.status is CaseStatus.CLOSED,
                answers=answers,
            )
        except bucs.NotAllowedError as error:
            named = f" to {receiver}" if len(case.participants) > 1 else ""
            raise SedNotAllowedError(f"{error}{named}") from error
        steps.append(step)
    if isinstance(typed, seds.X005 | seds.X006):
        _check_participant_change(node, case, typed)
    if isinstance(typed, seds.X007):
        refused = _forward_refusal(node, case, typed.institution_id, forwarder=node.institution)
        if refused is not None:
            raise SedNotAllowedError(refused)
    identification = person.identification if person else _case_person(session, case)
    begun = _begun(history)
    documents = []
    for receiver, step in zip(receivers, steps, strict=True):
        sed, document = _queue(session, node, case, typed, to=receiver, answers=answers, person=identification, by=by)
        document.deadline = _deadline(step, typed)
        _apply_step(session, case, sed, step)
        documents.append(document)
        if sed_type == definition.starter and node.institution == case.owner and receiver not in begun:
            documents += _announce_participants(session, node, case, receiver, person=identification, by=by)
    _change_participants(session, node, case, typed)
    session.flush()
    return documents


def _receivers(
    node: Node,
    case: CrossBorderCase,
    content: seds.Content,
    history: Sequence[CrossBorderDocument],
    *,
    starter: str,
    answers: str | None,
    to: str | None,
) -> list[str]:
    """Whom a SED of this node goes to. A participant deals with the owner alone. The owner's SED
    goes to the institution ``to`` names (a participant); else, when it answers or names a SED, to
    the institution that SED was exchanged with; else the starter goes to the participants not yet
    sent anything (one just added with an X005), and every other SED to those whose part of the case
    has begun."""
    if node.institution != case.owner:
        if to is not None and to != case.owner:
            raise SedNotAllowedError(f"a participant of case {case.case_id} sends to its owner, {case.owner}, alone")
        return [case.owner]
    current = list(case.participants)
    if to is not None:
        if to not in current:
            raise SedNotAllowedError(
                f"{to} takes no part in case {case.case_id} (its participants: {', '.join(current)})"
            )
        if isinstance(content, seds.X005 | seds.X006):
            raise SedNotAllowedError(f"{content.sed_type} goes to every participant; name no one")
        return [to]
    named = next((d for d in history if answers is not None and d.document_id == answers), None)
    if named is not None:
        other = named.receiver if named.sender == node.institution else named.sender
        if other not in current:
            raise SedNotAllowedError(f"{other}, whom SED {answers} was exchanged with, no longer takes part")
        return [other]
    begun = _begun(history)
    if content.sed_type == starter:
        fresh = [p for p in current if p not in begun]
        return fresh or current
    return [p for p in current if p in begun] or current


def _begun(history: Sequence[CrossBorderDocument]) -> set[str]:
    """The institutions this node has sent something in the case: those whose part of it has begun."""
    return {d.receiver for d in history if d.direction is Direction.OUT and d.status is not DocumentStatus.REJECTED}


def _announce_participants(
    session: Session,
    node: Node,
    case: CrossBorderCase,
    newcomer: str,
    *,
    person: seds.PersonIdentification | None,
    by: str,
) -> list[CrossBorderDocument]:
    """A participant the owner has just sent the starter learns of the others already in the case:
    one X005 naming each, to the newcomer alone, queued after the starter so that they arrive after
    it (the X005s that added them went to the others before the newcomer knew the case)."""
    announced = []
    for other in case.participants:
        if other != newcomer:
            content = seds.X005.model_validate({"institutionID": other})
            _, document = _queue(session, node, case, content, to=newcomer, answers=None, person=person, by=by)
            announced.append(document)
    return announced


def _check_participant_change(node: Node, case: CrossBorderCase, content: seds.X005 | seds.X006) -> None:
    """The owner adds an institution that plays the BUC and takes no part yet, or removes a
    participant that is not the last (a case with no one left is closed with an X001)."""
    institution = content.institution_id
    if isinstance(content, seds.X005):
        if institution == node.institution or institution in case.participants:
            raise SedNotAllowedError(f"{institution} takes part in case {case.case_id} already")
        try:
            node.directory().get(institution, buc_type=case.buc_type)
        except UnknownInstitutionError as error:
            raise SedNotAllowedError(str(error)) from error
        return
    if institution not in case.participants:
        raise SedNotAllowedError(f"{institution} takes no part in case {case.case_id}")
    if len(case.participants) == 1:
        raise SedNotAllowedError(f"{institution} is the only participant of case {case.case_id}: close it with X001")


def _forward_refusal(node: Node, case: CrossBorderCase, institution: str, *, forwarder: str) -> str | None:
    """Why a participant may not forward the case to ``institution``, or None: it must play the BUC
    in the directory and take no part in the case yet (the owner is in it already)."""
    if institution in (forwarder, case.owner, *case.participants):
        return f"{institution} takes part in case {case.case_id} already; a case is forwarded to another institution"
    try:
        node.directory().get(institution, buc_type=case.buc_type)
    except UnknownInstitutionError as error:
        return str(error)
    return None


def _forward(session: Session, node: Node, case: CrossBorderCase, forwarder: str, content: seds.X007) -> None:
    """The owner's part when a participant forwards the case (X007): the institution named joins
    (X005 to those in the case), the forwarder leaves (X006, to it too: its case closes), and the
    starter the forwarder was sent goes to the one named, with the X005s that tell it who else
    takes part. The forwarder's questions are awaited no more; the new one's answer is."""
    by = f"saldo (forwarded by {forwarder})"
    institution = content.institution_id
    send_sed(session, node, case, "X005", {"institutionID": institution}, by=by)
    send_sed(session, node, case, "X006", {"institutionID": forwarder}, by=by)
    starter = _buc(case.buc_type).starter
    asked = next(
        (
            d
            for d in repository.case_documents(session, case.id)
            if d.direction is Direction.OUT and d.receiver == forwarder and d.sed_type == starter
        ),
        None,
    )
    if asked is not None:
        send_sed(session, node, case, starter, asked.content["fields"], to=institution, by=by)


def _change_participants(session: Session, node: Node, case: CrossBorderCase, content: seds.Content) -> None:
    """What an X005 or X006 does to the case's participants, sent by this node (the owner) or
    received from the owner. A participant removed is awaited for nothing more; a node that learns it
    is removed closes the case on its side."""
    if not isinstance(content, seds.X005 | seds.X006):
        return
    institution = content.institution_id
    if isinstance(content, seds.X005):
        if institution not in case.participants:
            case.participants = [*case.participants, institution]
        return
    case.participants = [p for p in case.participants if p != institution]
    repository.stop_awaiting(session, case.id, institution)
    if institution == node.institution:
        case.status = CaseStatus.CLOSED
        case.closed_at = utcnow()


def _queue(
    session: Session,
    node: Node,
    case: CrossBorderCase,
    content: seds.Content,
    *,
    to: str,
    answers: str | None,
    by: str,
    person: seds.PersonIdentification | None = None,
) -> tuple[seds.Sed, CrossBorderDocument]:
    """The SED, signed by this institution, in the case's outbox (the caller has checked it may go)."""
    definition = bucs.catalogue().get(case.buc_type)
    g_ver, ver = seds.split_version(definition.version if definition else "4.2")
    sed = seds.Sed(
        sed=content.sed_type,
        sed_g_ver=g_ver,
        sed_ver=ver,
        document_id=uuid.uuid4().hex,
        case_id=case.case_id,
        buc_type=case.buc_type,
        sender=node.institution,
        receiver=to,
        answers=answers,
        person=person,
        content=content,
    )
    document = CrossBorderDocument(
        case_pk=case.id,
        document_id=sed.document_id,
        message_id=f"{uuid.uuid4()}@{node.institution.replace(':', '.').lower()}.saldo",
        sed_type=sed.sed,
        direction=Direction.OUT,
        sender=node.institution,
        receiver=to,
        answers=answers,
        content=_stored(sed),
        xml=signatures.sign(seds.to_element(sed), node.keys),
        status=DocumentStatus.QUEUED,
        attempts=0,
        created_by=by,
    )
    session.add(document)
    return sed, document


def _deadline(step: bucs.Step, content: seds.Content) -> dt.date | None:
    """When the answer to a request is due; an H001 that notifies (``paid``) asks nothing."""
    if isinstance(content, seds.H001) and content.paid:
        return None
    return bucs.deadline(step, utcnow().date())


def _content(sed_type: str, content: dict[str, Any]) -> seds.Content:
    try:
        return seds.content_of(sed_type, content)
    except seds.SedError as error:
        raise InvalidSedError(str(error)) from error


def _case_person(session: Session, case: CrossBorderCase) -> seds.PersonIdentification | None:
    first = repository.first_document(session, case.id)
    if first is None or not first.content.get("person"):
        return None
    return seds.PersonIdentification.model_validate(first.content["person"])


def _stored(sed: seds.Sed) -> dict[str, Any]:
    return {
        "person": sed.person.model_dump(mode="json", by_alias=True) if sed.person else None,
        "fields": sed.content.model_dump(mode="json", by_alias=True, exclude_none=True),
        "version": sed.version,
    }


def _apply_step(session: Session, case: CrossBorderCase, sed: seds.Sed, step: bucs.Step) -> None:
    """What a SED does to its case, sent or received: it answers a request, or closes the case."""
    if step.answers and sed.answers is None:
        request = repository.open_request(session, case.id, step.answers, sent_to=sed.sender)
        if request is not None:
            request.answered_at = utcnow()
    elif step.answers and sed.answers is not None:
        repository.mark_answered(session, case.id, sed.answers, utcnow())
    if step.closes:
        case.status = CaseStatus.CLOSED
        case.closed_at = utcnow()


# ---- delivering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    document_id: str
    outcome: str  # built | delivered | retry | undeliverable
    detail: str = ""


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** min(attempts, 12), MAX_BACKOFF_S))


def deliver_one(session: Session, node: Node, post: Any) -> Delivery | None:
    """Send the oldest due SED of the outbox (the first unsent of its case, so a case's SEDs arrive
    in order) and record the outcome; None when nothing is due. A SED not yet built into its AS4
    message is built first, and only that (outcome ``built``): the caller commits, then sends.
    ``post(url, headers, body)`` returns (status, body), or raises OSError when the partner cannot
    be reached. ``claim_due`` and ``send_claimed`` do the same for many SEDs at a time."""
    document = repository.next_due(session, utcnow())
    if document is None:
        return None
    partner = _partner(node, document)
    if isinstance(partner, Delivery):
        return partner
    if not _built(document):
        case = session.get(CrossBorderCase, document.case_pk)
        assert case is not None
        return _build(node, document, partner, case.case_id)
    exchange = _restored(node, document)
    crash_points.reach("eessi.before_post")
    answer = _attempt(post, partner, document)
    crash_points.reach("eessi.after_post")
    return _conclude(node, document, partner, exchange, answer)


def claim_due(session: Session, node: Node, *, limit: int = DELIVERY_BATCH) -> tuple[list[int], list[Delivery]]:
    """Up to ``limit`` due SEDs (each the first unsent of its case), locked, and those not yet built
    into their AS4 message built: the ids ready to send, and the outcomes (``built``, or
    ``undeliverable`` for a receiver no longer in the directory). The caller commits before
    ``send_claimed``, so a retry after a crash resends the same bytes."""
    documents = repository.due_batch(session, utcnow(), limit)
    case_ids = repository.case_ids(session, {d.case_pk for d in documents if not _built(d)})
    ready, outcomes = [], []
    for document in documents:
        partner = _partner(node, document)
        if isinstance(partner, Delivery):
            outcomes.append(partner)
            continue
        if not _built(document):
            outcomes.append(_build(node, document, partner, case_ids[document.case_pk]))
        ready.append(document.id)
    return ready, outcomes


def send_claimed(
    session: Session, node: Node, ids: Sequence[int], post: Any, *, at_once: int = POSTS_AT_ONCE
) -> list[Delivery]:
    """Send the built SEDs ``ids`` that are still queued (those another delivery has taken meanwhile
    are skipped), ``at_once`` posts side by side (each to its own case, so order within a case
    holds), and record each outcome; the caller commits. A partner that cannot be reached is not
    tried again in this round: its other SEDs wait for the next, without counting an attempt."""
    prepared = []
    outcomes = []
    for document in repository.queued_locked(session, ids):
        partner = _partner(node, document)
        if isinstance(partner, Delivery):
            outcomes.append(partner)
        elif _built(document):
            prepared.append((document, partner, _restored(node, document)))
    unreachable: set[str] = set()

    def attempt(item: tuple[CrossBorderDocument, Institution, Any]) -> tuple[int, bytes] | OSError | None:
        document, partner, _ = item
        if partner.id in unreachable:
            return None
        answer = _attempt(post, partner, document)
        if isinstance(answer, OSError):
            unreachable.add(partner.id)
        return answer

    crash_points.reach("eessi.before_post")
    if len(prepared) > 1 and at_once > 1:
        with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="eessi-post") as pool:
            answers = list(pool.map(attempt, prepared))
    else:
        answers = [attempt(item) for item in prepared]
    crash_points.reach("eessi.after_post")
    for (document, partner, exchange), answer in zip(prepared, answers, strict=True):
        if answer is None:
            outcomes.append(_wait_for(document, partner))
        else:
            outcomes.append(_conclude(node, document, partner, exchange, answer))
    return outcomes


def _partner(node: Node, document: CrossBorderDocument) -> Institution | Delivery:
    """The receiver in the directory, or the SED given up (it names an institution no longer listed)."""
    try:
        return node.directory().get(document.receiver)
    except UnknownInstitutionError as error:
        return _give_up(document, str(error))


def _built(document: CrossBorderDocument) -> bool:
    return document.as4_message is not None and document.exchange is not None


def _build(node: Node, document: CrossBorderDocument, partner: Institution, case_id: str) -> Delivery:
    exchange, headers, body = transport.build(
        node.party(),
        transport.remote_party(partner.id, partner.certificate),
        document.xml,
        case_id=case_id,
        sed_type=document.sed_type,
        message_id=document.message_id,
    )
    document.exchange = {"exchange": json.loads(exchange.model_dump_json()), "headers": headers}
    document.as4_message = body
    # Committed before it is sent: a retry after a crash resends these bytes, so the receipt the
    # partner kept for them proves this message.
    return Delivery(document.document_id, "built")


def _restored(node: Node, document: CrossBorderDocument) -> Any:
    assert document.exchange is not None
    return transport.SendingExchange.restore(json.dumps(document.exchange["exchange"]), node.party())


def _attempt(post: Any, partner: Institution, document: CrossBorderDocument) -> tuple[int, bytes] | OSError:
    assert document.exchange is not None
    try:
        status, answer = post(partner.endpoint, document.exchange["headers"], document.as4_message)
    except OSError as error:
        return error
    return status, answer


def _conclude(
    node: Node, document: CrossBorderDocument, partner: Institution, exchange: Any, answer: tuple[int, bytes] | OSError
) -> Delivery:
    """What the partner's answer to one post means for the SED: delivered, tried again later, or given up."""
    if isinstance(answer, OSError):
        return _retry(node, document, f"{partner.id} could not be reached: {answer}")
    status, body = answer
    if status >= 500 and not body.startswith(b"<"):
        return _retry(node, document, f"{partner.id} answered HTTP {status}")
    refused = transport.signal_error(body)
    if refused is not None:
        return _give_up(document, f"{partner.id} refused the message: {refused}"[:MAX_REASON])
    try:
        exchange.receive_signal(body)
    except Exception as error:
        return _retry(node, document, f"the receipt from {partner.id} does not prove delivery: {error}")
    document.status = DocumentStatus.DELIVERED
    document.delivered_at = utcnow()
    document.receipt = body
    document.reason = None
    document.next_attempt_at = None
    return Delivery(document.document_id, "delivered")


def _wait_for(document: CrossBorderDocument, partner: Institution) -> Delivery:
    """A SED not tried because its partner could not be reached a moment ago: due again after the
    backoff it is at, with no attempt counted."""
    document.next_attempt_at = utcnow() + _backoff(max(document.attempts, 1))
    reason = f"{partner.id} could not be reached a moment ago; not tried in this round"
    return Delivery(document.document_id, "retry", reason)


def _retry(node: Node, document: CrossBorderDocument, reason: str) -> Delivery:
    document.attempts += 1
    document.reason = reason
    if utcnow() - document.created_at > dt.timedelta(hours=node.retry_hours):
        return _give_up(document, f"{reason}; tried {document.attempts} times over {node.retry_hours:g} hours")
    document.next_attempt_at = utcnow() + _backoff(document.attempts)
    log.warning("SED %s to %s: %s (attempt %d)", document.document_id, document.receiver, reason, document.attempts)
    return Delivery(document.document_id, "retry", reason)


def _give_up(document: CrossBorderDocument, reason: str) -> Delivery:
    document.status = DocumentStatus.UNDELIVERABLE
    document.reason = reason
    document.next_attempt_at = None
    log.error("SED %s to %s is undeliverable: %s", document.document_id, document.receiver, reason)
    return Delivery(document.document_id, "undeliverable", reason)


def send_again(session: Session, case: CrossBorderCase, document_id: str, *, by: str) -> CrossBorderDocument:
    """Queue an undeliverable SED of ours again (the partner's node is back, or its directory entry is
    fixed): the same AS4 message, so a partner that did receive it answers with the receipt it
    kept. Its retries start afresh."""
    document = repository.document_of_case(session, case.id, document_id)
    if document is None:
        raise CaseNotFoundError(f"no SED {document_id} in case {case.case_id}")
    if document.direction is not Direction.OUT or document.status is not DocumentStatus.UNDELIVERABLE:
        state = document.status.value
        raise SedNotAllowedError(f"SED {document_id} is {state}: only an undeliverable SED is sent again")
    document.status = DocumentStatus.QUEUED
    document.attempts = 0
    document.next_attempt_at = None
    document.reason = None
    log.info("SED %s of case %s queued again by %s", document_id, case.case_id, by)
    return document


def attention(session: Session) -> dict[str, int]:
    """What waits for staff in the exchange: persons to confirm, SEDs that could not be delivered."""
    to_confirm, undeliverable = repository.attention(session)
    return {"cross_border_to_confirm": to_confirm, "cross_border_undeliverable": undeliverable}


def remind_overdue(session: Session, node: Node, today: dt.date) -> int:
    """An X009 for every request of ours whose answer is overdue (once per request)."""
    sent = 0
    for document in repository.overdue_requests(session, today, node.institution):
        case = session.get(CrossBorderCase, document.case_pk)
        assert case is not None
        send_sed(session, node, case, "X009", {"documentID": document.document_id}, by="saldo (deadline)")
        document.reminded_at = utcnow()
        sent += 1
    return sent


# ---- receiving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the AS4 endpoint answers: a signed receipt (200) or a signed error signal (400)."""

    status: int
    body: bytes
    outcome: str


def receive(session: Session, node: Node, headers: dict[str, str], body: bytes) -> Answer:  # noqa: PLR0911
    """Take in one AS4 message; the caller commits. Nothing is stored unless the message is
    proven (AS4 signature, decryption, the SED's own signature) and addressed to this node."""
    directory = node.directory()

    def listed(institution_id: str) -> Sequence[Any]:
        return directory.get(institution_id).certificates

    exchange = transport.receive(node.party(), headers, body, listed)
    for earlier in node.previous:  # encrypted to a certificate this node has since rotated out
        if exchange.message is None or not transport.undecryptable(exchange.message):
            break
        exchange = transport.receive(transport.local_party(node.institution, earlier), headers, body, listed)
    message = exchange.message
    if message is None or message.parse_error is not None:
        reason = str(message.parse_error) if message and message.parse_error else "unreadable"
        log.warning("AS4 message refused: %s", reason)
        return Answer(400, exchange.build_signal()[1], f"refused: {reason}")
    stored = repository.document_by_message(session, message.message_id)
    if stored is not None:
        if stored.direction is Direction.IN and stored.receipt is not None:
            return Answer(200, stored.receipt, "duplicate")
        return _refuse(exchange, f"the message id {message.message_id} is already used by another message")
    sed = _proven_sed(node, message, listed)
    if isinstance(sed, str):
        return _refuse(exchange, sed)
    receipt = exchange.build_signal()[1]
    try:
        with session.begin_nested():
            outcome = _take_in(session, node, sed, message.sed, message.message_id, receipt)
    except IntegrityError:  # the same message, taken in by a concurrent request a moment ago
        stored = repository.document_by_message(session, message.message_id)
        if stored is None or stored.direction is not Direction.IN or stored.receipt is None:
            raise
        return Answer(200, stored.receipt, "duplicate")
    except _RefusedError as refused:
        return _refuse(exchange, str(refused))
    return Answer(200, receipt, outcome)


def _proven_sed(node: Node, message: transport.EessiMessage, listed: Callable[[str], Sequence[Any]]) -> seds.Sed | str:
    """The SED a verified AS4 message carries, or why this node refuses it."""
    sender = message.get_remote_party().identity.party_id
    stamped = transport.sent_at(message)
    if stamped is not None and stamped > utcnow() + MAX_CLOCK_SKEW:
        return f"the message is stamped {stamped:%Y-%m-%dT%H:%M:%SZ}, ahead of this node's clock"
    if message.addressed_to is None or message.addressed_to.party_id != node.institution:
        return f"the message is addressed to {message.addressed_to}, not to {node.institution}"
    try:
        sed = verified_sed(message.sed, listed(sender))
    except (signatures.SignatureError, seds.SedError) as error:
        return f"SED: {error}"
    if sed.sender != sender or sed.receiver != node.institution:
        return f"the SED names {sed.sender} to {sed.receiver}; the message is {sender} to {node.institution}"
    if sed.case_id != message.case_id or sed.sed != message.sed_type:
        return "the SED's case or type differs from the message's properties"
    return sed


def verified_sed(xml: bytes, certificates: Sequence[Any]) -> seds.Sed:
    """The SED in ``xml`` once its sender's signature verifies with one of ``certificates``."""
    signatures.verify(xml, certificates)
    return seds.from_xml(xml)


def take_in_delivered(session: Session, node: Node, xml: bytes, certificates: Sequence[Any], *, message_id: str) -> str:
    """A SED that reached this node other than over AS4 (the synthetic country's, an export from
    another national application): the same checks and effects as an AS4 message's SED, after its
    transport. Raises SedError or SignatureError; returns accepted, rejected or duplicate."""
    sed = verified_sed(xml, certificates)
    if sed.receiver != node.institution:
        raise seds.SedError(f"the SED is addressed to {sed.receiver}, not to {node.institution}")
    if repository.document_by_message(session, message_id) is not None:
        return "duplicate"
    return _take_in(session, node, sed, xml, message_id, None)


TAKE_IN_CHUNK = 500


def take_in_many(
    session: Session, node: Node, signed: Iterable[tuple[str, bytes]], certificates: Sequence[Any]
) -> dict[str, int]:
    """Each (message id, signed SED) taken in as ``take_in_delivered`` takes one, in the caller's
    transaction (all or none); the outcomes counted. Every few hundred the session is flushed and
    lets go of what it holds, so a load of a hundred thousand SEDs (each with its signed XML) is not
    held in memory whole until it commits."""
    outcomes: dict[str, int] = {}
    for number, (message_id, xml) in enumerate(signed, start=1):
        outcome = take_in_delivered(session, node, xml, certificates, message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if number % TAKE_IN_CHUNK == 0:
            session.flush()
            session.expunge_all()
    return outcomes


class _RefusedError(Exception):
    """A proven SED this node will not take in (its case belongs to another partner)."""


def _refuse(exchange: transport.ReceivingExchange, reason: str) -> Answer:
    log.warning("AS4 message refused: %s", reason)
    return Answer(400, transport.refusal(exchange, reason[:MAX_REASON]), f"refused: {reason}")


def _take_in(session: Session, node: Node, sed: seds.Sed, xml: bytes, message_id: str, receipt: bytes | None) -> str:
    case = repository.case_by_id(session, sed.case_id)
    opened_here = case is None
    if case is None:
        if sed.buc_type not in bucs.catalogue():
            raise _RefusedError(f"{sed.buc_type} is not a BUC this node plays")
        case = CrossBorderCase(
            case_id=sed.case_id,
            buc_type=sed.buc_type,
            owner=sed.sender,
            counterparty=node.institution,
            partner=sed.sender,
            participants=[node.institution],
            status=CaseStatus.OPEN,
            opened_by=sed.sender,
        )
        session.add(case)
        session.flush()
    elif case.buc_type != sed.buc_type:
        raise _RefusedError(f"case {case.case_id} is a {case.buc_type}, not a {sed.buc_type}")
    elif sed.sender not in (case.participants if case.owner == node.institution else [case.owner]):
        raise _RefusedError(f"{sed.sender} takes no part in case {case.case_id}")
    document = CrossBorderDocument(
        case_pk=case.id,
        document_id=sed.document_id,
        message_id=message_id,
        sed_type=sed.sed,
        direction=Direction.IN,
        sender=sed.sender,
        receiver=node.institution,
        answers=sed.answers,
        content=_stored(sed),
        xml=xml,
        status=DocumentStatus.ACCEPTED,
        attempts=0,
        receipt=receipt,
        created_by=sed.sender,
    )
    try:
        step = bucs.check(
            case.buc_type,
            sed.sed,
            side=_side(case, sed.sender),
            version=sed.version,
            history=[] if opened_here else _history(session, case, sed.sender),  # a case this SED opens has none
            closed=case.status is CaseStatus.CLOSED,
            answers=sed.answers,
        )
    except bucs.NotAllowedError as error:
        document.status = DocumentStatus.REJECTED
        document.reason = str(error)
        session.add(document)
        session.flush()
        if sed.sed != "X011":  # a rejection is never rejected back
            _reject(session, node, case, document, str(error))
        return "rejected"
    named = match_person(node, sed.person)
    refused = None
    if named is not None and case.person_id is not None and named != (case.person_scheme, case.person_id):
        refused = "the SED names a different person than the case is about"
    elif isinstance(sed.content, seds.X007):
        refused = _forward_refusal(node, case, sed.content.institution_id, forwarder=sed.sender)
    if refused is not None:
        document.status = DocumentStatus.REJECTED
        document.reason = refused
        session.add(document)
        session.flush()
        _reject(session, node, case, document, refused)
        return "rejected"
    deadline = _deadline(step, sed.content)
    document.deadline = deadline
    session.add(document)
    session.flush()
    _apply_step(session, case, sed, step)
    _change_participants(session, node, case, sed.content)
    if isinstance(sed.content, seds.X007):
        _forward(session, node, case, sed.sender, sed.content)
    _learn(session, node, case, sed, document)
    return "accepted"


def _reject(session: Session, node: Node, case: CrossBorderCase, document: CrossBorderDocument, reason: str) -> None:
    """An X011 naming the SED and the reason, queued back to its sender (outside the state
    machine's order checks: a rejection answers any SED, even one that started nothing)."""
    rejection = seds.X011(document_id=document.document_id, reason=reason[:MAX_REASON])
    _queue(session, node, case, rejection, to=document.sender, answers=document.document_id, by="saldo (state machine)")


def match_person(node: Node, identification: seds.PersonIdentification | None) -> tuple[str, str] | None:
    """(scheme, id) of the person a SED names by this country's identification number, or None."""
    if identification is None:
        return None
    scheme = NATIONAL_SCHEMES.get(node.country)
    if scheme is None:
        return None
    for pin in identification.pins:
        if pin.country != node.country:
            continue
        try:
            return scheme.value, normalize_identifier(scheme, pin.personal_identification_number)
        except InvalidIdentifierError:
            continue
    return None


# A name that matches in full: the same names, at most spelt with or without diacritics or in another
# order. A given name left out, initials, a part of a surname or a spelling difference is weaker.
FULL_NAME = frozenset({Reason.EXACT, Reason.NORMALISED, Reason.DIACRITICS, Reason.TOKEN_ORDER})


@dataclass(frozen=True)
class Candidate:
    """A person with an account here who may be the one a SED names: born that day, and how their
    name as the bank registered it compares with the SED's."""

    scheme: str
    person_id: str
    registered_name: str
    outcome: str  # match or close_match (the name comparison of verification of payee)
    reason: str
    score: float

    @property
    def strong(self) -> bool:
        return self.outcome == Outcome.MATCH and self.reason in FULL_NAME

    def describe(self) -> str:
        return f"{self.outcome} ({self.reason}, {self.score:.0f}) with {self.registered_name!r}"


def name_candidates(session: Session, node: Node, person: seds.PersonIdentification | None) -> list[Candidate]:
    """The persons with a current account here born on the SED's birth date whose registered name
    matches or nearly matches its name, strongest first; none where this country's identifiers do
    not carry the birth date."""
    if person is None:
        return []
    return persons_named(session, node.country, f"{person.forename} {person.family_name}", person.date_birth)


def persons_named(session: Session, country: str, named: str, born: dt.date) -> list[Candidate]:
    """The persons with a current account here born on ``born`` whose name as their bank registered
    it matches or nearly matches ``named``, strongest first (a SED's person, or a foreign eID's)."""
    scheme = NATIONAL_SCHEMES.get(country)
    if scheme is None:
        return []
    schemes = [scheme, IdScheme.SE_SAMORDNINGSNUMMER] if scheme is IdScheme.SE_PERSONNUMMER else [scheme]
    found: dict[tuple[str, str], Candidate] = {}
    ranges = [(each.value, *bounds) for each in schemes if (bounds := born_on_bounds(each, born)) is not None]
    for holder_scheme, identifier, registered in repository.account_holders_born(session, ranges):
        compared = match_name(named, registered, organisation=False)
        if compared.outcome not in (Outcome.MATCH, Outcome.CLOSE_MATCH):
            continue
        candidate = Candidate(
            holder_scheme, identifier, registered, compared.outcome.value, compared.reason.value, compared.score
        )
        key = (holder_scheme, identifier)
        if key not in found or (candidate.strong, candidate.score) > (found[key].strong, found[key].score):
            found[key] = candidate
    return sorted(found.values(), key=lambda c: (not c.strong, c.outcome != Outcome.MATCH, -c.score, c.person_id))


def _identify(session: Session, node: Node, case: CrossBorderCase, sed: seds.Sed) -> bool:
    """Link an unlinked case to the person its SED names: by this country's identification number;
    else by birth date and full name, when exactly one person with an account here has both (the
    strength is recorded). Anything weaker or ambiguous waits for staff (``unmatched``), with the
    candidates kept for them to choose from; nothing is linked silently on a weak match, nor again to
    a person staff unlinked from the case."""
    found = match_person(node, sed.person)
    if found is not None:
        case.person_scheme, case.person_id = found
        case.person_match = PersonMatch.IDENTIFIER
        case.match_candidates = None
        return True
    candidates = name_candidates(session, node, sed.person)
    strong = [c for c in candidates if c.strong]
    undone = {(u["person_scheme"], u["person_id"]) for u in case.undone_links or []}
    if len(strong) == 1 and len(candidates) == 1 and (strong[0].scheme, strong[0].person_id) not in undone:
        case.person_scheme, case.person_id = strong[0].scheme, strong[0].person_id
        case.person_match = PersonMatch.NAME_AND_BIRTH_DATE
        case.match_strength = f"birth date and name: {strong[0].describe()}"[:200]
        case.match_candidates = None
        return True
    case.person_match = PersonMatch.UNMATCHED
    case.match_candidates = [asdict(c) for c in candidates] or None
    return False


def _learn(session: Session, node: Node, case: CrossBorderCase, sed: seds.Sed, document: CrossBorderDocument) -> bool:
    """The facts a received SED gives about the person, with their origin. Only a person found by
    this country's identification number, by birth date and full name beyond doubt, or confirmed by
    staff, is linked; otherwise the case waits for staff (``unmatched``) and nothing is learned
    until someone confirms who it is."""
    if case.person_id is None and not _identify(session, node, case, sed):
        return False
    person = (case.person_scheme or "", case.person_id)
    kind: FactKind | None = None
    values: dict[str, Any] = {}
    content = sed.content
    if isinstance(content, seds.H070):
        kind, values = FactKind.DEATH, {"date": content.date_death.isoformat(), "country": content.country_death}
    elif (isinstance(content, seds.H002) and content.receives_benefit) or (
        isinstance(content, seds.H001) and content.paid
    ):
        kind = FactKind.BENEFIT_ABROAD
        values = content.model_dump(mode="json", by_alias=True, exclude_none=True)
        values["country"] = sed.sender.split(":", 1)[0]
    elif isinstance(content, seds.H003):
        kind = FactKind.RESIDENCE_ABROAD
        values = {"country": content.country_residence, "since": content.since.isoformat()}
    if kind is None:
        return False
    session.add(
        CrossBorderFact(
            person_scheme=person[0],
            person_id=person[1],
            kind=kind,
            values=values,
            document_pk=document.id,
            institution=sed.sender,
        )
    )
    return True


# who works cross-border cases: opens them, sends SEDs, confirms who a case is about
WORKING = (Role.AUDITOR, Role.ANALYST, Role.CASEWORKER)


def log_case_read(session: Session, case: CrossBorderCase, staff: StaffPrincipal, *, channel: str) -> None:
    """Staff read a case's SEDs, which name the person (names, birth date, identification numbers):
    a read of the person's data, written to the access log with who, in which role and which case.
    A case not yet linked to anyone is logged when its candidates are shown (shown_candidates)."""
    if case.person_id is None or case.person_scheme is None:
        return
    role = next((r for r in (*WORKING, Role.SUPERVISOR) if staff.has(r)), None)
    log_access(
        session,
        Access(
            actor=staff.username,
            role=role.value if role else "staff",
            action="read_cross_border_case",
            purpose=CROSS_BORDER_WORK,
            person_scheme=case.person_scheme,
            person_id=case.person_id,
            channel=channel,
            details={"cross_border_case": case.case_id},
        ),
    )


def shown_candidates(session: Session, case: CrossBorderCase, staff: StaffPrincipal, *, channel: str) -> list[Any]:
    """The persons an unmatched case may be about, for whoever works cases to confirm one (none for
    anyone else); showing them is a read of each person's data, written to the access log (who,
    in which role, why, which case)."""
    working = [role for role in WORKING if staff.has(role)]
    if not working or case.person_match is not PersonMatch.UNMATCHED or not case.match_candidates:
        return []
    by, role = staff.username, working[0].value
    for candidate in case.match_candidates:
        log_access(
            session,
            Access(
                actor=by,
                role=role,
                action="read_cross_border_candidate",
                purpose=IDENTIFY_ABROAD,
                person_scheme=candidate["scheme"],
                person_id=candidate["person_id"],
                channel=channel,
                details={"cross_border_case": case.case_id},
            ),
        )
    return list(case.match_candidates)


def confirm_person(session: Session, node: Node, case: CrossBorderCase, scheme: str, person_id: str, *, by: str) -> int:
    """Staff say who an unmatched case is about: the case is linked, and what its received SEDs
    tell is learned now. Returns the facts recorded."""
    if case.person_match is not PersonMatch.UNMATCHED:
        raise SedNotAllowedError(f"case {case.case_id} is linked already ({case.person_match}); nothing to confirm")
    try:
        normalized = normalize_identifier(IdScheme(scheme), person_id)
    except (ValueError, InvalidIdentifierError) as error:
        raise InvalidSedError(f"person: {error}") from error
    case.person_scheme, case.person_id, case.person_match = scheme, normalized, PersonMatch.CONFIRMED
    case.match_candidates = None
    log.info("case %s linked to a person by %s", case.case_id, by)
    learned = 0
    for document in repository.case_documents(session, case.id):
        if document.direction is Direction.IN and document.status is DocumentStatus.ACCEPTED:
            learned += _learn(session, node, case, seds.from_xml(document.xml), document)
    return learned


# A link staff may undo: one made by birth date and full name, or confirmed by a member of staff. A
# link by this country's identification number stands: if the number is wrong, the institution
# abroad corrects its SED.
UNDOABLE = (PersonMatch.NAME_AND_BIRTH_DATE, PersonMatch.CONFIRMED)
MAX_UNDO_REASON = 500


def undo_link(session: Session, node: Node, case: CrossBorderCase, *, reason: str, by: str) -> int:
    """Staff say a case is linked to the wrong person: the facts its SEDs gave are withdrawn (kept
    and marked; neither the analysis nor the procedures read them), the case waits for staff again
    with the candidates found anew, and the case keeps who undid which link, when and why. Returns
    the facts withdrawn."""
    session.refresh(case, with_for_update=True)  # two members of staff undoing at once: one after the other
    if case.person_match not in UNDOABLE or case.person_id is None:
        how = case.person_match.value if case.person_match else "not linked"
        raise SedNotAllowedError(
            f"case {case.case_id} is {how}: only a link by birth date and name, or one staff confirmed, is undone"
        )
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidSedError("reason: say why the link is wrong")
    now = utcnow()
    documents = repository.case_documents(session, case.id)
    received = [d for d in documents if d.direction is Direction.IN and d.status is DocumentStatus.ACCEPTED]
    withdrawn = repository.withdraw_facts(
        session, [d.id for d in received], when=now, by=by, reason=reason[:MAX_UNDO_REASON]
    )
    undone = {
        "at": now.isoformat(),
        "by": by,
        "reason": reason[:MAX_UNDO_REASON],
        "person_scheme": case.person_scheme,
        "person_id": case.person_id,
        "match": case.person_match.value if case.person_match else None,
        "strength": case.match_strength,
        "facts_withdrawn": withdrawn,
    }
    case.undone_links = [*(case.undone_links or []), undone]
    named = next(
        (seds.PersonIdentification.model_validate(d.content["person"]) for d in received if d.content.get("person")),
        None,
    )
    case.person_scheme, case.person_id, case.person_match = None, None, PersonMatch.UNMATCHED
    case.match_strength = None
    case.match_candidates = [asdict(c) for c in name_candidates(session, node, named)] or None
    log.info("case %s: the link to a person was undone by %s (%d facts withdrawn)", case.case_id, by, withdrawn)
    return withdrawn


# ---- reading --------------------------------------------------------------------------------------


def persons_known_by(session: Session, country: str, number: str) -> set[tuple[str, str]]:
    """The persons here whom a SED named with this identification number of ``country``, in a case
    linked to them by this country's number or by staff (not by name alone)."""
    return repository.persons_with_pin(session, country, number)


def get_case(session: Session, case_id: str) -> CrossBorderCase:
    case = repository.case_by_id(session, case_id)
    if case is None:
        raise CaseNotFoundError(f"no cross-border case {case_id}")
    return case


def cases_from_audit_case(session: Session, audit_case_id: int) -> list[CrossBorderCase]:
    """The cross-border cases asked from an audit case, oldest first."""
    return repository.cases_from_audit_case(session, audit_case_id)


def partners_for(node: Node, buc_type: str) -> list[Institution]:
    """The institutions in the directory, other than this node, that take part in ``buc_type``."""
    institutions = node.directory().institutions.values()
    found = [i for i in institutions if buc_type in i.bucs and i.id != node.institution]
    return sorted(found, key=lambda i: (i.country, i.name))


def list_cases(session: Session, *, status: CaseStatus | None = None, limit: int = 100) -> list[CrossBorderCase]:
    return repository.cases(session, status=status, limit=limit)


def documents(session: Session, case: CrossBorderCase) -> list[CrossBorderDocument]:
    return repository.case_documents(session, case.id)


def facts_about(session: Session, scheme: str, person_id: str) -> list[CrossBorderFact]:
    return repository.facts_about(session, scheme, person_id)


def facts_from(session: Session, document_pks: list[int]) -> list[CrossBorderFact]:
    """The facts these received SEDs gave."""
    return repository.facts_from(session, document_pks) if document_pks else []


def sed_text(document: CrossBorderDocument) -> str:
    """The SED as it travelled, for a reader."""
    return etree.tostring(etree.fromstring(document.xml), pretty_print=True).decode("utf-8")
