"""SQL written once for both ways Saldo talks to PostgreSQL: psycopg's named parameters
(``%(name)s``), as the async fast paths send a statement, and the same text bound for SQLAlchemy
(``:name``), as the services do. A rule that both apply — whose token is this, is it revoked — is
then one string in its domain's repository, not two that can drift apart."""

from __future__ import annotations

import re

from sqlalchemy import TextClause, text

_NAMED = re.compile(r"%\((\w+)\)s")


def bound(sql: str) -> TextClause:
    """``sql`` with psycopg's ``%(name)s`` parameters as SQLAlchemy's ``:name``."""
    return text(_NAMED.sub(r":\1", sql))
