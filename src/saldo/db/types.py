"""Column types: timezone-aware UTC timestamps, StrEnum columns stored as checked text, and arrays of
a table's rows."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum
from sqlalchemy.types import TypeDecorator, UserDefinedType


class UtcDateTime(TypeDecorator[dt.datetime]):
    """``timestamptz`` that refuses naive datetimes and always returns UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; Saldo stores timezone-aware UTC timestamps only")
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return value.astimezone(dt.UTC) if value is not None else None


def str_enum(enum: type[StrEnum], name: str) -> Enum:
    """A StrEnum stored as its values in a VARCHAR with a CHECK constraint (no PostgreSQL ENUM type,
    so adding a value is a plain migration without ALTER TYPE)."""
    values: Any = [member.value for member in enum]
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class RowsOf(UserDefinedType[Any]):
    """An array of a table's own row type (``payments[]``): rows kept together in one value, which
    PostgreSQL compresses as a whole. The table's columns are the rows' fields, so a migration that
    changes one must rewrite these arrays (decision 0035). Read in SQL (``unnest``), never in Python."""

    cache_ok = True

    def __init__(self, table: str) -> None:
        self.table = table

    def get_col_spec(self, **_: Any) -> str:
        return f"{self.table}[]"
