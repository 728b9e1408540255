"""The institution directory: which institutions exist, the BUCs they take part in, where their
node receives AS4 messages and the certificates they sign and encrypt with — the Institution
Repository's part that a node needs, loaded from a JSON file (docs/eessi.md shows one) and read
again whenever the file changes.

An institution may list several certificates while it rotates its key: messages signed with any of
them are accepted, and messages to it are encrypted to the first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from saldo.eessi.errors import ExchangeError
from saldo.eessi.service.keys import load_certificate
from saldo.eessi.service.seds import INSTITUTION_PATTERN
from saldo.kit.reread import reread_when_changed


class DirectoryError(ExchangeError, ValueError):
    """The directory file cannot be read, or an institution in it is not as the format says: the
    exchange cannot go on until the operator fixes it (503, never a 500)."""

    status = 503
    error = "directory_unreadable"


class UnknownInstitutionError(LookupError):
    """No such institution in the directory, or it does not take part in the BUC."""


class InstitutionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=INSTITUTION_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    endpoint: HttpUrl
    bucs: list[str] = Field(min_length=1)
    certificates: list[str] = Field(min_length=1, description="PEM; the first is current")


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    institutions: list[InstitutionEntry]


@dataclass(frozen=True)
class Institution:
    id: str
    name: str
    endpoint: str
    bucs: frozenset[str]
    certificates: tuple[x509.Certificate, ...]

    @property
    def country(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def certificate(self) -> x509.Certificate:
        return self.certificates[0]


class Directory:
    def __init__(self, institutions: dict[str, Institution]) -> None:
        self.institutions = institutions

    def get(self, institution_id: str, *, buc_type: str | None = None) -> Institution:
        institution = self.institutions.get(institution_id)
        if institution is None:
            raise UnknownInstitutionError(f"{institution_id} is not in the institution directory")
        if buc_type is not None and buc_type not in institution.bucs:
            raise UnknownInstitutionError(f"{institution_id} does not take part in {buc_type}")
        return institution


def parse(text: str, where: str = "directory") -> Directory:
    try:
        data = DirectoryFile.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        path = "/".join(str(p) for p in first["loc"])
        raise DirectoryError(f"{where}: {path}: {first['msg']}") from error
    institutions: dict[str, Institution] = {}
    for index, entry in enumerate(data.institutions):
        if entry.id in institutions:
            raise DirectoryError(f"{where}: institutions/{index}/id: {entry.id} is listed twice")
        try:
            certificates = tuple(load_certificate(pem) for pem in entry.certificates)
        except ValueError as error:
            raise DirectoryError(f"{where}: institutions/{index}/certificates: not a PEM certificate") from error
        institutions[entry.id] = Institution(
            entry.id, entry.name, str(entry.endpoint), frozenset(entry.bucs), certificates
        )
    return Directory(institutions)


def load(path: Path) -> Directory:
    """The directory in ``path``, read again when the file has changed since the last read."""
    return reread_when_changed(path, parse, DirectoryError)


def entry(
    institution_id: str, name: str, endpoint: str, bucs: list[str], certificate_pems: list[str]
) -> dict[str, object]:
    """One institution as the directory file lists it (for tools that write the file)."""
    return {"id": institution_id, "name": name, "endpoint": endpoint, "bucs": bucs, "certificates": certificate_pems}


def write(path: Path, entries: list[dict[str, object]]) -> None:
    parse(json.dumps({"institutions": entries}))  # refuse to write what could not be read
    path.write_text(json.dumps({"institutions": entries}, indent=2) + "\n", encoding="utf-8")
