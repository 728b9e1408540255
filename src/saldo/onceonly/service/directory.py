"""The once-only technical system's common services, as a file: which evidence types exist (the
Evidence Broker's part: the requirement each proves, the procedures that use it), and which
authorities take part (the Data Service Directory's: who provides which evidence type for which
country, where their eDelivery gateway receives, the certificates they sign and encrypt with). Read
again whenever the file changes; docs/once-only.md shows one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from saldo.eessi.service.keys import load_certificate
from saldo.kit.reread import reread_when_changed
from saldo.onceonly.errors import DirectoryError
from saldo.onceonly.service.edm import Agent, EvidenceType, Requirement

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class EvidenceTypeEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=UUID_PATTERN)
    classification: str = Field(pattern=r"^https://sr\.oots\.tech\.europa\.eu/evidencetypeclassifications/[a-z]{2}/")
    title: str = Field(min_length=1, max_length=200, description="in English, as the EDM carries it")
    titles: dict[str, str] = Field(default={}, description="the title in other languages, by ISO 639-1 code")
    description: str = Field(min_length=1, max_length=1000)
    format: str = Field(pattern=r"^(application/(pdf|xml|json)|image/(png|jpeg))$")
    requirement: str = Field(pattern=r"^https://sr\.oots\.tech\.europa\.eu/requirements/")
    requirement_name: str = Field(min_length=1, max_length=200)
    procedures: list[str] = Field(min_length=1)


class PartyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9:._-]{3,100}$", description="the party id on the eDelivery network")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    name: str = Field(min_length=1, max_length=200)
    agent_id: str = Field(min_length=1, max_length=60, description="the authority's id in its EAS scheme")
    agent_scheme: str = Field(pattern=r"^[0-9]{4}$", description="the Electronic Address Scheme code")
    endpoint: HttpUrl
    certificates: list[str] = Field(min_length=1, description="PEM; the first is current")
    provides: list[str] = Field(default=[], description="the evidence types (ids) it provides")


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence_types: list[EvidenceTypeEntry]
    parties: list[PartyEntry]


@dataclass(frozen=True)
class KnownEvidenceType:
    evidence_type: EvidenceType
    requirement: Requirement
    procedures: frozenset[str]
    titles: dict[str, str]

    def title(self, language: str) -> tuple[str, str]:
        """The title in ``language`` when the directory has it, else in English: (title, its language)."""
        if language in self.titles:
            return self.titles[language], language
        return self.evidence_type.title, "en"


@dataclass(frozen=True)
class Party:
    id: str
    country: str
    agent: Agent
    endpoint: str
    certificates: tuple[x509.Certificate, ...]
    provides: frozenset[str]

    @property
    def certificate(self) -> x509.Certificate:
        return self.certificates[0]


class UnknownPartyError(LookupError):
    """No such party in the directory."""


class Directory:
    def __init__(self, evidence_types: dict[str, KnownEvidenceType], parties: dict[str, Party]) -> None:
        self.evidence_types = evidence_types
        self.parties = parties

    def party(self, party_id: str) -> Party:
        found = self.parties.get(party_id)
        if found is None:
            raise UnknownPartyError(f"{party_id} is not in the once-only directory")
        return found

    def providers(self, evidence_type: str, country: str) -> list[Party]:
        """Who provides ``evidence_type`` for ``country`` (the Data Service Directory's query)."""
        return [p for p in self.parties.values() if p.country == country and evidence_type in p.provides]

    def for_procedure(self, procedure: str) -> list[KnownEvidenceType]:
        """The evidence types a procedure may ask for (the Evidence Broker's query)."""
        return [t for t in self.evidence_types.values() if procedure in t.procedures]


def parse(text: str, where: str = "once-only directory") -> Directory:
    try:
        data = DirectoryFile.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        path = "/".join(str(p) for p in first["loc"])
        raise DirectoryError(f"{where}: {path}: {first['msg']}") from error
    kinds: dict[str, KnownEvidenceType] = {}
    for index, kind in enumerate(data.evidence_types):
        if kind.id in kinds:
            raise DirectoryError(f"{where}: evidence_types/{index}/id: {kind.id} is listed twice")
        kinds[kind.id] = KnownEvidenceType(
            EvidenceType(kind.id, kind.classification, kind.title, kind.description, kind.format),
            Requirement(kind.requirement, kind.requirement_name),
            frozenset(kind.procedures),
            dict(kind.titles),
        )
    parties: dict[str, Party] = {}
    for index, entry in enumerate(data.parties):
        if entry.id in parties:
            raise DirectoryError(f"{where}: parties/{index}/id: {entry.id} is listed twice")
        unknown = [k for k in entry.provides if k not in kinds]
        if unknown:
            raise DirectoryError(f"{where}: parties/{index}/provides: {unknown[0]} is not an evidence type listed")
        try:
            certificates = tuple(load_certificate(pem) for pem in entry.certificates)
        except ValueError as error:
            raise DirectoryError(f"{where}: parties/{index}/certificates: not a PEM certificate") from error
        agent = Agent(entry.agent_id, entry.agent_scheme, entry.name, entry.country)
        parties[entry.id] = Party(
            entry.id, entry.country, agent, str(entry.endpoint), certificates, frozenset(entry.provides)
        )
    return Directory(kinds, parties)


def load(path: Path) -> Directory:
    """The directory in ``path``, read again when the file has changed since the last read."""
    return reread_when_changed(path, parse, DirectoryError)
