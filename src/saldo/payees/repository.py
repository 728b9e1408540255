from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from saldo.payees.models import Payee

PayeeKey = tuple[str, str]  # (id_scheme, canonical identifier)


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
        inserted = (
            insert(Payee)
            .values(id_scheme=id_scheme, identifier=identifier, kind=kind)
            .on_conflict_do_nothing(index_elements=["id_scheme", "identifier"])
            .returning(Payee.id)
            .cte("inserted")
        )
        existing = select(Payee.id).where(Payee.id_scheme == id_scheme, Payee.identifier == identifier)
        payee_id = self.session.scalar(select(inserted.c.id).union_all(existing).limit(1))
        assert payee_id is not None
        return int(payee_id)

    def get(self, payee_id: int) -> Payee | None:
        return self.session.get(Payee, payee_id)
