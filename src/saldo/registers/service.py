"""Reading the population, income and representation registers into Saldo
(docs/formats/analysis-inputs.md).

A file is checked whole before anything is written; a file read before (same SHA-256) changes
nothing. The population and representation files are full extracts and replace the previous one;
the income file adds or corrects months."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from saldo.kit.data_categories import EXCLUDED_CATEGORIES
from saldo.kit.digest import sha256_of_file
from saldo.kit.national_id import IdScheme, InvalidIdentifierError, normalize_identifier
from saldo.kit.tabular import CheckedTable, Column, FileRejectedError, Kind, check_unique, fail_rows, read_checked_csv
from saldo.kit.tokens import hash_token, looks_like_token, new_token
from saldo.registers.errors import (
    InvalidKeeperError,
    InvalidKeeperTokenError,
    KeeperExistsError,
    NotTheKeeperError,
    UnknownKeeperError,
)
from saldo.registers.models import (
    RegisterKeeper,
    RegisterKeeperToken,
    RegisterKind,
    RegisterLoad,
    RepresentationBasis,
)
from saldo.registers.repository import RegisterRepository
from saldo.registers.schemas import IssuedKeeperToken, KeeperOut, KeeperPrincipal, RegisterLoaded, RegisterLoadOut

# Distinct from payer ("saldo_"), bank and staff tokens, so a leaked token says whose it is.
TOKEN_MARKER = "saldoreg_"  # noqa: S105 — a public marker, not a secret

PERSON_SCHEMES = frozenset({"se_personnummer", "se_samordningsnummer"})
POPULATION_COLUMNS = (
    Column("person_scheme", Kind.SCHEME),
    Column("person_id", Kind.IDENTIFIER, scheme_column="person_scheme"),
    Column("sex", Kind.CODE, choices=frozenset({"F", "M"})),
    Column("birth_date", Kind.DATE),
    Column("death_date", Kind.DATE, required=False),
    Column("emigration_date", Kind.DATE, required=False),
    Column("immigration_date", Kind.DATE, required=False),
    Column("household_id", Kind.INTEGER, required=False, minimum=0),
    Column("street_address", Kind.TEXT, required=False),
    Column("postal_code", Kind.TEXT, required=False, max_length=10),
    Column("municipality_code", Kind.TEXT, max_length=4),
    Column("residence_permit_until", Kind.DATE, required=False),
    Column("previous_id", Kind.TEXT, required=False, max_length=20),
)
INCOME_COLUMNS = (
    Column("person_scheme", Kind.SCHEME),
    Column("person_id", Kind.IDENTIFIER, scheme_column="person_scheme"),
    Column("employer_id", Kind.TEXT, max_length=20),
    Column("month", Kind.MONTH),
    Column("amount_minor", Kind.INTEGER, minimum=0),
)


REPRESENTATION_COLUMNS = (
    Column("representative_scheme", Kind.SCHEME),
    Column("representative_id", Kind.IDENTIFIER, scheme_column="representative_scheme"),
    Column("represented_scheme", Kind.SCHEME),
    Column("represented_id", Kind.IDENTIFIER, scheme_column="represented_scheme"),
    Column("basis", Kind.CODE, choices=frozenset(b.value for b in RepresentationBasis)),
    Column("valid_from", Kind.DATE),
    Column("valid_until", Kind.DATE, required=False),
)
COLUMNS = {
    RegisterKind.POPULATION: POPULATION_COLUMNS,
    RegisterKind.INCOME: INCOME_COLUMNS,
    RegisterKind.REPRESENTATION: REPRESENTATION_COLUMNS,
}
# One row per key in a file; the representation extract, like the population one, replaces the last.
UNIQUE_KEYS = {
    RegisterKind.POPULATION: ["person_scheme", "person_id"],
    RegisterKind.INCOME: ["person_scheme", "person_id", "employer_id", "month"],
    RegisterKind.REPRESENTATION: [
        "representative_scheme",
        "representative_id",
        "represented_scheme",
        "represented_id",
        "basis",
        "valid_from",
    ],
}


def load_register(
    session: Session, kind: RegisterKind, path: Path, *, loaded_by: str, filename: str | None = None
) -> RegisterLoaded:
    """Check and store one register file; raises FileRejectedError and stores nothing on any fault.
    ``filename`` is the name it is recorded by (default: the path's)."""
    name = filename or path.name
    repository = RegisterRepository(session)
    digest = sha256_of_file(path)
    repository.lock_register(kind)
    existing = repository.load_by_digest(kind, digest)
    if existing is not None:
        return RegisterLoaded(load_id=existing.id, kind=kind, rows=existing.rows, already_loaded=True)
    columns = COLUMNS[kind]
    checked = read_checked_csv(path, columns, refused=EXCLUDED_CATEGORIES)
    if checked.table.num_columns:  # the header was right: check across fields too
        _check_rows(kind, checked)
    if not checked.ok:
        raise FileRejectedError(name, checked.errors, checked.error_count)
    load = repository.add_load(
        RegisterLoad(kind=kind, filename=name, content_sha256=digest, rows=checked.rows, loaded_by=loaded_by)
    )
    if kind is RegisterKind.POPULATION:
        repository.stage("population_register", checked.table)
        repository.replace_population(load.id)
    elif kind is RegisterKind.REPRESENTATION:
        repository.stage("representation_register", checked.table)
        repository.replace_representations(load.id)
    else:
        repository.stage("income_register", checked.table)
        repository.upsert_income(load.id)
    return RegisterLoaded(load_id=load.id, kind=kind, rows=checked.rows, already_loaded=False)


def _check_rows(kind: RegisterKind, checked: CheckedTable) -> None:
    """Faults across columns: persons only, one row per key, dates in order."""
    table = checked.table
    persons = (
        ("representative_scheme", "represented_scheme") if kind is RegisterKind.REPRESENTATION else ("person_scheme",)
    )
    for column in persons:
        not_person = pc.invert(pc.is_in(table[column], value_set=pa.array(sorted(PERSON_SCHEMES))))
        fail_rows(checked, not_person, column, "a register names persons: se_personnummer or se_samordningsnummer")
    check_unique(checked, UNIQUE_KEYS[kind])
    if kind is RegisterKind.REPRESENTATION:
        backwards = pc.fill_null(pc.less(table["valid_until"], table["valid_from"]), False)
        fail_rows(checked, backwards, "valid_until", "before valid_from")
        same = pc.and_(
            pc.equal(table["representative_scheme"], table["represented_scheme"]),
            pc.equal(table["representative_id"], table["represented_id"]),
        )
        fail_rows(checked, same, "represented_id", "a person does not represent themself")
    if kind is RegisterKind.POPULATION:
        birth = table["birth_date"]
        for name in ("death_date", "emigration_date", "immigration_date"):
            early = pc.fill_null(pc.less(table[name], birth), False)
            fail_rows(checked, early, name, "before the birth date")


def load_register_as_keeper(
    session: Session, keeper: KeeperPrincipal, kind: RegisterKind, path: Path, *, filename: str
) -> RegisterLoaded:
    """A register file sent by its keeper (the API): refused unless the caller keeps that register."""
    if kind not in keeper.registers:
        kept = ", ".join(sorted(k.value for k in keeper.registers)) or "none"
        raise NotTheKeeperError(f"{keeper.name} does not keep the {kind.value} register (it keeps: {kept})")
    return load_register(session, kind, path, loaded_by=keeper.actor, filename=filename)


def keeper_loads(session: Session, keeper: KeeperPrincipal, *, limit: int = 100) -> list[RegisterLoadOut]:
    """The register files this keeper sent, newest first."""
    return [
        RegisterLoadOut(
            load_id=load.id,
            kind=load.kind,
            filename=load.filename,
            rows=load.rows,
            content_sha256=load.content_sha256.hex(),
            loaded_by=load.loaded_by,
            loaded_at=load.loaded_at,
        )
        for load in RegisterRepository(session).loads_by_actor_prefix(f"keeper:{keeper.keeper_id}:", limit=limit)
    ]


# --- register keepers --------------------------------------------------------------------------


def create_keeper(
    session: Session, *, organisation_number: str, name: str, registers: Sequence[RegisterKind]
) -> KeeperOut:
    """Connect the authority that keeps one or more registers, so it can send their extracts."""
    try:
        number = normalize_identifier(IdScheme.SE_ORGANISATIONSNUMMER, organisation_number.strip())
    except InvalidIdentifierError as exc:
        raise InvalidKeeperError(str(exc)) from None
    if not name.strip():
        raise InvalidKeeperError("a register keeper needs a name")
    if not registers:
        raise InvalidKeeperError("name at least one register it keeps: population, income or representation")
    repository = RegisterRepository(session)
    if repository.keeper_by_number(number) is not None:
        raise KeeperExistsError(f"a register keeper with organisation number {number} is already connected")
    kinds = sorted({RegisterKind(r).value for r in registers})
    keeper = repository.add_keeper(RegisterKeeper(organisation_number=number, name=name.strip(), registers=kinds))
    return KeeperOut.model_validate(keeper)


def list_keepers(session: Session) -> list[KeeperOut]:
    """Every connected register keeper."""
    return [KeeperOut.model_validate(k) for k in RegisterRepository(session).keepers()]


def issue_keeper_token(session: Session, *, organisation_number: str, label: str) -> IssuedKeeperToken:
    """Create an API token for a register keeper; the secret is returned once and stored only as a hash."""
    repository = RegisterRepository(session)
    keeper = repository.keeper_by_number(organisation_number.strip())
    if keeper is None:
        raise UnknownKeeperError(f"no register keeper has organisation number {organisation_number}")
    token, prefix = new_token(TOKEN_MARKER)
    row = repository.add_keeper_token(
        RegisterKeeperToken(keeper_id=keeper.id, label=label, prefix=prefix, secret_sha256=hash_token(token))
    )
    return IssuedKeeperToken(id=row.id, keeper_id=keeper.id, label=label, token=token)


def revoke_keeper_token(session: Session, token_id: int) -> None:
    """Revoke a register keeper's token: it is refused from now on."""
    if not RegisterRepository(session).revoke_keeper_token(token_id):
        raise UnknownKeeperError(f"no active register keeper token {token_id}")


def is_keeper_token(token: str) -> bool:
    """Whether a bearer token is a register keeper's (by its marker), before any lookup."""
    return looks_like_token(token, TOKEN_MARKER)


def authenticate_keeper(session: Session, token: str) -> KeeperPrincipal:
    """The register keeper a bearer token belongs to, or InvalidKeeperTokenError."""
    if not is_keeper_token(token):
        raise InvalidKeeperTokenError("malformed register keeper API token")
    found = RegisterRepository(session).active_keeper_principal(hash_token(token))
    if found is None:
        raise InvalidKeeperTokenError("unknown or revoked API token")
    token_id, keeper_id, number, name, registers = found
    return KeeperPrincipal(
        keeper_id=keeper_id,
        organisation_number=number,
        name=name,
        registers=frozenset(RegisterKind(r) for r in registers),
        token_id=token_id,
    )
