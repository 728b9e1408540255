from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_payer, make_token


@pytest.fixture
def token(session: Session) -> str:
    """A committed payer (a municipality paying EKB, BB, FOB, SJP) and its API token."""
    payer = make_payer(session)
    token = make_token(session, payer)
    session.commit()
    return token
