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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any, Self

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
from as4.utils.cipher_handler import CipherHandler
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from pydantic import BaseModel

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
    """EBMS:0010: the message breaks the EESSI P-Mode (service, action, role, party type)."""

    description = "The message does not follow the EESSI AS4 P-Mode"


class EessiMessageArgs(BaseModel):
    """What a Saldo node puts in the ebMS header besides the parties: the case and the SED type."""

    namespace_map: dict[str, str] = NAMESPACES
    case_id: str
    sed_type: str


class EessiMessage(PeppolAS4Message):
    """The library's signed and encrypted user message, with EESSI headers instead of Peppol's."""

    case_id: str | None = None
    sed_type: str | None = None

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
        if collaboration.service.value != SERVICE or collaboration.action.value != ACTION:
            raise EessiProfileError(
                f"service {collaboration.service.value!r} and action {collaboration.action.value!r}: "
                f"EESSI sends with {SERVICE!r} and {ACTION!r}"
            )
        for side, party in (("From", user_message.party_info.party_from), ("To", user_message.party_info.party_to)):
            if party.role.value != ROLE or party.party_id.type_value != PARTY_TYPE:
                raise EessiProfileError(f"PartyInfo/{side} must be an EESSI institution ({ROLE})")
        properties = {p.name: p.value for p in (user_message.message_properties or MessageProperties()).properties}
        if not properties.get(SED_TYPE) or not properties.get(CASE_ID):
            raise EessiProfileError(f"the message properties {SED_TYPE!r} and {CASE_ID!r} are required")
        fields["sed_type"], fields["case_id"] = properties[SED_TYPE], properties[CASE_ID]
        if len(user_message.payload_info.part_info) != 1:
            raise EessiProfileError("an EESSI message carries exactly one payload, the SED")
        return fields

    @classmethod
    def get_user_message(
        cls,
        local_party: AS4InternalParty,
        remote_party: AS4ExternalParty,
        builder_args: EessiMessageArgs,
        references: AS4References,
    ) -> UserMessage:
        def party(identity: AS4PartyIdentity) -> dict[str, Any]:
            return {"party_id": PartyId(value=identity.party_id, type_value=PARTY_TYPE), "role": Role(value=ROLE)}

        return UserMessage(
            message_info=MessageInfo(
                timestamp=Timestamp(value=datetime.now(UTC)), message_id=MessageId(value=references.message_id)
            ),
            party_info=PartyInfo(
                party_from=PartyFrom(**party(local_party.identity)), party_to=PartyTo(**party(remote_party.identity))
            ),
            collaboration_info=CollaborationInfo(
                service=Service(value=SERVICE),
                action=Action(value=ACTION),
                conversation_id=ConversationId(value=references.conversation_id),
            ),
            message_properties=MessageProperties(
                properties=[
                    Property(name=CASE_ID, value=builder_args.case_id),
                    Property(name=SED_TYPE, value=builder_args.sed_type),
                ]
            ),
            payload_info=PayloadInfo(
                part_info=[
                    PartInfo(
                        part_properties=PartProperties(
                            properties=[
                                Property(name="MimeType", value=SED_MIME_TYPE),
                                Property(name="CompressionType", value="application/gzip"),
                            ]
                        ),
                        href=f"cid:{attachment_id}",
                    )
                    for attachment_id in references.attachment_id_encrypted_data_id_map
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
        builder_args: EessiMessageArgs,
        references: AS4References,
    ) -> Self:
        compressed = gzip.compress(payload)
        session_key, encrypted = CipherHandler.encrypt_payload(compressed)
        encrypted_session_key = remote_party.credentials.rsa_public_key.encrypt(
            session_key,
            padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=b""),
        )
        attachment_id, _ = references.encrypted_data_attachment_mapping()
        envelope = cls.get_soap_envelope(
            local_party,
            remote_party,
            builder_args,
            references,
            encrypted_session_key,
            compressed_payloads={attachment_id: compressed},
        )
        return cls(
            soap_envelope=envelope,
            message_id=references.message_id,
            messaging_id=references.messaging_id,
            mime_attachments={attachment_id: encrypted},
            decrypted_data={attachment_id: payload},
            case_id=builder_args.case_id,
            sed_type=builder_args.sed_type,
        )

    @property
    def sed(self) -> bytes:
        return next(iter(self.decrypted_data.values()))


class EessiReceipt(PeppolAS4Receipt):
    """The library's signed receipt or error signal, unchanged."""


class EessiProfile(AS4Profile[EessiMessage, EessiReceipt, EessiMessageArgs]):
    @classmethod
    def get_profile_name(cls) -> str:
        return "eessi"

    @classmethod
    def message_class(cls) -> type[EessiMessage]:
        return EessiMessage

    @classmethod
    def receipt_class(cls) -> type[EessiReceipt]:
        return EessiReceipt

    @classmethod
    def unpack_message(cls, payload: bytes) -> tuple[bytes, dict[str, bytes]]:
        """The SOAP envelope and the encrypted payload by its Content-ID, as the library's own
        reader gives them (tests/eessi/test_exchange.py compares the two)."""
        soap = encrypted = None
        for part in _MIME.parsebytes(payload).walk():
            content_type = part.get_content_type()
            if content_type == "application/soap+xml" and soap is None:
                soap = part
            elif content_type == "application/octet-stream" and encrypted is None:
                encrypted = part
        soap_data = _decoded(soap, SoapPartNotFoundException)
        encrypted_data = _decoded(encrypted, PayloadPartNotFoundException)
        content_id = str(encrypted.get("content-id") or "").strip().strip("<>") if encrypted is not None else ""
        if not content_id:
            raise PayloadPartNotFoundException(detail="Payload part carries no Content-ID header")
        return soap_data, {content_id: encrypted_data}

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
        builder_args: EessiMessageArgs,
        references: AS4References | None = None,
    ) -> EessiMessage:
        return EessiMessage.build_message(
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


class SendingExchange(AS4SendingExchange[EessiMessage, EessiReceipt, EessiMessageArgs]):
    """One message on its way: what it signed, and so what its receipt must acknowledge."""


class ReceivingExchange(AS4ReceivingExchange[EessiMessage, EessiReceipt, EessiMessageArgs]):
    """One message received: the SED (or why it was refused) and the signal answering it."""


def local_party(institution_id: str, keys: NodeKeys) -> AS4InternalParty:
    return AS4InternalParty(
        identity=AS4PartyIdentity(party_id=institution_id, party_type=PARTY_TYPE),
        credentials=AS4InternalCredentials(
            certificate=keys.certificate, private_key=AS4LocalPrivateKey(keys.private_key)
        ),
    )


def remote_party(institution_id: str, certificate: x509.Certificate) -> AS4ExternalParty:
    return AS4ExternalParty(
        identity=AS4PartyIdentity(party_id=institution_id, party_type=PARTY_TYPE),
        credentials=AS4BaseCredentials(certificate=certificate),
    )


def build(
    sender: AS4InternalParty, receiver: AS4ExternalParty, sed: bytes, *, case_id: str, sed_type: str, message_id: str
) -> tuple[SendingExchange, dict[str, str], bytes]:
    """A signed, encrypted AS4 message carrying ``sed``, ready to POST; the exchange keeps what
    its receipt must prove (serialisable without the private key, so a restart can check it)."""
    exchange = SendingExchange(
        profile=EessiProfile,
        local_party=sender,
        remote_party=receiver,
        identifiers=AS4References(message_id=message_id, conversation_id=case_id),
    )
    headers, body = exchange.build(sed, EessiMessageArgs(case_id=case_id, sed_type=sed_type))
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
    receiver: AS4InternalParty, headers: dict[str, str], body: bytes, certificate_of: CertificateOf
) -> ReceivingExchange:
    """Parse, verify, decrypt; the exchange holds the SED (or the reason it was refused) and the
    signal to answer with."""
    exchange = ReceivingExchange(profile=EessiProfile, local_party=receiver)
    return exchange.receive(request_headers=headers, request_body=body, security_policy=security_policy(certificate_of))


def sent_at(message: EessiMessage) -> datetime | None:
    """When the sender says it built the message (eb:MessageInfo/eb:Timestamp)."""
    user_message = message.soap_envelope.header.messaging.user_message if message.soap_envelope else None
    if user_message is None:
        return None
    stamp = user_message.message_info.timestamp.value
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def undecryptable(message: EessiMessage) -> bool:
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
