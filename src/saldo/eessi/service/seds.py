"""Structured Electronic Documents (SEDs) as typed models, and their XML form on the wire.

Each SED is one document: its type and versions (``sed``, ``sedGVer``, ``sedVer``), the case it
belongs to, the person it is about (``Person/PersonIdentification``, with the identification numbers
each institution uses for them), and the fields of its type. Element names follow the public EESSI
CDM where it is documented (``familyName``, ``forename``, ``dateBirth``, ``sex``,
``PINPersonInEachInstitution/PersonalIdentificationNumber`` with ``personalIdentificationNumber``,
``country`` and ``institutionID``); the namespace is Saldo's, as the CDM schemas are not public.
Reading is strict: an unknown element, a missing field or a wrong date is refused with its path."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, get_args

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NS = "urn:saldo:eessi:sed:1"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
# An institution's id in the Institution Repository: the EESSI country code (EL and UK, not GR and
# GB), a colon, and 4 to 10 letters or digits.
COUNTRIES = [
    "AT",
    "BE",
    "BG",
    "CH",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "EL",
    "ES",
    "FI",
    "FR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
    "UK",
    "EU",
]
INSTITUTION_PATTERN = r"^(" + "|".join(COUNTRIES) + r"):[A-Za-z0-9]{4,10}$"
InstitutionId = Annotated[str, Field(pattern=INSTITUTION_PATTERN)]
Country = Annotated[str, Field(pattern=r"^(" + "|".join(COUNTRIES) + r")$")]
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
Line = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
# The kinds of benefit a SED asks or tells about (the branches of social security of Regulation
# 883/2004, art. 3): what the analysis compares with the benefits paid here.
BenefitType = Literal["old_age", "invalidity", "survivor", "sickness", "unemployment", "family", "parental", "other"]
BENEFIT_TYPES: tuple[str, ...] = get_args(BenefitType)


class SedError(ValueError):
    """A SED that cannot be read: not XML, not a SED, or a field that does not fit (with its path)."""


class Element(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Pin(Element):
    """A personal identification number, as one institution of one country uses it."""

    personal_identification_number: Line = Field(alias="personalIdentificationNumber")
    country: Country
    institution_id: InstitutionId | None = Field(default=None, alias="institutionID")


class PersonIdentification(Element):
    family_name: Line = Field(alias="familyName")
    forename: Line
    date_birth: dt.date = Field(alias="dateBirth")
    sex: Literal["female", "male", "unknown"] = "unknown"
    pins: tuple[Pin, ...] = Field(default=(), alias="PINPersonInEachInstitution")


class Period(Element):
    start_date: dt.date = Field(alias="startDate")
    end_date: dt.date | None = Field(default=None, alias="endDate")

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, end: dt.date | None, info: Any) -> dt.date | None:
        start = info.data.get("start_date")
        if end is not None and start is not None and end < start:
            raise ValueError("the period ends before it starts")
        return end


class Content(Element):
    """The fields of one SED type (subclasses), each named as the SED carries it."""

    sed_type: ClassVar[str]
    title: ClassVar[str]


class H001(Content):
    """A request for information (``question``), or a notification: with ``paid`` true, the sender
    tells that it pays a benefit of ``benefitType`` for ``period``."""

    sed_type = "H001"
    title = "Notification or request for information"
    benefit_type: BenefitType = Field(alias="benefitType")
    period: Period
    question: Text | None = None
    paid: bool | None = None
    amount: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _asks_or_tells(self) -> H001:
        if self.question is None and not self.paid:
            raise ValueError("an H001 asks a question or notifies a benefit paid (paid: true)")
        return self


class H002(Content):
    sed_type = "H002"
    title = "Answer to a request for information"
    receives_benefit: bool = Field(alias="receivesBenefit")
    benefit_type: BenefitType | None = Field(default=None, alias="benefitType")
    period: Period | None = None
    amount: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    frequency: Literal["monthly", "weekly", "yearly", "once"] | None = None


class H003(Content):
    sed_type = "H003"
    title = "Notification of the determination of residence"
    country_residence: Country = Field(alias="countryResidence")
    since: dt.date


class H004(Content):
    sed_type = "H004"
    title = "Reply on the determination of residence"
    agrees: bool
    country_residence: Country | None = Field(default=None, alias="countryResidence")
    reason: Text | None = None


class H005(Content):
    sed_type = "H005"
    title = "Request for a determination of residence"
    reason: Text


class H070(Content):
    sed_type = "H070"
    title = "Death notification"
    date_death: dt.date = Field(alias="dateDeath")
    country_death: Country = Field(alias="countryDeath")


class A003(Content):
    sed_type = "A003"
    title = "Determination of the applicable legislation"
    legislation_country: Country = Field(alias="legislationCountry")
    period: Period


class A004(Content):
    sed_type = "A004"
    title = "Disagreement with the determination"
    reason: Text


class A008(Content):
    sed_type = "A008"
    title = "Notification of relevant information"
    information: Text


class A009(Content):
    sed_type = "A009"
    title = "Notification of posting"
    employer: Line
    country_work: Country = Field(alias="countryWork")
    period: Period


class A012(Content):
    sed_type = "A012"
    title = "Acceptance of the determination"


class X001(Content):
    sed_type = "X001"
    title = "Closing the case"
    reason: Text


class X005(Content):
    sed_type = "X005"
    title = "Adding a participant"
    institution_id: InstitutionId = Field(alias="institutionID")


class X006(Content):
    sed_type = "X006"
    title = "Removing a participant"
    institution_id: InstitutionId = Field(alias="institutionID")


class X007(Content):
    """A participant that is not competent for the case forwards it to the institution that is (here or
    in another country, Regulation 987/2009 Article 2(3)); the owner's node then asks that one."""

    sed_type = "X007"
    title = "Forwarding the case"
    institution_id: InstitutionId = Field(alias="institutionID")
    reason: Text | None = None


class X009(Content):
    sed_type = "X009"
    title = "Reminder"
    document_id: Line = Field(alias="documentID")


class X011(Content):
    sed_type = "X011"
    title = "Rejection of a SED"
    document_id: Line = Field(alias="documentID")
    reason: Text


CONTENT: dict[str, type[Content]] = {
    c.sed_type: c
    for c in (H001, H002, H003, H004, H005, H070, A003, A004, A008, A009, A012, X001, X005, X006, X007, X009, X011)
}
SedType = Literal[
    "H001", "H002", "H003", "H004", "H005", "H070", "A003", "A004", "A008", "A009", "A012",
    "X001", "X005", "X006", "X007", "X009", "X011",
]  # fmt: skip


class Sed(Element):
    """One SED: its header (type, versions, case, sender, receiver, what it answers), the person
    and its content."""

    sed: SedType
    sed_g_ver: str = Field(alias="sedGVer", pattern=r"^[0-9]{1,2}$")
    sed_ver: str = Field(alias="sedVer", pattern=r"^[0-9]{1,2}$")
    document_id: Line = Field(alias="documentID")
    case_id: Line = Field(alias="caseID")
    buc_type: Line = Field(alias="bucType")
    sender: InstitutionId
    receiver: InstitutionId
    answers: Line | None = None  # the document id of the SED this one answers
    person: PersonIdentification | None = Field(default=None, alias="Person")
    content: Content

    @property
    def version(self) -> str:
        return f"{self.sed_g_ver}.{self.sed_ver}"


def content_of(sed_type: str, fields: dict[str, Any]) -> Content:
    """The typed content of a SED type from its fields (by CDM name or Python name)."""
    model = CONTENT.get(sed_type)
    if model is None:
        raise SedError(f"{sed_type!r} is not a SED type this node plays ({', '.join(sorted(CONTENT))})")
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise SedError(_first(error, sed_type)) from error


def _first(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    path = "/".join([where, *(str(part) for part in first["loc"])])
    return f"{path}: {first['msg']}"


# ---- XML ------------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _append(parent: etree._Element, model: BaseModel) -> None:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None or value == ():
            continue
        tag = field.alias or name
        if isinstance(value, tuple):  # the identification numbers
            holder = etree.SubElement(parent, _q(tag))
            for item in value:
                _append(etree.SubElement(holder, _q("PersonalIdentificationNumber")), item)
        elif isinstance(value, BaseModel):
            _append(etree.SubElement(parent, _q(tag)), value)
        else:
            etree.SubElement(parent, _q(tag)).text = _text(value)


HEADER = ("sed", "sed_g_ver", "sed_ver", "document_id", "case_id", "buc_type", "sender", "receiver", "answers")


def to_element(sed: Sed) -> etree._Element:
    root = etree.Element(_q("SED"), nsmap={None: NS})  # type: ignore[dict-item]  # lxml: None is the default namespace
    for name in HEADER:  # the header's fields are the root's attributes, by their CDM names
        value = getattr(sed, name)
        if value is not None:
            root.set(Sed.model_fields[name].alias or name, value)
    if sed.person is not None:
        _append(etree.SubElement(etree.SubElement(root, _q("Person")), _q("PersonIdentification")), sed.person)
    _append(etree.SubElement(root, _q(sed.sed)), sed.content)
    return root


def to_xml(sed: Sed) -> bytes:
    return etree.tostring(to_element(sed), xml_declaration=True, encoding="UTF-8")


def _read(element: etree._Element, model: type[BaseModel], path: str) -> dict[str, Any]:
    fields = {f.alias or n: f for n, f in model.model_fields.items()}
    values: dict[str, Any] = {}
    if element.text and element.text.strip():
        raise SedError(f"{path}: text where elements were expected")
    for child in element:
        if not isinstance(child.tag, str) or child.tag == f"{{{DSIG_NS}}}Signature":
            continue
        tag = etree.QName(child).localname
        where = f"{path}/{tag}"
        if etree.QName(child).namespace != NS or tag not in fields:
            raise SedError(f"{where}: not a field of {path.rsplit('/', 1)[-1]}")
        if tag in values:
            raise SedError(f"{where}: given twice")
        annotation = fields[tag].annotation
        nested = _nested_model(annotation)
        if tag == "PINPersonInEachInstitution":
            values[tag] = [_read(pin, Pin, f"{where}/PersonalIdentificationNumber") for pin in child]
        elif nested is not None:
            values[tag] = _read(child, nested, where)
        else:
            if len(child):
                raise SedError(f"{where}: a value was expected, not elements")
            values[tag] = child.text or ""
    return values


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


MAX_SED_BYTES = 1024**2


def from_xml(data: bytes) -> Sed:
    """The SED in ``data``, strictly read; SedError says what and where."""
    if len(data) > MAX_SED_BYTES:
        raise SedError(f"the SED is {len(data)} bytes; at most {MAX_SED_BYTES} are read")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise SedError(f"not well-formed XML: {error}") from error
    if root.tag != _q("SED"):
        raise SedError(f"the document is {etree.QName(root).localname!r}, not a SED in {NS}")
    header = dict(root.attrib)
    sed_type = header.get("sed", "")
    if sed_type not in CONTENT:
        raise SedError(f"SED/@sed: {sed_type!r} is not a SED type this node plays")
    person: dict[str, Any] | None = None
    content: dict[str, Any] | None = None
    for child in root:
        if not isinstance(child.tag, str) or child.tag == f"{{{DSIG_NS}}}Signature":
            continue
        tag = etree.QName(child).localname
        if tag == "Person" and person is None:
            identification = child.find(_q("PersonIdentification"))
            if identification is None or len(child) != 1:
                raise SedError("SED/Person: one PersonIdentification is expected")
            person = _read(identification, PersonIdentification, "SED/Person/PersonIdentification")
        elif tag == sed_type and content is None:
            content = _read(child, CONTENT[sed_type], f"SED/{sed_type}")
        else:
            raise SedError(f"SED/{tag}: not expected in a {sed_type}")
    if content is None:
        raise SedError(f"SED/{sed_type}: the content of the {sed_type} is missing")
    try:
        typed = CONTENT[sed_type].model_validate(content)
        return Sed.model_validate({**header, "Person": person, "content": typed})
    except ValidationError as error:
        raise SedError(_first(error, "SED")) from error


_VERSION = re.compile(r"^([0-9]{1,2})\.([0-9]{1,2})$")


def split_version(version: str) -> tuple[str, str]:
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"{version!r} is not a SED version (such as 4.2)")
    return match.group(1), match.group(2)
