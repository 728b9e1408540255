"""Every answer carries the security headers; a Host Saldo does not serve is refused; the
development eID lives only alone, on this machine, and builds every address from the settings."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from saldo.app import UnsafeSettingsError, create_app
from saldo.settings import OidcProviderSettings, Settings
from tests.routes import api_routes
from tests.web_login import route_provider_calls_to

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _get_routes(app: FastAPI) -> list[str]:
    """Every GET route and page without path parameters: pages, API reads, the OpenAPI, the docs."""
    paths = [r.path for r in api_routes(app) if "GET" in r.methods and "{" not in r.path]
    return sorted({*paths, "/openapi.json", "/docs", "/static/saldo.css", "/no-such-page"})


def _assert_secured(response: object, path: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in HEADERS.items():
        assert headers.get(name) == value, (path, name, headers.get(name))
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, path
    assert "script-src 'self';" in csp, (path, csp)  # scripts from Saldo only, the API reference's too
    assert "http" not in csp, (path, csp)  # no third party on any page
    if path != "/docs":
        assert "unsafe-inline" not in csp, (path, csp)


def test_every_page_and_route_carries_the_security_headers(client: TestClient, app: FastAPI) -> None:
    paths = _get_routes(app)
    assert len(paths) > 30  # the pages, the API, the reference: a new route is covered the day it appears
    for path in paths:
        _assert_secured(client.get(path, follow_redirects=False), path)


def test_the_fast_paths_and_errors_carry_them_too(client: TestClient) -> None:
    for response, path in (
        (client.post("/api/v1/vop/checks", content=b"{}", headers={"Authorization": "Bearer nope"}), "vop"),
        (client.post("/api/v1/payments", content=b"not json"), "payments"),
        (client.put("/api/v1/webhook", json={"url": "x"}), "webhook"),
    ):
        assert response.status_code in (401, 422), response.text
        _assert_secured(response, path)


def test_hsts_only_when_saldo_is_reached_over_https(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings, engine=engine)) as plain:
        assert "strict-transport-security" not in plain.get("/").headers
    https = settings.model_copy(update={"public_url": "https://saldo.example.se"})
    with TestClient(create_app(https, engine=engine)) as secure:
        assert secure.get("/").headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_a_host_saldo_does_not_serve_is_refused(settings: Settings, engine: Engine) -> None:
    served = settings.model_copy(update={"public_url": "https://saldo.example.se", "allowed_hosts": []})
    assert served.served_hosts == ["saldo.example.se", "127.0.0.1", "localhost", "::1"]
    app = create_app(served, engine=engine)
    with TestClient(app, base_url="https://saldo.example.se") as client:
        assert client.get("/").status_code == 200
        forged = client.get("/", headers={"Host": "evil.example"})
        assert forged.status_code == 400
        assert forged.text == "Saldo is not served under this host name\n"
        _assert_secured(forged, "/")
        assert client.get("/", headers={"Host": "[::1]:8000"}).status_code == 200


class TestDevelopmentLogin:
    def test_it_refuses_to_start_beside_a_real_provider(self, settings: Settings, engine: Engine) -> None:
        real = OidcProviderSettings(
            name="bankid", label="BankID", issuer="https://idp.example.se", client_id="saldo", client_secret="s"
        )
        both = settings.model_copy(update={"dev_login": True, "oidc_providers": [real]})
        with pytest.raises(UnsafeSettingsError, match="cannot be on beside real eID providers"):
            create_app(both, engine=engine)

    def test_it_refuses_to_start_listening_beyond_this_machine(self, settings: Settings, engine: Engine) -> None:
        exposed = settings.model_copy(update={"dev_login": True, "host": "0.0.0.0"})
        with pytest.raises(UnsafeSettingsError, match=r"must listen on a loopback address, not 0\.0\.0\.0"):
            create_app(exposed, engine=engine)

    @pytest.fixture
    def dev(self, settings: Settings, engine: Engine) -> TestClient:
        changed = {"dev_login": True, "fast_path": False, "allowed_hosts": ["*"], "public_url": "http://127.0.0.1:8000"}
        app = create_app(settings.model_copy(update=changed), engine=engine)
        route_provider_calls_to(app)
        return TestClient(app)

    def test_its_addresses_come_from_the_settings_not_the_host_header(self, dev: TestClient) -> None:
        forged = {"Host": "attacker.example"}
        discovery = dev.get("/dev-idp/.well-known/openid-configuration", headers=forged).json()
        assert discovery["issuer"] == "http://127.0.0.1:8000/dev-idp"
        assert discovery["token_endpoint"] == "http://127.0.0.1:8000/dev-idp/token"
        start = dev.get("/login/dev", headers=forged, follow_redirects=False)
        params = dict(parse_qsl(urlsplit(start.headers["location"]).query))
        assert params["redirect_uri"] == "http://127.0.0.1:8000/auth/callback/dev"

    def test_it_sends_a_code_only_to_this_saldos_callback_exactly(self, dev: TestClient) -> None:
        start = dev.get("/login/dev", follow_redirects=False)
        params = dict(parse_qsl(urlsplit(start.headers["location"]).query))
        for elsewhere in (
            "https://attacker.example/auth/callback/dev",
            "http://127.0.0.1:8000/auth/callback/dev/../../steal",
            "http://127.0.0.1:8000/auth/callback/other",
            "http://127.0.0.1:8001/auth/callback/dev",
        ):
            answer = dev.post(
                "/dev-idp/authorize",
                data={**params, "redirect_uri": elsewhere, "personnummer": "198112289874", "loa": "high"},
                follow_redirects=False,
            )
            assert answer.status_code == 400, (elsewhere, answer.status_code)
            assert "location" not in answer.headers

    def test_cookies_are_secure_when_the_public_address_is_https(self, settings: Settings, engine: Engine) -> None:
        changed = {
            "dev_login": True,
            "fast_path": False,
            "public_url": "https://saldo.example.se",
            "allowed_hosts": ["*"],
        }
        app = create_app(settings.model_copy(update=changed), engine=engine)
        route_provider_calls_to(app)
        with TestClient(app) as client:
            start = client.get("/login/dev", follow_redirects=False)
        cookie = start.headers["set-cookie"]
        assert re.search(r"(?i);\s*secure", cookie), cookie


def test_the_api_reference_is_served_by_saldo_itself(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 4
    assert all(s.startswith("/") for s in sources), sources  # nothing from another host
    assert "<script>" not in page.text  # no inline script
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["content-type"].split(";")[0] in {"text/javascript", "text/css", "image/png"}, source
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/docs/assets/LICENSE").status_code == 404  # only the files the page uses
    assert client.get("/docs/assets/..%2F..%2F__init__.py").status_code == 404
