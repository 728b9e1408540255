from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin
from saldo.db.types import str_enum
from saldo.kit.national_id import IdKind, IdScheme


class Payee(IdMixin, CreatedAtMixin, Base):
    """The holder of a transaction account, known by a validated national identifier."""

    __tablename__ = "payees"
    __table_args__ = (UniqueConstraint("id_scheme", "identifier"),)

    id_scheme: Mapped[IdScheme] = mapped_column(str_enum(IdScheme, "id_scheme"))
    identifier: Mapped[str] = mapped_column(String(20))
    kind: Mapped[IdKind] = mapped_column(str_enum(IdKind, "kind"))
