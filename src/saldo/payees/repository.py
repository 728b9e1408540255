from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from saldo.payees.models import Payee

PayeeKey = tuple[str, str]  # (id_scheme, canonical identifier)


# The single-payment API runs these on every request: constant statements. Most payees exist
# already, so a lookup comes first and the insert only for a first payment.
_FIND_PAYEE = text("SELECT id FROM payees WHERE id_scheme = :id_scheme AND identifier = :identifier")
_INSERT_PAYEE = text(
    "INSERT INTO payees (id_scheme, identifier, kind) VALUES (:id_scheme, :identifier, :kind) "
    "ON CONFLICT (id_scheme, identifier) DO NOTHING RETURNING id"
)


class PayeeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure(self, rows: Sequence[tuple[str, str, str]]) -> dict[PayeeKey, int]:
        """Insert the (scheme, identifier, kind) rows that are new and return every row's id."""
        if not rows:
            return {}
        schemes = [r[0] for r in rows]
        identifiers = [r[1] for r in rows]
        kinds = [r[2] for r in rows]
        text_array = ARRAY(Text)
        incoming = select(
            func.unnest(cast(schemes, text_array)).label("id_scheme"),
            func.unnest(cast(identifiers, text_array)).label("identifier"),
            func.unnest(cast(kinds, text_array)).label("kind"),
        ).subquery()
        self.session.execute(
            insert(Payee)
            .from_select(["id_scheme", "identifier", "kind"], select(incoming))
            .on_conflict_do_nothing(index_elements=["id_scheme", "identifier"])
        )
        query = select(Payee.id, Payee.id_scheme, Payee.identifier).join(
            incoming, (Payee.id_scheme == incoming.c.id_scheme) & (Payee.identifier == incoming.c.identifier)
        )
        return {(str(s), i): pid for pid, s, i in self.session.execute(query)}

    def ensure_one(self, id_scheme: str, identifier: str, kind: str) -> int:
        """The id of one payee, inserting it first if new (one round trip)."""
        key = {"id_scheme": id_scheme, "identifier": identifier, "kind": kind}
        payee_id = self.session.scalar(_FIND_PAYEE, key) or self.session.scalar(_INSERT_PAYEE, key)
        if payee_id is None:
            # Another transaction inserted this payee while we waited on the conflict; the insert's
            # snapshot predates its commit, so look again with a new statement (READ COMMITTED).
            payee_id = self.session.scalar(_FIND_PAYEE, key)
        if payee_id is None:
            raise LookupError(f"payee {id_scheme}:{identifier} neither inserted nor found")
        return int(payee_id)
