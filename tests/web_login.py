"""Logging in through the development eID provider over real HTTP round trips in the app (the
relying party's calls to the provider go through the same ASGI app), as the demo does."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from saldo.identity.service.oidc import forget_discovery


def route_provider_calls_to(app: FastAPI) -> None:
    """The relying party reaches the in-app development provider without a listening socket."""
    forget_discovery()
    app.state.oidc_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def dev_login(
    client: httpx.Client, personnummer: str, *, loa: str = "substantial", provider: str = "dev", next: str = "/me"
) -> httpx.Response:
    """Log in as ``personnummer``; returns the callback's response (303 to ``next`` when it worked).
    ``client`` is a TestClient, or an httpx client of a Saldo serving on a socket."""
    start = client.get(f"/login/{provider}", params={"next": next}, follow_redirects=False)
    assert start.status_code == 303, start.text
    authorize = urlsplit(start.headers["location"])
    params = dict(parse_qsl(authorize.query))
    page = client.get(authorize.path, params=params)
    assert page.status_code == 200, page.text
    answer = client.post(
        "/dev-idp/authorize", data={**params, "personnummer": personnummer, "loa": loa}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    back = urlsplit(answer.headers["location"])
    return client.get(back.path, params=dict(parse_qsl(back.query)), follow_redirects=False)


def csrf_of(page: str) -> str:
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def start_assisting(client: TestClient, personnummer: str, purpose: str) -> httpx.Response:
    """A logged-in caseworker chooses the citizen to serve, with the purpose (the assisted channel);
    returns the form's response (303 when it was taken)."""
    form = client.get("/staff/assist")
    return client.post(
        "/staff/assist",
        data={"personnummer": personnummer, "purpose": purpose, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
