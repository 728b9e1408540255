from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.db.sql import bound

PayeeKey = tuple[str, str]  # (id_scheme, canonical identifier)


# A payee found, or created: one pair of statements, in psycopg's style, for the single-payment API
# (ensure_one, bound for SQLAlchemy) and the registration fast path's one statement
# (saldo.payments.repository), so both identify a payee alike. Most payees exist already, so the
# lookup comes first. CREATE_PAYEE inserts once for each row of ``wanted``, a name the statement it
# is put in defines (whether to create at all); a payee another transaction inserted meanwhile is
# left as it is.
FIND_PAYEE = "SELECT id FROM payees WHERE id_scheme = %(payee_scheme)s AND identifier = %(payee_identifier)s"
CREATE_PAYEE = (
    "INSERT INTO payees (id_scheme, identifier, kind) "
    "SELECT %(payee_scheme)s, %(payee_identifier)s, %(payee_kind)s FROM wanted "
    "ON CONFLICT (id_scheme, identifier) DO NOTHING RETURNING id"
)
_FIND_PAYEE = bound(FIND_PAYEE)
_INSERT_PAYEE = bound(f"WITH wanted AS (SELECT 1) {CREATE_PAYEE}")


_FIND_PAYEES = text(
    "SELECT p.id, p.id_scheme, p.identifier FROM payees p "
    "JOIN unnest(CAST(:schemes AS text[]), CAST(:identifiers AS text[])) AS k(id_scheme, identifier) "
    "ON p.id_scheme = k.id_scheme AND p.identifier = k.identifier"
)
_INSERT_PAYEES = text(
    "INSERT INTO payees (id_scheme, identifier, kind) "
    "SELECT * FROM unnest(CAST(:schemes AS text[]), CAST(:identifiers AS text[]), CAST(:kinds AS text[])) "
    "ON CONFLICT (id_scheme, identifier) DO NOTHING RETURNING id, id_scheme, identifier"
)


class PayeeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure(self, rows: Sequence[tuple[str, str, str]]) -> dict[PayeeKey, int]:
        """Ids of the (scheme, identifier, kind) rows, inserting those that are new.

        Looks up first and inserts only what is missing: in a nightly file nearly every payee exists
        already, and an INSERT ... ON CONFLICT costs a speculative insertion per row even then."""
        if not rows:
            return {}
        found = self._find([r[0] for r in rows], [r[1] for r in rows])
        missing = [r for r in rows if (r[0], r[1]) not in found]
        if missing:
            inserted = self.session.execute(
                _INSERT_PAYEES,
                {
                    "schemes": [r[0] for r in missing],
                    "identifiers": [r[1] for r in missing],
                    "kinds": [r[2] for r in missing],
                },
            )
            found.update({(scheme, identifier): pid for pid, scheme, identifier in inserted})
            raced = [r for r in missing if (r[0], r[1]) not in found]  # inserted meanwhile by another batch
            if raced:
                found.update(self._find([r[0] for r in raced], [r[1] for r in raced]))
        return found

    def _find(self, schemes: list[str], identifiers: list[str]) -> dict[PayeeKey, int]:
        rows = self.session.execute(_FIND_PAYEES, {"schemes": schemes, "identifiers": identifiers})
        return {(scheme, identifier): pid for pid, scheme, identifier in rows}

    def ensure_one(self, id_scheme: str, identifier: str, kind: str) -> int:
        """The id of one payee, inserting it first if new (one round trip)."""
        key = {"payee_scheme": id_scheme, "payee_identifier": identifier, "payee_kind": kind}
        payee_id = self.session.scalar(_FIND_PAYEE, key) or self.session.scalar(_INSERT_PAYEE, key)
        if payee_id is None:
            # Another transaction inserted this payee while we waited on the conflict; the insert's
            # snapshot predates its commit, so look again with a new statement (READ COMMITTED).
            payee_id = self.session.scalar(_FIND_PAYEE, key)
        if payee_id is None:
            raise LookupError(f"payee {id_scheme}:{identifier} neither inserted nor found")
        return int(payee_id)
