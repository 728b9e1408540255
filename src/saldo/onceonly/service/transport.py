"""Once-only messages on the wire: eDelivery AS4 user messages with the OOTS P-Mode, built on the
exchange's AS4 layer (saldo.eessi.service.transport, the ``as4`` library; docs/decisions/0029).

Service ``QueryManager`` (type ``urn:oasis:names:tc:ebcore:ebrs:ebms:binding:1.0``), actions
``ExecuteQueryRequest``, ``ExecuteQueryResponse`` and ``ExceptionResponse``, both parties in role
``http://sdg.europa.eu/edelivery/gateway`` with party ids of type
``urn:oasis:names:tc:ebcore:partyid-type:unregistered:oots``, and the four-corner properties
``originalSender`` and ``finalRecipient``. The RegRep document is the first payload
(``application/x-ebrs+xml``); a response's evidence is the second, at the Content-ID its
``RepositoryItemRef`` names. Signed, encrypted and answered with signed receipts as EESSI's are."""

from __future__ import annotations

from saldo.eessi.service.transport import EessiProfile, ProfiledMessage

SERVICE = "QueryManager"
SERVICE_TYPE = "urn:oasis:names:tc:ebcore:ebrs:ebms:binding:1.0"
REQUEST = "ExecuteQueryRequest"
RESPONSE = "ExecuteQueryResponse"
EXCEPTION = "ExceptionResponse"
ROLE = "http://sdg.europa.eu/edelivery/gateway"
PARTY_TYPE = "urn:oasis:names:tc:ebcore:partyid-type:unregistered:oots"
ORIGINAL_SENDER = "originalSender"
FINAL_RECIPIENT = "finalRecipient"
REGREP_MIME_TYPE = "application/x-ebrs+xml"


class OotsMessage(ProfiledMessage):
    SERVICE = SERVICE
    SERVICE_TYPE = SERVICE_TYPE
    ACTIONS = frozenset({REQUEST, RESPONSE, EXCEPTION})
    ROLE = ROLE
    PARTY_TYPE = PARTY_TYPE
    REQUIRED_PROPERTIES = (ORIGINAL_SENDER, FINAL_RECIPIENT)
    MAX_PAYLOADS = 2  # the RegRep document, and with a response the evidence
    NAME = "OOTS"


class OotsProfile(EessiProfile):
    @classmethod
    def get_profile_name(cls) -> str:
        return "oots"

    @classmethod
    def message_class(cls) -> type[ProfiledMessage]:
        return OotsMessage


def properties(sender: str, recipient: str) -> list[tuple[str, str]]:
    """The four-corner properties: the authorities behind the gateways (here, the same parties)."""
    return [(ORIGINAL_SENDER, sender), (FINAL_RECIPIENT, recipient)]
