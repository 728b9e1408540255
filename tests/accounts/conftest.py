from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_bank, make_bank_token, make_payer, make_token


@pytest.fixture
def other_bank_token(session: Session) -> str:
    token = make_bank_token(session, make_bank(session, bic="NDEASESS", name="Nordea"))
    session.commit()
    return token


@pytest.fixture
def payer_token(session: Session) -> str:
    token = make_token(session, make_payer(session))
    session.commit()
    return token
