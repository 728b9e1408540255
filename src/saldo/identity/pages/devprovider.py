"""The development eID provider: a small OpenID provider inside Saldo, for the demo and local work,
where anyone can log in as anyone. It is offered only with ``SALDO_DEV_LOGIN=true``, and every page
it shows says it is not a real identification.

It speaks the same protocol as a real provider (discovery, authorization code with S256 PKCE, token
endpoint with client authentication, signed ID token with nonce and acr), so Saldo's relying party
runs the one code path whichever provider a person uses. It keeps no state: the code is itself a
short-lived token signed with the development key, so several web workers can serve it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from starlette.datastructures import URL

from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.repository import payer_persons, sample_persons, staff_persons
from saldo.settings import OidcProviderSettings, Settings

PREFIX = "/dev-idp"
CLIENT_ID = "saldo-dev"
CODE_TTL_S = 120
ID_TOKEN_TTL_S = 300
PNR_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
ACR = {
    "substantial": "http://id.elegnamnden.se/loa/1.0/loa3",
    "high": "http://id.elegnamnden.se/loa/1.0/loa4",
    "low": "http://id.elegnamnden.se/loa/1.0/loa2",
}

DEV_PROVIDERS = {
    "dev": ("Development eID (demo only)", "citizen"),
    "dev-staff": ("Development eID for staff (demo only)", "staff"),
    "dev-payer": ("Development eID for payers (demo only)", "payer"),
}

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def dev_key(settings: Settings) -> str:
    """The development provider's secret (client secret and code key), made once in the data directory."""
    path: Path = settings.data_dir / "dev-login.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def dev_providers(settings: Settings, base_url: str) -> list[OidcProviderSettings]:
    """The development provider as one entry for citizens and one for staff, at this server's address."""
    issuer = base_url.rstrip("/") + PREFIX
    secret = dev_key(settings)
    return [
        OidcProviderSettings(
            name=name, label=label, issuer=issuer, client_id=CLIENT_ID, client_secret=secret, audience=audience
        )
        for name, (label, audience) in DEV_PROVIDERS.items()
    ]


def _issuer(request: Request) -> str:
    """The provider's address, from the configured one (never the request's Host header)."""
    settings: Settings = request.app.state.settings
    return settings.base_url + PREFIX


def _callbacks(request: Request) -> set[str]:
    """The only redirect URIs the development provider sends a code to: this Saldo's callbacks."""
    settings: Settings = request.app.state.settings
    return {f"{settings.base_url}/auth/callback/{name}" for name in DEV_PROVIDERS}


def _enabled(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.dev_login:
        raise HTTPException(404)
    return settings


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> JSONResponse:
    _enabled(request)
    issuer = _issuer(request)
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "acr_values_supported": list(ACR.values()),
            "claims_supported": ["sub", "name", "acr", PNR_CLAIM],
        }
    )


@router.get("/jwks")
def jwks(request: Request) -> JSONResponse:
    """No public keys: the ID token is signed with the client secret (HS256), as OIDC Core 10.1 allows."""
    _enabled(request)
    return JSONResponse({"keys": []})


@router.get("/authorize", response_class=HTMLResponse)
def authorize_page(request: Request, session: DbSession) -> HTMLResponse:
    """Pick or type who to be; the request's parameters ride along in hidden fields."""
    _enabled(request)
    params = dict(request.query_params)
    problem = _check_authorization(params, _callbacks(request))
    callback = URL(params.get("redirect_uri", "")).path
    staff = callback.endswith("/dev-staff")
    payer = callback.endswith("/dev-payer")
    persons: Sequence[tuple[Any, ...]]
    if staff:
        persons = staff_persons(session, 10)
    elif payer:
        persons = payer_persons(session, 10)
    else:
        persons = sample_persons(session, 8)
    context = {
        "params": {k: v for k, v in params.items() if k != "lang"},
        "problem": problem,
        "staff": staff or payer,
        "persons": persons,
    }
    return render(request, "identity/dev_login.html", context, status_code=400 if problem else 200)


@router.post("/authorize")
def authorize(
    request: Request,
    session: DbSession,
    personnummer: Annotated[str, Form(max_length=20)],
    loa: Annotated[str, Form(max_length=16)],
    name: Annotated[str, Form(max_length=200)] = "",
    client_id: Annotated[str, Form(max_length=64)] = "",
    redirect_uri: Annotated[str, Form(max_length=2000)] = "",
    state: Annotated[str, Form(max_length=200)] = "",
    nonce: Annotated[str, Form(max_length=200)] = "",
    code_challenge: Annotated[str, Form(max_length=128)] = "",
    code_challenge_method: Annotated[str, Form(max_length=8)] = "",
    response_type: Annotated[str, Form(max_length=16)] = "",
    scope: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    settings = _enabled(request)
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method,
        "response_type": response_type,
        "scope": scope,
    }
    problem = _check_authorization(params, _callbacks(request))
    if problem:
        raise HTTPException(400, problem)
    listed = {
        p[1]: p[2] for p in (*staff_persons(session, 10), *payer_persons(session, 10), *sample_persons(session, 8))
    }
    claims = {
        "sub": f"dev:{personnummer.strip()}",
        "pnr": personnummer.strip(),
        "name": name.strip() or listed.get(personnummer.strip(), personnummer.strip()),
        "acr": ACR.get(loa, ACR["low"]),
        "nonce": nonce,
        "cc": code_challenge,
        "ru": redirect_uri,
        "exp": int(time.time()) + CODE_TTL_S,
    }
    code = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(dev_key(settings)))
    return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=303)


@router.post("/token")
def token(
    request: Request,
    grant_type: Annotated[str, Form(max_length=64)],
    code: Annotated[str, Form(max_length=4000)],
    redirect_uri: Annotated[str, Form(max_length=2000)],
    code_verifier: Annotated[str, Form(max_length=128)] = "",
) -> JSONResponse:
    settings = _enabled(request)
    secret = dev_key(settings)
    auth = request.headers.get("authorization", "")
    if not _client_authenticated(auth, secret):
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    if grant_type != "authorization_code":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    key = OctKey.import_key(secret)
    try:
        granted = jwt.decode(code, key, algorithms=["HS256"]).claims
        jwt.JWTClaimsRegistry(exp={"essential": True}).validate(granted)
    except (JoseError, ValueError):
        return JSONResponse({"error": "invalid_grant", "error_description": "unknown or expired code"}, 400)
    if granted.get("ru") != redirect_uri:
        return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri differs"}, 400)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
    if not hmac.compare_digest(challenge, str(granted.get("cc", ""))):
        return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
    now = int(time.time())
    id_token = jwt.encode(
        {"alg": "HS256"},
        {
            "iss": _issuer(request),
            "aud": CLIENT_ID,
            "sub": granted["sub"],
            "iat": now,
            "exp": now + ID_TOKEN_TTL_S,
            "nonce": granted["nonce"],
            "acr": granted["acr"],
            "name": granted["name"],
            PNR_CLAIM: granted["pnr"],
        },
        key,
    )
    return JSONResponse(
        {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 60, "id_token": id_token},
        headers={"Cache-Control": "no-store"},
    )


def _client_authenticated(header: str, secret: str) -> bool:
    if not header.lower().startswith("basic "):
        return False
    try:
        client, _, given = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return client == CLIENT_ID and hmac.compare_digest(given, secret)


def _check_authorization(params: dict[str, str], callbacks: set[str]) -> str | None:
    """What is wrong with an authorization request, in words, or None."""
    if params.get("response_type") != "code":
        return "response_type must be code"
    if params.get("client_id") != CLIENT_ID:
        return f"unknown client_id {params.get('client_id')!r}"
    if params.get("redirect_uri", "") not in callbacks:  # exactly, as registered: no other host or path
        return "redirect_uri must be this Saldo's login callback"
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return "PKCE with S256 is required"
    if not params.get("state") or not params.get("nonce"):
        return "state and nonce are required"
    return None
