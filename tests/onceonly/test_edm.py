"""The OOTS EDM messages: what Saldo writes follows the official XSDs and Schematron rules (checked
by Saxon, not by Saldo's reader), a request written by hand the way the EDM's own examples are is
read, and a message that breaks the EDM is refused saying what and where."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from saldo.onceonly.service import edm
from tests.onceonly.schematron import failures, rules_run

REQUEST_ID = "urn:uuid:4d3c2b1a-0f9e-4d8c-b7a6-958473625140"
# Written by hand, as the EDM's published examples are (comments, optional parts, other
# namespace prefixes), not by Saldo's writer: a Danish university portal asks a Swedish provider.
HAND_WRITTEN = f"""<?xml version="1.0" encoding="UTF-8"?>
<q:QueryRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:r="urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0"
    xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0"
    xmlns:p4s="http://data.europa.eu/p4s" xml:lang="SV" id="{REQUEST_ID}">
  <!-- the first request: no preview location yet -->
  <r:Slot name="SpecificationIdentifier">
    <r:SlotValue xsi:type="r:StringValueType"><r:Value>oots-edm:v1.0</r:Value></r:SlotValue></r:Slot>
  <r:Slot name="IssueDateTime">
    <r:SlotValue xsi:type="r:DateTimeValueType"><r:Value>2026-11-30T09:15:00.000+01:00</r:Value></r:SlotValue>
  </r:Slot>
  <r:Slot name="Procedure"><r:SlotValue xsi:type="r:InternationalStringValueType"><r:Value>
    <r:LocalizedString xml:lang="EN" value="T1"/></r:Value></r:SlotValue></r:Slot>
  <r:Slot name="PossibilityForPreview">
    <r:SlotValue xsi:type="r:BooleanValueType"><r:Value>true</r:Value></r:SlotValue></r:Slot>
  <r:Slot name="ExplicitRequestGiven">
    <r:SlotValue xsi:type="r:BooleanValueType"><r:Value>true</r:Value></r:SlotValue></r:Slot>
  <r:Slot name="Requirements">
    <r:SlotValue xsi:type="r:CollectionValueType"
        collectionType="urn:oasis:names:tc:ebxml-regrep:CollectionType:Set">
    <r:Element xsi:type="r:AnyValueType"><p4s:Requirement>
      <p4s:Identifier>https://sr.oots.tech.europa.eu/requirements/urn:uuid:2f1e0d9c-8b7a-4c6d-9e5f-1a2b3c4d5e6f</p4s:Identifier>
      <p4s:Name lang="EN">Proof of income</p4s:Name></p4s:Requirement></r:Element></r:SlotValue></r:Slot>
  <r:Slot name="EvidenceRequester"><r:SlotValue xsi:type="r:CollectionValueType">
    <r:Element xsi:type="r:AnyValueType"><p4s:Agent>
      <p4s:Identifier schemeID="urn:cef.eu:names:identifier:EAS:0096">DK29188548</p4s:Identifier>
      <p4s:Name lang="EN">Danish study grant portal</p4s:Name>
      <p4s:Address><p4s:FullAddress>Bredgade 43, 1260 Copenhagen</p4s:FullAddress><p4s:PostCode>1260</p4s:PostCode>
        <p4s:PostCityName>Copenhagen</p4s:PostCityName><p4s:AdminUnitLevel1>DK</p4s:AdminUnitLevel1></p4s:Address>
      <p4s:Classification>ER</p4s:Classification></p4s:Agent></r:Element></r:SlotValue></r:Slot>
  <r:Slot name="EvidenceProvider"><r:SlotValue xsi:type="r:AnyValueType"><p4s:Agent>
      <p4s:Identifier schemeID="urn:cef.eu:names:identifier:EAS:0007">2021006883</p4s:Identifier>
      <p4s:Name lang="EN">Utbetalningsmyndigheten</p4s:Name></p4s:Agent></r:SlotValue></r:Slot>
  <q:ResponseOption returnType="LeafClassWithRepositoryItem"/>
  <q:Query queryDefinition="DocumentQuery">
    <r:Slot name="NaturalPerson"><r:SlotValue xsi:type="r:AnyValueType"><p4s:Person>
      <p4s:LevelOfAssurance>Substantial</p4s:LevelOfAssurance>
      <p4s:Identifier schemeID="eidas">SE/DK/195203041230</p4s:Identifier>
      <p4s:FamilyName>Virtanen</p4s:FamilyName><p4s:GivenName>Aino</p4s:GivenName>
      <p4s:DateOfBirth>1952-03-04</p4s:DateOfBirth>
      <p4s:PlaceOfBirth>Haparanda</p4s:PlaceOfBirth></p4s:Person></r:SlotValue></r:Slot>
    <r:Slot name="EvidenceRequest"><r:SlotValue xsi:type="r:AnyValueType"><p4s:DataServiceEvidenceType>
      <p4s:Identifier>5b0e7b4e-3c1d-4f5e-9a51-7d2f3c6a9e10</p4s:Identifier>
      <p4s:EvidenceTypeClassification
        >https://sr.oots.tech.europa.eu/evidencetypeclassifications/se/5b0e7b4e-3c1d-4f5e-9a51-7d2f3c6a9e10</p4s:EvidenceTypeClassification>
      <p4s:Title lang="EN">Statement of public payments</p4s:Title>
      <p4s:Title lang="SV">Sammanställning av offentliga utbetalningar</p4s:Title>
      <p4s:Description lang="EN">The public payments made to the person in a calendar year.</p4s:Description>
      <p4s:DistributedAs><p4s:Format>application/pdf</p4s:Format></p4s:DistributedAs>
    </p4s:DataServiceEvidenceType></r:SlotValue></r:Slot>
  </q:Query>
</q:QueryRequest>
""".encode()

DK = edm.Agent("DK29188548", "0096", "Danish study grant portal", "DK")
SE = edm.Agent("2021006883", "0007", "Utbetalningsmyndigheten", "SE")
AINO = edm.Person("SE/DK/195203041230", "Virtanen", "Aino", dt.date(1952, 3, 4), "Substantial")


def test_a_request_written_by_hand_follows_the_rules_and_is_read() -> None:
    for rules in ("EDM-REQ-S", "EDM-REQ-C"):
        assert failures(rules, HAND_WRITTEN) == [], rules
    request = edm.read_request(HAND_WRITTEN)
    assert request.request_id == REQUEST_ID
    assert request.issued_at == dt.datetime(2026, 11, 30, 8, 15, tzinfo=dt.UTC)
    assert (request.procedure, request.language) == ("T1", "SV")
    assert request.requester == DK
    assert (request.provider.identifier, request.provider.scheme) == (SE.identifier, SE.scheme)
    assert request.person == AINO
    assert (request.person.origin, request.person.national_part) == ("SE", "195203041230")
    assert request.evidence_type.identifier == "5b0e7b4e-3c1d-4f5e-9a51-7d2f3c6a9e10"
    assert request.evidence_type.title == "Statement of public payments"  # the first (English) title
    assert (request.preview_possible, request.explicit_request, request.preview_location) == (True, True, None)


def test_what_saldo_writes_follows_the_official_rules() -> None:
    first = edm.read_request(HAND_WRITTEN)
    again = edm.EvidenceRequest(**{**first.__dict__, "preview_location": "https://saldo.example/me/evidence/preview/x"})
    now = dt.datetime.now(dt.UTC)
    evidence = edm.Evidence(str(uuid.uuid4()), now.date(), "SV", f"{uuid.uuid4().hex}@sesaldo", "statement.pdf")
    response = edm.EvidenceResponse(
        str(uuid.uuid4()), first.request_id, now, SE, DK, AINO, first.evidence_type, evidence
    )
    preview = edm.ExceptionResponse(
        str(uuid.uuid4()),
        first.request_id,
        now,
        SE,
        DK,
        edm.ErrorCode.AUTHORIZATION,
        "preview first",
        preview_location="https://saldo.example/me/evidence/preview/x",
        preview_description="Your statement",
    )
    refused = edm.ExceptionResponse(str(uuid.uuid4()), first.request_id, now, SE, DK, edm.ErrorCode.NOT_FOUND, "no one")
    written = {
        ("EDM-REQ-S", "EDM-REQ-C"): [edm.request_xml(first), edm.request_xml(again)],
        ("EDM-RESP-S", "EDM-RESP-C"): [edm.response_xml(response)],
        ("EDM-ERR-S", "EDM-ERR-C"): [edm.exception_xml(preview), edm.exception_xml(refused)],
    }
    for rule_sets, documents in written.items():
        for document in documents:
            for rules in rule_sets:
                assert rules_run(rules, document) > 5
                assert failures(rules, document) == [], rules
    assert edm.read_request(edm.request_xml(again)).preview_location == again.preview_location
    read = edm.read_response(edm.response_xml(response))
    assert isinstance(read, edm.EvidenceResponse)
    assert read.evidence.content_id == evidence.content_id
    assert (read.person.identifier, read.person.birth_date) == (AINO.identifier, AINO.birth_date)
    told = edm.read_response(edm.exception_xml(preview))
    assert isinstance(told, edm.ExceptionResponse)
    assert told.preview_required
    assert told.preview_location == "https://saldo.example/me/evidence/preview/x"


def test_the_rules_catch_a_broken_message() -> None:
    """The check is not one that cannot fail: a request without its requester breaks a rule."""
    broken = HAND_WRITTEN.replace(b'<r:Slot name="EvidenceRequester">', b'<r:Slot name="Requester">')
    assert any(f.startswith("R-EDM-REQ-S") for f in failures("EDM-REQ-S", broken))


def _edit(old: str, new: str) -> bytes:
    assert old.encode() in HAND_WRITTEN
    return HAND_WRITTEN.replace(old.encode(), new.encode())


@pytest.mark.parametrize(
    ("message", "said"),
    [
        (HAND_WRITTEN[: len(HAND_WRITTEN) // 2], "not well-formed XML"),
        (b"<?xml version='1.0'?><Envelope/>", "is Envelope, not query:QueryRequest"),
        (_edit('id="urn:uuid:4d3c', 'id="4d3c'), "query:QueryRequest/@id"),
        (_edit("oots-edm:v1.0", "oots-edm:v9.9"), "this provider reads oots-edm:v1.0"),
        (_edit('name="EvidenceRequester"', 'name="Requester"'), "rim:Slot[@name='EvidenceRequester']: missing"),
        (
            _edit('xsi:type="r:BooleanValueType"><r:Value>true', 'xsi:type="r:StringValueType"><r:Value>true'),
            "rim:Slot[@name='PossibilityForPreview']/rim:SlotValue: of type StringValueType",
        ),
        (_edit("SE/DK/195203041230", "195203041230"), "is not an eIDAS identifier"),
        (_edit("<p4s:LevelOfAssurance>Substantial", "<p4s:LevelOfAssurance>Medium"), "not an eIDAS level"),
        (_edit("<p4s:DateOfBirth>1952-03-04", "<p4s:DateOfBirth>1952-13-04"), "DateOfBirth"),
        (_edit("urn:cef.eu:names:identifier:EAS:0096", "vat"), "is not an Electronic Address Scheme"),
        (_edit("2026-11-30T09:15:00.000+01:00", "2026-11-30T09:15:00"), "has no time zone"),
    ],
)
def test_a_broken_request_is_refused_saying_what_and_where(message: bytes, said: str) -> None:
    with pytest.raises(edm.EdmError) as refused:
        edm.read_request(message)
    assert said in str(refused.value)


def test_a_version_it_does_not_read_is_unsupported_rather_than_invalid() -> None:
    with pytest.raises(edm.EdmError) as refused:
        edm.read_request(_edit("oots-edm:v1.0", "oots-edm:v2.0"))
    assert refused.value.code is edm.ErrorCode.UNSUPPORTED


def test_entities_are_not_expanded_and_a_huge_message_is_refused() -> None:
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + HAND_WRITTEN.split(b"?>", 1)[1]
    )
    with pytest.raises(edm.EdmError):
        edm.read_request(entity.replace(b"<r:Value>oots-edm:v1.0", b"<r:Value>&x;"))
    with pytest.raises(edm.EdmError, match="more than the"):
        edm.read_request(HAND_WRITTEN + b" " * edm.MAX_MESSAGE_BYTES)


def test_a_preview_outside_https_is_refused() -> None:
    now = dt.datetime.now(dt.UTC)
    plain = edm.ExceptionResponse(
        str(uuid.uuid4()),
        REQUEST_ID,
        now,
        SE,
        DK,
        edm.ErrorCode.AUTHORIZATION,
        "preview",
        preview_location="http://saldo.example/me/evidence/preview/x",
    )
    with pytest.raises(edm.EdmError, match="not an https:// address"):
        edm.read_response(edm.exception_xml(plain))
