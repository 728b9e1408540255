"""The once-only technical system's messages: ebXML RegRep 4 ``QueryRequest`` and ``QueryResponse``
in the OOTS Evidence Data Model (EDM) v1.0, the SDG Generic Metadata Profile v1.0.0
(docs/decisions/0029, docs/once-only.md).

A request names the procedure, the requester and provider (``sdg:Agent``), the person (their eIDAS
identifier, names and birth date, at a level of assurance) and the evidence type asked for. The
provider answers with the evidence's metadata and a ``cid:`` reference to the evidence itself, or
with an exception: ``EDM:ERR:0002`` at severity *PreviewRequired* sends the person to preview the
evidence at the ``PreviewLocation``; the other codes say why nothing comes.

Every message read is first checked against the official schemas (``data/xsd``, kept as published);
what the schemas allow but the profile does not (a missing slot, a value of the wrong type) is
refused here with what and where. The tests check every message written here against the official
Schematron rules with Saxon, an implementation Saldo did not write."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, cast

import xmlschema
from lxml import etree

SPECIFICATION = "oots-edm:v1.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:4.0"
SDG = "http://data.europa.eu/p4s"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
NSMAP = {"query": QUERY, "rim": RIM, "rs": RS, "sdg": SDG, "xsi": XSI, "xlink": XLINK}

SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
PREVIEW_REQUIRED = "urn:sr.oots.tech.europa.eu:codes:ErrorSeverity:EDMErrorResponse:PreviewRequired"
EAS = "urn:cef.eu:names:identifier:EAS:"
MAX_MESSAGE_BYTES = 1024**2  # a request, or a response's metadata (the evidence travels beside it)
_XSD = Path(__file__).resolve().parent.parent / "data" / "xsd"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EIDAS = re.compile(r"^([A-Z]{2})/([A-Z]{2})/([^\s/][^\s]{0,255})$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


class ErrorCode(StrEnum):
    """The EDM error codes, each with the RegRep exception type it travels as."""

    AUTHENTICATION = "EDM:ERR:0001"  # the person could not be authenticated
    AUTHORIZATION = "EDM:ERR:0002"  # not without the person's preview and approval
    INVALID_REQUEST = "EDM:ERR:0003"  # the request does not follow the EDM
    NOT_FOUND = "EDM:ERR:0004"  # no such evidence, or no such person, here
    TIMEOUT = "EDM:ERR:0005"  # the preview was not done in time
    UNRESOLVED_REFERENCE = "EDM:ERR:0006"
    UNSUPPORTED = "EDM:ERR:0007"  # an evidence type, format or procedure this provider does not serve
    QUERY = "EDM:ERR:0008"

    @property
    def exception_type(self) -> str:
        return _EXCEPTION_TYPES[self]


_EXCEPTION_TYPES = {
    ErrorCode.AUTHENTICATION: "rs:AuthenticationExceptionType",
    ErrorCode.AUTHORIZATION: "rs:AuthorizationExceptionType",
    ErrorCode.INVALID_REQUEST: "rs:InvalidRequestExceptionType",
    ErrorCode.NOT_FOUND: "rs:ObjectNotFoundExceptionType",
    ErrorCode.TIMEOUT: "rs:TimeoutExceptionType",
    ErrorCode.UNRESOLVED_REFERENCE: "rs:UnresolvedReferenceExceptionType",
    ErrorCode.UNSUPPORTED: "rs:UnsupportedCapabilityExceptionType",
    ErrorCode.QUERY: "query:QueryExceptionType",
}


class EdmError(ValueError):
    """A message that is not one the EDM allows: what is wrong, and where (an XPath-like place)."""

    def __init__(self, detail: str, *, code: ErrorCode = ErrorCode.INVALID_REQUEST) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class Agent:
    """An authority: its identifier in an Electronic Address Scheme (``0007`` a Swedish
    organisation number, ``0037`` a Finnish business id, …), its name and its country."""

    identifier: str
    scheme: str  # the EAS code
    name: str
    country: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Person:
    """The person the evidence is about, as the eIDAS network identified them."""

    identifier: str  # "SE/FI/…": the eID's country, the requester's, the eID's own number
    family_name: str
    given_name: str
    birth_date: dt.date
    level_of_assurance: str  # "Substantial" or "High"

    @property
    def origin(self) -> str:
        return self.identifier[:2]

    @property
    def national_part(self) -> str:
        return self.identifier.split("/", 2)[2]


@dataclass(frozen=True)
class EvidenceType:
    """One evidence type a provider serves (the directory lists them, docs/once-only.md)."""

    identifier: str  # the data service evidence type's UUID
    classification: str  # https://sr.oots.tech.europa.eu/evidencetypeclassifications/<cc>/<uuid>
    title: str
    description: str
    format: str  # the distribution's media type: application/pdf
    conforms_to: str | None = None  # the data model, for XML or JSON distributions


@dataclass(frozen=True)
class Requirement:
    identifier: str  # https://sr.oots.tech.europa.eu/requirements/<uuid>
    name: str


@dataclass(frozen=True)
class EvidenceRequest:
    request_id: str  # urn:uuid:…
    issued_at: dt.datetime
    procedure: str  # the SDG Annex II code: U1 (PDA1), U3 (EHIC), …
    requirement: Requirement
    requester: Agent
    provider: Agent
    person: Person
    evidence_type: EvidenceType
    preview_possible: bool
    explicit_request: bool
    preview_location: str | None = None  # the second request, after the preview, names it
    language: str = "EN"  # the language the evidence is wished in (ISO 639-1, upper case)


@dataclass(frozen=True)
class Evidence:
    """The evidence's metadata; the evidence travels beside the response, at ``content_id``."""

    identifier: str  # UUID
    issued_on: dt.date
    language: str
    content_id: str  # "<uuid>@<provider's host>", the response refers to it as cid:…
    title: str  # the file's title (xlink:title)


@dataclass(frozen=True)
class EvidenceResponse:
    response_id: str  # UUID
    request_id: str
    issued_at: dt.datetime
    provider: Agent
    requester: Agent
    person: Person
    evidence_type: EvidenceType
    evidence: Evidence


@dataclass(frozen=True)
class ExceptionResponse:
    response_id: str
    request_id: str
    issued_at: dt.datetime
    provider: Agent  # the error provider
    requester: Agent
    code: ErrorCode
    message: str
    preview_location: str | None = None
    preview_description: str | None = None

    @property
    def preview_required(self) -> bool:
        return self.code is ErrorCode.AUTHORIZATION and self.preview_location is not None


def new_request_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# ---------------------------------------------------------------------------------- writing


def _q(prefix: str, name: str) -> str:
    return f"{{{NSMAP[prefix]}}}{name}"


def _el(parent: Any, prefix: str, tag: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, _q(prefix, tag))
    for key, value in attributes.items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def _slot(parent: Any, name: str, value_type: str) -> Any:
    slot = _el(parent, "rim", "Slot", name=name)
    return _el(slot, "rim", "SlotValue", **{_q("xsi", "type"): f"rim:{value_type}"})


def _value_slot(parent: Any, name: str, value_type: str, value: str) -> None:
    _el(_slot(parent, name, value_type), "rim", "Value", value)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _agent(parent: Any, agent: Agent, *, classification: str | None, address: bool = False) -> None:
    element = _el(parent, "sdg", "Agent")
    _el(element, "sdg", "Identifier", agent.identifier, schemeID=f"{EAS}{agent.scheme}")
    _el(element, "sdg", "Name", agent.name, lang="EN")
    if address:
        place = _el(element, "sdg", "Address")
        _el(place, "sdg", "AdminUnitLevel1", agent.country)
    if classification is not None:
        _el(element, "sdg", "Classification", classification)


def _person(parent: Any, person: Person, *, element: str, with_loa: bool) -> None:
    node = _el(parent, "sdg", element)
    if with_loa:
        _el(node, "sdg", "LevelOfAssurance", person.level_of_assurance)
    _el(node, "sdg", "Identifier", person.identifier, schemeID="eidas")
    _el(node, "sdg", "FamilyName", person.family_name)
    _el(node, "sdg", "GivenName", person.given_name)
    _el(node, "sdg", "DateOfBirth", person.birth_date.isoformat())


def _root(tag: str, **attributes: str) -> Any:
    root = etree.Element(_q("query", tag), nsmap=NSMAP)
    for key, value in attributes.items():
        root.set(key, value)
    return root


def _bytes(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def request_xml(request: EvidenceRequest) -> bytes:
    """The request as the EDM writes it."""
    root = _root("QueryRequest", id=request.request_id)
    root.set(f"{{{XML}}}lang", request.language)
    _value_slot(root, "SpecificationIdentifier", "StringValueType", SPECIFICATION)
    _value_slot(root, "IssueDateTime", "DateTimeValueType", _stamp(request.issued_at))
    procedure = _el(_slot(root, "Procedure", "InternationalStringValueType"), "rim", "Value")
    _el(procedure, "rim", "LocalizedString", **{f"{{{XML}}}lang": "EN", "value": request.procedure})
    if request.preview_location is not None:
        _value_slot(root, "PreviewLocation", "StringValueType", request.preview_location)
    _value_slot(root, "PossibilityForPreview", "BooleanValueType", str(request.preview_possible).lower())
    _value_slot(root, "ExplicitRequestGiven", "BooleanValueType", str(request.explicit_request).lower())
    requirements = _slot(root, "Requirements", "CollectionValueType")
    requirements.set("collectionType", "urn:oasis:names:tc:ebxml-regrep:CollectionType:Set")
    requirement = _el(
        _el(requirements, "rim", "Element", **{_q("xsi", "type"): "rim:AnyValueType"}), "sdg", "Requirement"
    )
    _el(requirement, "sdg", "Identifier", request.requirement.identifier)
    _el(requirement, "sdg", "Name", request.requirement.name, lang="EN")
    requesters = _slot(root, "EvidenceRequester", "CollectionValueType")
    _agent(
        _el(requesters, "rim", "Element", **{_q("xsi", "type"): "rim:AnyValueType"}),
        request.requester,
        classification="ER",
        address=True,
    )
    _agent(_slot(root, "EvidenceProvider", "AnyValueType"), request.provider, classification=None)
    _el(root, "query", "ResponseOption", returnType="LeafClassWithRepositoryItem")
    query = _el(root, "query", "Query", queryDefinition="DocumentQuery")
    _person(_slot(query, "NaturalPerson", "AnyValueType"), request.person, element="Person", with_loa=True)
    kind = _el(_slot(query, "EvidenceRequest", "AnyValueType"), "sdg", "DataServiceEvidenceType")
    evidence = request.evidence_type
    _el(kind, "sdg", "Identifier", evidence.identifier)
    _el(kind, "sdg", "EvidenceTypeClassification", evidence.classification)
    _el(kind, "sdg", "Title", evidence.title, lang="EN")
    _el(kind, "sdg", "Description", evidence.description, lang="EN")
    distributed = _el(kind, "sdg", "DistributedAs")
    _el(distributed, "sdg", "Format", evidence.format)
    if evidence.conforms_to:
        _el(distributed, "sdg", "ConformsTo", evidence.conforms_to)
    return _bytes(root)


def _response_head(root: Any, response_id: str, issued_at: dt.datetime) -> None:
    _value_slot(root, "SpecificationIdentifier", "StringValueType", SPECIFICATION)
    _value_slot(root, "EvidenceResponseIdentifier", "StringValueType", response_id)
    _value_slot(root, "IssueDateTime", "DateTimeValueType", _stamp(issued_at))


def response_xml(response: EvidenceResponse) -> bytes:
    """A successful response: the evidence's metadata, and the reference to the evidence."""
    root = _root("QueryResponse", status=SUCCESS, requestId=response.request_id)
    _response_head(root, response.response_id, response.issued_at)
    providers = _slot(root, "EvidenceProvider", "CollectionValueType")
    _agent(
        _el(providers, "rim", "Element", **{_q("xsi", "type"): "rim:AnyValueType"}),
        response.provider,
        classification="EP",
        address=True,
    )
    _agent(_slot(root, "EvidenceRequester", "AnyValueType"), response.requester, classification=None)
    listed = _el(root, "rim", "RegistryObjectList")
    evidence = response.evidence
    registry_object = _el(
        listed, "rim", "RegistryObject", id=f"urn:uuid:{uuid.uuid4()}", **{_q("xsi", "type"): "rim:ExtrinsicObjectType"}
    )
    metadata = _el(_slot(registry_object, "EvidenceMetadata", "AnyValueType"), "sdg", "Evidence")
    _el(metadata, "sdg", "Identifier", evidence.identifier)
    about = _el(metadata, "sdg", "IsAbout")
    _person(about, response.person, element="NaturalPerson", with_loa=False)
    authority = _el(metadata, "sdg", "IssuingAuthority")
    _el(authority, "sdg", "Identifier", response.provider.identifier, schemeID=f"{EAS}{response.provider.scheme}")
    _el(authority, "sdg", "Name", response.provider.name, lang="EN")
    conformant = _el(metadata, "sdg", "IsConformantTo")
    kind = response.evidence_type
    _el(conformant, "sdg", "EvidenceTypeClassification", kind.classification)
    _el(conformant, "sdg", "Title", kind.title, lang="EN")
    _el(conformant, "sdg", "Description", kind.description, lang="EN")
    _el(metadata, "sdg", "IssuingDate", evidence.issued_on.isoformat())
    distribution = _el(metadata, "sdg", "Distribution")
    _el(distribution, "sdg", "Format", kind.format)
    _el(distribution, "sdg", "Language", evidence.language)
    if kind.conforms_to:
        _el(distribution, "sdg", "ConformsTo", kind.conforms_to)
    _el(
        registry_object,
        "rim",
        "RepositoryItemRef",
        **{_q("xlink", "href"): f"cid:{evidence.content_id}", _q("xlink", "title"): evidence.title},
    )
    return _bytes(root)


def exception_xml(response: ExceptionResponse) -> bytes:
    """A response with no evidence: why, and for a preview, where the person goes to see it."""
    root = _root("QueryResponse", status=FAILURE, requestId=response.request_id)
    _response_head(root, response.response_id, response.issued_at)
    _agent(_slot(root, "ErrorProvider", "AnyValueType"), response.provider, classification="ERRP")
    _agent(_slot(root, "EvidenceRequester", "AnyValueType"), response.requester, classification=None)
    preview = response.preview_location is not None
    exception = _el(
        root,
        "rs",
        "Exception",
        severity=PREVIEW_REQUIRED if preview else ERROR,
        message=response.message,
        code=response.code.value,
        **{_q("xsi", "type"): response.code.exception_type},
    )
    _value_slot(exception, "Timestamp", "DateTimeValueType", _stamp(response.issued_at))
    if response.preview_location is not None:
        _value_slot(exception, "PreviewLocation", "StringValueType", response.preview_location)
        _value_slot(exception, "PreviewMethod", "StringValueType", "GET")
    if response.preview_description is not None:
        described = _el(_slot(exception, "PreviewDescription", "InternationalStringValueType"), "rim", "Value")
        _el(described, "rim", "LocalizedString", **{f"{{{XML}}}lang": "EN", "value": response.preview_description})
    return _bytes(root)


# ---------------------------------------------------------------------------------- reading


@cache
def schema() -> xmlschema.XMLSchema11:
    """The official RegRep 4 query schema with the SDG profile, from ``data/xsd`` (never the network)."""
    locations = {
        RIM: str(_XSD / "regrep4" / "rim.xsd"),
        QUERY: str(_XSD / "regrep4" / "query.xsd"),
        RS: str(_XSD / "regrep4" / "rs.xsd"),
        XLINK: str(_XSD / "xml" / "xlink.xsd"),
        "http://www.w3.org/2005/08/addressing": str(_XSD / "xml" / "ws-addr.xsd"),
        XML: str(_XSD / "xml" / "xml.xsd"),
    }
    sources: list[Any] = [
        str(_XSD / "regrep4" / "query.xsd"),
        str(_XSD / "sdg" / "SDG-GenericMetadataProfile-v1.0.0.xsd"),
    ]
    return xmlschema.XMLSchema11(sources, locations=locations, allow="local", base_url=str(_XSD))


def _parsed(xml: bytes, root_tag: str) -> Any:
    if len(xml) > MAX_MESSAGE_BYTES:
        raise EdmError(f"the message is {len(xml)} bytes, more than the {MAX_MESSAGE_BYTES} allowed")
    try:
        document = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as error:
        raise EdmError(f"not well-formed XML: {error}") from error
    if document.tag != _q("query", root_tag):
        raise EdmError(f"/: the root element is {document.tag}, not query:{root_tag}")
    invalid = next(iter(schema().iter_errors(cast(Any, document))), None)
    if invalid is not None:
        where = invalid.path or "/"
        raise EdmError(f"{where}: {invalid.reason or invalid.message}")
    return document


def _one(node: Any, path: str, where: str) -> Any:
    found = node.findall(path, NSMAP)
    if len(found) != 1:
        raise EdmError(f"{where}: expected exactly one, found {len(found)}")
    return found[0]


def _text(node: Any, path: str, where: str) -> str:
    value = (_one(node, path, where).text or "").strip()
    if not value:
        raise EdmError(f"{where}: empty")
    return value


def _slot_value(root: Any, name: str, value_type: str, *, required: bool = True) -> Any:
    slots = root.findall(f"rim:Slot[@name='{name}']", NSMAP)
    if not slots:
        if required:
            raise EdmError(f"rim:Slot[@name='{name}']: missing")
        return None
    if len(slots) > 1:
        raise EdmError(f"rim:Slot[@name='{name}']: given {len(slots)} times")
    value = _one(slots[0], "rim:SlotValue", f"rim:Slot[@name='{name}']/rim:SlotValue")
    declared = (value.get(_q("xsi", "type")) or "").split(":")[-1]
    if declared != value_type:
        raise EdmError(f"rim:Slot[@name='{name}']/rim:SlotValue: of type {declared or 'none'}, not rim:{value_type}")
    return value


def _string_slot(root: Any, name: str, value_type: str = "StringValueType", *, required: bool = True) -> str | None:
    value = _slot_value(root, name, value_type, required=required)
    if value is None:
        return None
    return _text(value, "rim:Value", f"rim:Slot[@name='{name}']/rim:SlotValue/rim:Value")


def _datetime(value: str, where: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise EdmError(f"{where}: {value!r} is not a date and time") from error
    if moment.tzinfo is None:
        raise EdmError(f"{where}: {value!r} has no time zone")
    return moment


def _boolean(root: Any, name: str) -> bool:
    value = _string_slot(root, name, "BooleanValueType")
    if value not in ("true", "false", "1", "0"):
        raise EdmError(f"rim:Slot[@name='{name}']: {value!r} is not a boolean")
    return value in ("true", "1")


def _read_agent(node: Any, where: str) -> Agent:
    identifier = _one(node, "sdg:Identifier", f"{where}/sdg:Identifier")
    scheme = identifier.get("schemeID") or ""
    if not scheme.startswith(EAS):
        raise EdmError(f"{where}/sdg:Identifier/@schemeID: {scheme!r} is not an Electronic Address Scheme ({EAS}…)")
    names = node.findall("sdg:Name", NSMAP)
    country = node.findtext("sdg:Address/sdg:AdminUnitLevel1", default="", namespaces=NSMAP).strip()
    return Agent(
        identifier=(identifier.text or "").strip(),
        scheme=scheme.removeprefix(EAS),
        name=(names[0].text or "").strip() if names else "",
        country=country,
    )


def _read_person(node: Any, where: str, *, with_loa: bool) -> Person:
    identifier = _one(node, "sdg:Identifier", f"{where}/sdg:Identifier")
    if identifier.get("schemeID") != "eidas":
        raise EdmError(f"{where}/sdg:Identifier/@schemeID: must be 'eidas'")
    value = (identifier.text or "").strip()
    if not _EIDAS.match(value):
        raise EdmError(f"{where}/sdg:Identifier: {value!r} is not an eIDAS identifier (XX/YY/…)")
    born = _text(node, "sdg:DateOfBirth", f"{where}/sdg:DateOfBirth")
    try:
        birth_date = dt.date.fromisoformat(born)
    except ValueError as error:
        raise EdmError(f"{where}/sdg:DateOfBirth: {born!r} is not a date") from error
    loa = _text(node, "sdg:LevelOfAssurance", f"{where}/sdg:LevelOfAssurance") if with_loa else ""
    if with_loa and loa not in ("Substantial", "High", "Low"):
        raise EdmError(f"{where}/sdg:LevelOfAssurance: {loa!r} is not an eIDAS level (Low, Substantial, High)")
    return Person(
        identifier=value,
        family_name=_text(node, "sdg:FamilyName", f"{where}/sdg:FamilyName"),
        given_name=_text(node, "sdg:GivenName", f"{where}/sdg:GivenName"),
        birth_date=birth_date,
        level_of_assurance=loa,
    )


def _read_evidence_type(node: Any, where: str) -> EvidenceType:
    identifier = _text(node, "sdg:Identifier", f"{where}/sdg:Identifier")
    if not _UUID.match(identifier.lower()):
        raise EdmError(f"{where}/sdg:Identifier: {identifier!r} is not a UUID")
    titles = node.findall("sdg:Title", NSMAP)
    descriptions = node.findall("sdg:Description", NSMAP)
    return EvidenceType(
        identifier=identifier.lower(),
        classification=_text(node, "sdg:EvidenceTypeClassification", f"{where}/sdg:EvidenceTypeClassification"),
        title=(titles[0].text or "").strip() if titles else "",
        description=(descriptions[0].text or "").strip() if descriptions else "",
        format=node.findtext("sdg:DistributedAs/sdg:Format", default="", namespaces=NSMAP).strip()
        or node.findtext("sdg:Format", default="", namespaces=NSMAP).strip(),
        conforms_to=node.findtext("sdg:DistributedAs/sdg:ConformsTo", default=None, namespaces=NSMAP),
    )


def read_request(xml: bytes) -> EvidenceRequest:
    """The request, or EdmError saying what is wrong and where."""
    root = _parsed(xml, "QueryRequest")
    request_id = root.get("id") or ""
    if not request_id.startswith("urn:uuid:") or not _UUID.match(request_id.removeprefix("urn:uuid:").lower()):
        raise EdmError(f"query:QueryRequest/@id: {request_id!r} is not urn:uuid:<UUID>")
    specification = _string_slot(root, "SpecificationIdentifier")
    if specification != SPECIFICATION:
        raise EdmError(
            f"rim:Slot[@name='SpecificationIdentifier']: {specification!r}; this provider reads {SPECIFICATION}",
            code=ErrorCode.UNSUPPORTED,
        )
    issued = _string_slot(root, "IssueDateTime", "DateTimeValueType") or ""
    procedure = _slot_value(root, "Procedure", "InternationalStringValueType")
    codes = procedure.findall("rim:Value/rim:LocalizedString", NSMAP)
    requirement = root.find(
        "rim:Slot[@name='Requirements']/rim:SlotValue/rim:Element/sdg:Requirement", NSMAP
    )  # SHOULD, not MUST
    requesters = _slot_value(root, "EvidenceRequester", "CollectionValueType")
    provider = _slot_value(root, "EvidenceProvider", "AnyValueType")
    query = _one(root, "query:Query", "query:Query")
    if query.get("queryDefinition") != "DocumentQuery":
        raise EdmError("query:Query/@queryDefinition: must be DocumentQuery")
    person = _slot_value(query, "NaturalPerson", "AnyValueType")
    evidence = _slot_value(query, "EvidenceRequest", "AnyValueType")
    return EvidenceRequest(
        request_id=request_id.lower(),
        issued_at=_datetime(issued, "rim:Slot[@name='IssueDateTime']"),
        procedure=(codes[0].get("value") or "").strip() if codes else "",
        requirement=Requirement(
            identifier=requirement.findtext("sdg:Identifier", default="", namespaces=NSMAP).strip(),
            name=requirement.findtext("sdg:Name", default="", namespaces=NSMAP).strip(),
        )
        if requirement is not None
        else Requirement("", ""),
        requester=_read_agent(
            _one(requesters, "rim:Element/sdg:Agent", "EvidenceRequester/rim:Element/sdg:Agent"),
            "EvidenceRequester/sdg:Agent",
        ),
        provider=_read_agent(_one(provider, "sdg:Agent", "EvidenceProvider/sdg:Agent"), "EvidenceProvider/sdg:Agent"),
        person=_read_person(_one(person, "sdg:Person", "NaturalPerson/sdg:Person"), "NaturalPerson", with_loa=True),
        evidence_type=_read_evidence_type(
            _one(evidence, "sdg:DataServiceEvidenceType", "EvidenceRequest/sdg:DataServiceEvidenceType"),
            "EvidenceRequest/sdg:DataServiceEvidenceType",
        ),
        preview_possible=_boolean(root, "PossibilityForPreview"),
        explicit_request=_boolean(root, "ExplicitRequestGiven"),
        preview_location=_string_slot(root, "PreviewLocation", required=False),
        language=(root.get(f"{{{XML}}}lang") or "EN").upper()[:2],
    )


def read_response(xml: bytes) -> EvidenceResponse | ExceptionResponse:
    """A provider's answer, evidence or exception, or EdmError saying what is wrong and where."""
    root = _parsed(xml, "QueryResponse")
    request_id = (root.get("requestId") or "").lower()
    response_id = _string_slot(root, "EvidenceResponseIdentifier") or ""
    if _string_slot(root, "SpecificationIdentifier") != SPECIFICATION:
        raise EdmError(f"rim:Slot[@name='SpecificationIdentifier']: not {SPECIFICATION}")
    issued_at = _datetime(_string_slot(root, "IssueDateTime", "DateTimeValueType") or "", "IssueDateTime")
    requester = _read_agent(
        _one(_slot_value(root, "EvidenceRequester", "AnyValueType"), "sdg:Agent", "EvidenceRequester/sdg:Agent"),
        "EvidenceRequester/sdg:Agent",
    )
    status = root.get("status")
    if status == FAILURE:
        exception = _one(root, "rs:Exception", "rs:Exception")
        code = exception.get("code") or ""
        if code not in set(ErrorCode):
            raise EdmError(f"rs:Exception/@code: {code!r} is not an EDM error code")
        error_provider = _one(
            _slot_value(root, "ErrorProvider", "AnyValueType"), "sdg:Agent", "ErrorProvider/sdg:Agent"
        )
        location = _string_slot(exception, "PreviewLocation", required=False)
        if location is not None and not location.startswith("https://"):
            raise EdmError(f"rs:Exception/PreviewLocation: {location!r} is not an https:// address")
        return ExceptionResponse(
            response_id=response_id,
            request_id=request_id,
            issued_at=issued_at,
            provider=_read_agent(error_provider, "ErrorProvider/sdg:Agent"),
            requester=requester,
            code=ErrorCode(code),
            message=exception.get("message") or "",
            preview_location=location if exception.get("severity") == PREVIEW_REQUIRED else None,
        )
    if status != SUCCESS:
        raise EdmError(f"query:QueryResponse/@status: {status!r} is neither Success nor Failure")
    providers = _slot_value(root, "EvidenceProvider", "CollectionValueType")
    registry_object = _one(
        root, "rim:RegistryObjectList/rim:RegistryObject", "rim:RegistryObjectList/rim:RegistryObject"
    )
    metadata = _one(
        _slot_value(registry_object, "EvidenceMetadata", "AnyValueType"),
        "sdg:Evidence",
        "EvidenceMetadata/sdg:Evidence",
    )
    reference = _one(registry_object, "rim:RepositoryItemRef", "rim:RepositoryItemRef")
    href = reference.get(_q("xlink", "href")) or ""
    if not href.startswith("cid:") or "@" not in href:
        raise EdmError(f"rim:RepositoryItemRef/@xlink:href: {href!r} is not a cid:…@… reference")
    conformant = _one(metadata, "sdg:IsConformantTo", "sdg:Evidence/sdg:IsConformantTo")
    issued_on = _text(metadata, "sdg:IssuingDate", "sdg:Evidence/sdg:IssuingDate")
    try:
        issued_date = dt.date.fromisoformat(issued_on)
    except ValueError as error:
        raise EdmError(f"sdg:Evidence/sdg:IssuingDate: {issued_on!r} is not a date") from error
    return EvidenceResponse(
        response_id=response_id,
        request_id=request_id,
        issued_at=issued_at,
        provider=_read_agent(
            _one(providers, "rim:Element/sdg:Agent", "EvidenceProvider"), "EvidenceProvider/sdg:Agent"
        ),
        requester=requester,
        person=_read_person(
            _one(metadata, "sdg:IsAbout/sdg:NaturalPerson", "sdg:Evidence/sdg:IsAbout/sdg:NaturalPerson"),
            "sdg:IsAbout/sdg:NaturalPerson",
            with_loa=False,
        ),
        evidence_type=EvidenceType(
            identifier=_text(metadata, "sdg:Identifier", "sdg:Evidence/sdg:Identifier"),
            classification=_text(conformant, "sdg:EvidenceTypeClassification", "sdg:IsConformantTo"),
            title=conformant.findtext("sdg:Title", default="", namespaces=NSMAP).strip(),
            description=conformant.findtext("sdg:Description", default="", namespaces=NSMAP).strip(),
            format=metadata.findtext("sdg:Distribution/sdg:Format", default="", namespaces=NSMAP).strip(),
            conforms_to=metadata.findtext("sdg:Distribution/sdg:ConformsTo", default=None, namespaces=NSMAP),
        ),
        evidence=Evidence(
            identifier=_text(metadata, "sdg:Identifier", "sdg:Evidence/sdg:Identifier"),
            issued_on=issued_date,
            language=metadata.findtext("sdg:Distribution/sdg:Language", default="", namespaces=NSMAP).strip(),
            content_id=href.removeprefix("cid:"),
            title=reference.get(_q("xlink", "title")) or "",
        ),
    )
