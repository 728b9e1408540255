"""SEDs on the wire: eDelivery AS4 (ebMS 3 One-Way/Push) user messages with the EESSI parameters,
built, signed, encrypted, parsed and answered by the ``as4`` library (docs/decisions/0020).

What the EESSI P-Modes fix (the access point's push P-Mode): Service ``BusinessMessaging``, Action
``Send``, both parties in role ``urn:eu:europa:ec:dgempl:eessi:ir:institution``, each PartyId the
institution's id in the Institution Repository (``SE:…``). The SED travels as the one payload, gzip
compressed and encrypted (AES-128-GCM under RSA-OAEP) to the receiver's certificate; the SOAP header,
the body and the payload are signed (RSA-SHA256, exclusive c14n), and the receiver answers with a
signed non-repudiation receipt, or an ebMS error signal saying what was wrong.

Only the Peppol parts of the library's message (its SBDH and its participant scheme) are replaced
here; canonicalisation, signing, encryption and the receipt are the library's own."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any, ClassVar, Self
from uuid import uuid4

from as4 import (
    AS4BaseCredentials,
    AS4ExternalParty,
    AS4InternalCredentials,
    AS4InternalParty,
    AS4LocalPrivateKey,
    AS4PartyIdentity,
    AS4Profile,
    AS4ReceivingExchange,
    AS4References,
    AS4SendingExchange,
    BaseProfileLevelException,
    SecurityPolicy,
    UntrustedSignerError,
)
from as4.core.context import AS4ParseContext
from as4.core.message import AS4Message
from as4.errors import DecryptionFailedException, PayloadPartNotFoundException, SoapPartNotFoundException
from as4.models.common import NAMESPACES
from as4.models.ebms.message_info import MessageId, MessageInfo, Timestamp
from as4.models.ebms.user_message import (
    Action,
    CollaborationInfo,
    ConversationId,
    MessageProperties,
    PartInfo,
    PartProperties,
    PartyFrom,
    PartyId,
    PartyInfo,
    PartyTo,
    PayloadInfo,
    Property,
    Role,
    Service,
    UserMessage,
)
from as4.profiles.peppol.message import PeppolAS4Message
from as4.profiles.peppol.receipt import PeppolAS4Receipt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree
from pydantic import BaseModel, Field

from saldo.eessi.service.keys import NodeKeys

SERVICE = "BusinessMessaging"
ACTION = "Send"
ROLE = "urn:eu:europa:ec:dgempl:eessi:ir:institution"
PARTY_TYPE = "urn:eu:europa:ec:dgempl:eessi:ir:institution"
SED_TYPE = "sedType"
CASE_ID = "caseId"
SED_MIME_TYPE = "application/xml"
MAX_SED_BYTES = 4 * 1024**2  # a SED with its attachments, decompressed
# The MIME envelope is read with the plain policy: its headers are taken as they are, not parsed
# into objects (the library's default parse cost more than a millisecond a message, a tenth here).
_MIME = BytesParser(policy=compat32)


class EessiProfileError(BaseProfileLevelException):
    """EBMS:0010: the message breaks the P-Mode (service, action, role, party type)."""

    description = "The message does not follow the AS4 P-Mode"


class Attachment(BaseModel):
    """A payload beside the first: its MIME Content-ID (what the first payload refers to as
    ``cid:…``), its media type and its bytes."""

    content_id: str
    mime_type: str
    content: bytes


class ProfileMessageArgs(BaseModel):
    """What a node puts in the ebMS header besides the parties: the action, the message
    properties, the first payload's media type, and any further payloads."""

    namespace_map: dict[str, str] = NAMESPACES
    action: str
    properties: list[tuple[str, str]]
    mime_type: str = SED_MIME_TYPE
    content_id: str | None = None  # the first payload's Content-ID, when the caller names it
    attachments: list[Attachment] = []


class ProfiledMessage(PeppolAS4Message):
    """The library's signed and encrypted user message with the parties, service, actions and
    properties of one P-Mode (the class attributes) instead of Peppol's. Every payload is
    compressed and encrypted under one session key; the first is the business document."""

    SERVICE: ClassVar[str] = SERVICE
    SERVICE_TYPE: ClassVar[str | None] = None
    ACTIONS: ClassVar[frozenset[str]] = frozenset({ACTION})
    ROLE: ClassVar[str] = ROLE
    PARTY_TYPE: ClassVar[str] = PARTY_TYPE
    REQUIRED_PROPERTIES: ClassVar[tuple[str, ...]] = ()
    MAX_PAYLOADS: ClassVar[int] = 1
    NAME: ClassVar[str] = "AS4"

    action: str | None = None
    properties: dict[str, str] = Field(default_factory=dict)
    payload_ids: list[str] = Field(default_factory=list)  # the payloads' Content-IDs in the order the header lists them

    @classmethod
    def process(
        cls,
        fields: dict[str, Any],
        parse_context: AS4ParseContext,
        soap_envelope_element: etree._Element,
        mime_attachments: dict[str, bytes],
    ) -> dict[str, Any]:
        # Signature, decryption and decompression: the library's generic AS4 processing, not Peppol's SBDH.
        fields = AS4Message.process.__func__(cls, fields, parse_context, soap_envelope_element, mime_attachments)
        user_message = fields["soap_envelope"].header.messaging.user_message
        collaboration = user_message.collaboration_info
        if collaboration.service.value != cls.SERVICE or collaboration.action.value not in cls.ACTIONS:
            raise EessiProfileError(
                f"service {collaboration.service.value!r} and action {collaboration.action.value!r}: "
                f"{cls.NAME} sends with {cls.SERVICE!r} and {' or '.join(sorted(cls.ACTIONS))}"
            )
        for side, party in (("From", user_message.party_info.party_from), ("To", user_message.party_info.party_to)):
            if party.role.value != cls.ROLE or party.party_id.type_value != cls.PARTY_TYPE:
                raise EessiProfileError(f"PartyInfo/{side} must be a {cls.NAME} party ({cls.ROLE})")
        properties = {p.name: p.value for p in (user_message.message_properties or MessageProperties()).properties}
        missing = [name for name in cls.REQUIRED_PROPERTIES if not properties.get(name)]
        if missing:
            raise EessiProfileError(f"the message properties {', '.join(map(repr, missing))} are required")
        parts = user_message.payload_info.part_info
        if not 1 <= len(parts) <= cls.MAX_PAYLOADS:
            raise EessiProfileError(f"a {cls.NAME} message carries 1 to {cls.MAX_PAYLOADS} payloads, not {len(parts)}")
        fields["action"] = collaboration.action.value
        fields["properties"] = properties
        fields["payload_ids"] = [str(part.href or "").removeprefix("cid:") for part in parts]
        return fields

    @classmethod
    def get_user_message(
        cls,
        local_party: AS4InternalParty,
        remote_party: AS4ExternalParty,
        builder_args: ProfileMessageArgs,
        references: AS4References,
    ) -> UserMessage:
        def party(identity: AS4PartyIdentity) -> dict[str, Any]:
            return {
                "party_id": PartyId(value=identity.party_id, type_value=cls.PARTY_TYPE),
                "role": Role(value=cls.ROLE),
            }

        mime_types = [builder_args.mime_type, *(a.mime_type for a in builder_args.attachments)]
        return UserMessage(
            message_info=MessageInfo(
                timestamp=Timestamp(value=datetime.now(UTC)), message_id=MessageId(value=references.message_id)
            ),
            party_info=PartyInfo(
                party_from=PartyFrom(**party(local_party.identity)), party_to=PartyTo(**party(remote_party.identity))
            ),
            collaboration_info=CollaborationInfo(
                service=Service(value=cls.SERVICE, type_value=cls.SERVICE_TYPE)
                if cls.SERVICE_TYPE
                else Service(value=cls.SERVICE),
                action=Action(value=builder_args.action),
                conversation_id=ConversationId(value=references.conversation_id),
            ),
            message_properties=MessageProperties(
                properties=[Property(name=name, value=value) for name, value in builder_args.properties]
            ),
            payload_info=PayloadInfo(
                part_info=[
                    PartInfo(
                        part_properties=PartProperties(
                            properties=[
                                Property(name="MimeType", value=mime_type),
                                Property(name="CompressionType", value="application/gzip"),
                            ]
                        ),
                        href=f"cid:{attachment_id}",
                    )
                    for attachment_id, mime_type in zip(
                        references.attachment_id_encrypted_data_id_map, mime_types, strict=True
                    )
                ]
            ),
        )

    @classmethod
    def build_message(
        cls,
        payload: bytes,
        *,
        local_party: AS4InternalParty,
        remote_party: AS4ExternalParty,
        builder_args: ProfileMessageArgs,
        references: AS4References,
    ) -> Self:
        first = builder_args.content_id or f"as4-att-{uuid4()}@cid"
        contents = {first: payload, **{a.content_id: a.content for a in builder_args.attachments}}
        if len(contents) != 1 + len(builder_args.attachments):
            raise ValueError("two payloads of one message have the same Content-ID")
        references.attachment_id_encrypted_data_id_map = {content_id: f"ED-{uuid4()}" for content_id in contents}
        compressed = {content_id: gzip.compress(content) for content_id, content in contents.items()}
        # one session key for every payload, each with its own nonce (AES-128-GCM), as WS-Security
        # has one EncryptedKey referencing every EncryptedData
        session_key = AESGCM.generate_key(bit_length=128)
        cipher = AESGCM(session_key)
        encrypted = {}
        for content_id, data in compressed.items():
            nonce = os.urandom(12)
            encrypted[content_id] = nonce + cipher.encrypt(nonce, data, None)
        encrypted_session_key = remote_party.credentials.rsa_public_key.encrypt(
            session_key,
            padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=b""),
        )
        envelope = cls.get_soap_envelope(
            local_party,
            remote_party,
            builder_args,
            references,
            encrypted_session_key,
            compressed_payloads=compressed,
        )
        return cls(
            soap_envelope=envelope,
            message_id=references.message_id,
            messaging_id=references.messaging_id,
            mime_attachments=encrypted,
            decrypted_data=contents,
            action=builder_args.action,
            properties=dict(builder_args.properties),
            payload_ids=list(contents),
        )

    @property
    def payload(self) -> bytes:
        """The first payload: the business document."""
        return (
            self.decrypted_data[self.payload_ids[0]] if self.payload_ids else next(iter(self.decrypted_data.values()))
        )

    def attachment(self, content_id: str) -> bytes | None:
        """A further payload by its Content-ID."""
        return self.decrypted_data.get(content_id) if content_id in self.payload_ids[1:] else None


class EessiMessage(ProfiledMessage):
    """The EESSI P-Mode: one SED, its case and type as message properties."""

    REQUIRED_PROPERTIES = (SED_TYPE, CASE_ID)
    NAME = "EESSI"

    @property
    def case_id(self) -> str | None:
        return self.properties.get(CASE_ID)

    @property
    def sed_type(self) -> str | None:
        return self.properties.get(SED_TYPE)

    @property
    def sed(self) -> bytes:
        return self.payload


class EessiReceipt(PeppolAS4Receipt):
    """The library's signed receipt or error signal, unchanged."""


class EessiProfile(AS4Profile[ProfiledMessage, EessiReceipt, ProfileMessageArgs]):
    @classmethod
    def get_profile_name(cls) -> str:
        return "eessi"

    @classmethod
    def message_class(cls) -> type[ProfiledMessage]:
        return EessiMessage

    @classmethod
    def receipt_class(cls) -> type[EessiReceipt]:
        return EessiReceipt

    @classmethod
    def unpack_message(cls, payload: bytes) -> tuple[bytes, dict[str, bytes]]:
        """The SOAP envelope and the encrypted payloads by their Content-IDs, as the library's own
        reader gives them (tests/eessi/test_exchange.py compares the two)."""
        soap = None
        encrypted: list[Message] = []
        for part in _MIME.parsebytes(payload).walk():
            content_type = part.get_content_type()
            if content_type == "application/soap+xml" and soap is None:
                soap = part
            elif content_type == "application/octet-stream":
                encrypted.append(part)
        soap_data = _decoded(soap, SoapPartNotFoundException)
        if not encrypted:
            raise PayloadPartNotFoundException()
        payloads = {}
        for part in encrypted:
            content_id = str(part.get("content-id") or "").strip().strip("<>")
            if not content_id:
                raise PayloadPartNotFoundException(detail="Payload part carries no Content-ID header")
            payloads[content_id] = _decoded(part, PayloadPartNotFoundException)
        return soap_data, payloads

    @classmethod
    def parse_receipt(cls, payload: bytes, expected_signer: x509.Certificate) -> EessiReceipt:
        return EessiReceipt.parse(payload, expected_signer)

    @classmethod
    def build_message(
        cls,
        payload: bytes,
        *,
        local_party: AS4InternalParty,
        remote_party: AS4ExternalParty,
        builder_args: ProfileMessageArgs,
        references: AS4References | None = None,
    ) -> ProfiledMessage:
        return cls.message_class().build_message(
            payload,
            local_party=local_party,
            remote_party=remote_party,
            builder_args=builder_args,
            references=references or AS4References(),
        )


def _decoded(part: Message | None, missing: type[SoapPartNotFoundException | PayloadPartNotFoundException]) -> bytes:
    if part is None:
        raise missing()
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        raise missing(detail="the part carries no decodable content")
    return data


class SendingExchange(AS4SendingExchange[ProfiledMessage, EessiReceipt, ProfileMessageArgs]):
    """One message on its way: what it signed, and so what its receipt must acknowledge."""


class ReceivingExchange(AS4ReceivingExchange[ProfiledMessage, EessiReceipt, ProfileMessageArgs]):
    """One message received: the SED (or why it was refused) and the signal answering it."""


def local_party(institution_id: str, keys: NodeKeys, *, party_type: str = PARTY_TYPE) -> AS4InternalParty:
    return AS4InternalParty(
        identity=AS4PartyIdentity(party_id=institution_id, party_type=party_type),
        credentials=AS4InternalCredentials(
            certificate=keys.certificate, private_key=AS4LocalPrivateKey(keys.private_key)
        ),
    )


def remote_party(
    institution_id: str, certificate: x509.Certificate, *, party_type: str = PARTY_TYPE
) -> AS4ExternalParty:
    return AS4ExternalParty(
        identity=AS4PartyIdentity(party_id=institution_id, party_type=party_type),
        credentials=AS4BaseCredentials(certificate=certificate),
    )


def build(
    sender: AS4InternalParty, receiver: AS4ExternalParty, sed: bytes, *, case_id: str, sed_type: str, message_id: str
) -> tuple[SendingExchange, dict[str, str], bytes]:
    """A signed, encrypted AS4 message carrying ``sed``, ready to POST; the exchange keeps what
    its receipt must prove (serialisable without the private key, so a restart can check it)."""
    args = ProfileMessageArgs(action=ACTION, properties=[(CASE_ID, case_id), (SED_TYPE, sed_type)])
    return build_message(EessiProfile, sender, receiver, sed, args=args, message_id=message_id, conversation_id=case_id)


def build_message(
    profile: type[EessiProfile],
    sender: AS4InternalParty,
    receiver: AS4ExternalParty,
    payload: bytes,
    *,
    args: ProfileMessageArgs,
    message_id: str,
    conversation_id: str,
) -> tuple[SendingExchange, dict[str, str], bytes]:
    """A signed, encrypted AS4 message of ``profile``'s P-Mode carrying ``payload`` (and the
    attachments ``args`` names), ready to POST, with the exchange its receipt is checked against."""
    exchange = SendingExchange(
        profile=profile,
        local_party=sender,
        remote_party=receiver,
        identifiers=AS4References(message_id=message_id, conversation_id=conversation_id),
    )
    headers, body = exchange.build(payload, args)
    return exchange, headers, body


CertificateOf = Callable[[str], Sequence[x509.Certificate]]


def security_policy(certificate_of: CertificateOf) -> SecurityPolicy:
    """Sign and encrypt required, everything covered, and the signer must be a certificate the
    directory lists for the institution named in PartyInfo/From, exactly (pinned, not chained)."""

    def resolve(party_from: PartyFrom, embedded: x509.Certificate | None) -> x509.Certificate:
        claimed = party_from.party_id.value
        try:
            listed = certificate_of(claimed)
        except LookupError as exception:
            raise UntrustedSignerError(f"{claimed} is not in the institution directory") from exception
        if embedded is not None:
            for pinned in listed:
                if embedded.fingerprint(hashes.SHA256()) == pinned.fingerprint(hashes.SHA256()):
                    return pinned
        raise UntrustedSignerError(f"the signing certificate is not one the directory lists for {claimed}")

    return SecurityPolicy(signer_resolver=resolve, maximum_decompressed_size=MAX_SED_BYTES)


def receive(
    receiver: AS4InternalParty,
    headers: dict[str, str],
    body: bytes,
    certificate_of: CertificateOf,
    *,
    profile: type[EessiProfile] = EessiProfile,
) -> ReceivingExchange:
    """Parse, verify, decrypt; the exchange holds the payloads (or the reason the message was
    refused) and the signal to answer with."""
    exchange = ReceivingExchange(profile=profile, local_party=receiver)
    return exchange.receive(request_headers=headers, request_body=body, security_policy=security_policy(certificate_of))


def sent_at(message: ProfiledMessage) -> datetime | None:
    """When the sender says it built the message (eb:MessageInfo/eb:Timestamp)."""
    user_message = message.soap_envelope.header.messaging.user_message if message.soap_envelope else None
    if user_message is None:
        return None
    stamp = user_message.message_info.timestamp.value
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def undecryptable(message: ProfiledMessage) -> bool:
    """Whether the message could not be decrypted with the key it was parsed with."""
    return isinstance(message.parse_error, DecryptionFailedException)


def refusal(exchange: ReceivingExchange, reason: str) -> bytes:
    """A signed ebMS error signal (EBMS:0010) answering the message in ``exchange`` with ``reason``,
    for a message that passed AS4 but that this node refuses (addressed to another institution, a
    SED that cannot be read or is not signed by its sender)."""
    message = exchange.message
    receipt = EessiReceipt.create_error_signal_from_exception(
        exception=EessiProfileError(reason),
        local_party=exchange.local_party,
        references=None,
        referenced_message_id=message.message_id if message else "",
        referenced_messaging_id=message.messaging_id if message else "",
    )
    return receipt.get_request_data()[1]


def signal_error(signal: bytes) -> str | None:
    """What an ebMS error signal says (its code and detail), or None for a receipt."""
    try:
        root = etree.fromstring(signal, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return "the answer is not XML"
    error = root.find(".//{http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/}Error")
    if error is None:
        return None
    detail = error.findtext("{http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/}ErrorDetail") or ""
    return f"{error.get('errorCode', 'EBMS')}: {detail or error.get('shortDescription', '')}".strip()
