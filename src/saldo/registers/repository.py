from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import Connection as PgConnection
from sqlalchemy import Row, func, select, text, update
from sqlalchemy.orm import Session

from saldo.db.engine import driver_connection
from saldo.registers.models import RegisterKeeper, RegisterKeeperToken, RegisterKind, RegisterLoad

# Staging tables and the statements that apply them: constant SQL, the file's rows arrive by COPY.
_STAGE = {
    "population_register": (
        "person_scheme, person_id, sex, birth_date, death_date, emigration_date, immigration_date, household_id, "
        "street_address, postal_code, municipality_code, residence_permit_until, previous_id"
    ),
    "income_register": "person_scheme, person_id, employer_id, month, amount_minor",
    "representation_register": (
        "representative_scheme, representative_id, represented_scheme, represented_id, basis, valid_from, valid_until"
    ),
}
_REPLACE_REPRESENTATION = f"""
DELETE FROM representation_register;
INSERT INTO representation_register ({_STAGE["representation_register"]}, load_id)
SELECT {_STAGE["representation_register"]}, %(load)s FROM staging_representation_register
"""  # noqa: S608 — constant column lists
_REPLACE_POPULATION = f"""
DELETE FROM population_register;
INSERT INTO population_register ({_STAGE["population_register"]}, load_id)
SELECT {_STAGE["population_register"]}, %(load)s FROM staging_population_register
"""  # noqa: S608 — constant column lists
_UPSERT_INCOME = f"""
INSERT INTO income_register ({_STAGE["income_register"]}, load_id)
SELECT {_STAGE["income_register"]}, %(load)s FROM staging_income_register
ON CONFLICT (person_scheme, person_id, employer_id, month)
DO UPDATE SET amount_minor = EXCLUDED.amount_minor, load_id = EXCLUDED.load_id
"""  # noqa: S608 — constant column lists


_KEEPER_PRINCIPAL = text(
    "SELECT t.id, k.id, k.organisation_number, k.name, k.registers "
    "FROM register_keeper_tokens t JOIN register_keepers k ON k.id = t.keeper_id "
    "WHERE t.secret_sha256 = :secret AND t.revoked_at IS NULL"
)


class RegisterRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- keepers ---------------------------------------------------------------------------------

    def keeper_by_number(self, organisation_number: str) -> RegisterKeeper | None:
        return self.session.scalar(
            select(RegisterKeeper).where(RegisterKeeper.organisation_number == organisation_number)
        )

    def keepers(self) -> list[RegisterKeeper]:
        return list(self.session.scalars(select(RegisterKeeper).order_by(RegisterKeeper.id)))

    def add_keeper(self, keeper: RegisterKeeper) -> RegisterKeeper:
        self.session.add(keeper)
        self.session.flush()
        return keeper

    def add_keeper_token(self, token: RegisterKeeperToken) -> RegisterKeeperToken:
        self.session.add(token)
        self.session.flush()
        return token

    def revoke_keeper_token(self, token_id: int) -> bool:
        """Revoke an active token; whether there was one."""
        result = self.session.execute(
            update(RegisterKeeperToken)
            .where(RegisterKeeperToken.id == token_id, RegisterKeeperToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def active_keeper_principal(self, secret_sha256: bytes) -> Row[int, int, str, str, list[str]] | None:
        """(token id, keeper id, organisation number, name, registers) of an unrevoked token."""
        return self.session.execute(_KEEPER_PRINCIPAL, {"secret": secret_sha256}).first()

    def loads_by_actor_prefix(self, prefix: str, *, limit: int) -> list[RegisterLoad]:
        """Register loads recorded for actors starting with ``prefix``, newest first."""
        return list(
            self.session.scalars(
                select(RegisterLoad)
                .where(RegisterLoad.loaded_by.startswith(prefix, autoescape=True))
                .order_by(RegisterLoad.id.desc())
                .limit(limit)
            )
        )

    # --- loads -----------------------------------------------------------------------------------

    def lock_register(self, kind: RegisterKind) -> None:
        """Hold the register's load lock until the transaction ends: loads of one register run one at
        a time, so a file sent twice at once is loaded once and then found already loaded."""
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"register-load:{kind.value}"}
        )

    def load_by_digest(self, kind: RegisterKind, sha256: bytes) -> RegisterLoad | None:
        return self.session.scalar(
            select(RegisterLoad).where(RegisterLoad.kind == kind, RegisterLoad.content_sha256 == sha256)
        )

    def latest_loads(self) -> list[RegisterLoad]:
        return list(self.session.scalars(select(RegisterLoad).order_by(RegisterLoad.id.desc()).limit(50)))

    def add_load(self, load: RegisterLoad) -> RegisterLoad:
        self.session.add(load)
        self.session.flush()
        return load

    def _driver(self) -> PgConnection[Any]:
        return driver_connection(self.session)

    def stage(self, table: str, rows: pa.Table) -> None:
        """COPY ``rows`` (the columns of ``table`` in order) into a transaction-scoped staging table."""
        staging = f"staging_{table}"
        buffer = io.BytesIO()
        pacsv.write_csv(rows, buffer, write_options=pacsv.WriteOptions(include_header=False))
        with self._driver().cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {staging}")
            cursor.execute(
                f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "  # noqa: S608 — constant names
                f"SELECT {_STAGE[table]} FROM {table} WITH NO DATA"
            )
            with cursor.copy(f"COPY {staging} ({_STAGE[table]}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getbuffer())

    def replace_population(self, load_id: int) -> None:
        with self._driver().cursor() as cursor:
            for statement in _REPLACE_POPULATION.split(";"):
                cursor.execute(statement, {"load": load_id})
            cursor.execute("DROP TABLE staging_population_register")

    def replace_representations(self, load_id: int) -> None:
        with self._driver().cursor() as cursor:
            for statement in _REPLACE_REPRESENTATION.split(";"):
                cursor.execute(statement, {"load": load_id})
            cursor.execute("DROP TABLE staging_representation_register")

    def upsert_income(self, load_id: int) -> None:
        with self._driver().cursor() as cursor:
            cursor.execute(_UPSERT_INCOME, {"load": load_id})
            cursor.execute("DROP TABLE staging_income_register")

    def counts(self) -> dict[str, int]:
        with self._driver().cursor() as cursor:
            cursor.execute("SELECT (SELECT count(*) FROM population_register), (SELECT count(*) FROM income_register)")
            population, income = cursor.fetchone() or (0, 0)
        return {"population": int(population), "income": int(income)}
