from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from saldo.app import create_app
from saldo.settings import Settings
from tests.web_login import route_provider_calls_to


@pytest.fixture
def web_app(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> FastAPI:
    """The production app with the development eID provider switched on, as the demo runs it."""
    app = create_app(settings.model_copy(update={"dev_login": True, "fast_path": False}), engine=engine)
    app.state.session_factory = sessions
    route_provider_calls_to(app)
    return app


@pytest.fixture
def browser(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app) as client:
        yield client
