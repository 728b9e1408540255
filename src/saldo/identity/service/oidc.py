"""An OpenID Connect relying party: authorization code flow with PKCE (RFC 7636), ID-token checks as
OpenID Connect Core 3.1.3.7 lists them, and the person's identifier and level of assurance taken from
the claims. HTTP goes through the ``httpx.AsyncClient`` the caller passes; nothing here reads the
database or the environment."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from saldo.kit.national_id import IdScheme, InvalidIdentifierError, normalize_identifier
from saldo.settings import OidcProviderSettings

DISCOVERY_TTL_S = 3600.0  # providers rotate keys with overlap; an hour-old key set is still valid
CLOCK_SKEW_S = 60  # tolerated between our clock and the provider's when checking exp and iat
LEVELS = ("substantial", "high")  # eIDAS levels that may see payment data (low may not)


class LoginFailedError(Exception):
    """The provider's answer cannot log anyone in; the message says why, without secrets."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """What one login sends and must find again: the state, nonce and PKCE verifier."""

    state: str
    nonce: str
    code_verifier: str

    @property
    def code_challenge(self) -> str:
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who the provider says logged in, after every check passed."""

    provider: str
    subject: str
    person_scheme: str
    person_id: str
    name: str
    loa: str


def new_login_request() -> LoginRequest:
    """Fresh random state, nonce and code verifier (43 characters: RFC 7636's minimum is 43)."""
    return LoginRequest(
        state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(48)
    )


_discovered: dict[str, tuple[float, ProviderMetadata, KeySet]] = {}


async def discover(http: httpx.AsyncClient, issuer: str) -> tuple[ProviderMetadata, KeySet]:
    """The provider's metadata and signing keys, read from its discovery document (cached an hour)."""
    cached = _discovered.get(issuer)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    base = issuer.rstrip("/")
    document = await _get_json(http, f"{base}/.well-known/openid-configuration", "discovery document")
    if str(document.get("issuer", "")).rstrip("/") != base:
        raise LoginFailedError(f"the discovery document names issuer {document.get('issuer')!r}, not {issuer!r}")
    try:
        metadata = ProviderMetadata(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            userinfo_endpoint=str(document["userinfo_endpoint"]) if document.get("userinfo_endpoint") else None,
        )
    except KeyError as exc:
        raise LoginFailedError(f"the discovery document has no {exc.args[0]}") from None
    keys = _key_set(await _get_json(http, metadata.jwks_uri, "key set"))
    _discovered[issuer] = (time.monotonic() + DISCOVERY_TTL_S, metadata, keys)
    return metadata, keys


def _key_set(document: dict[str, object]) -> KeySet:
    """The provider's public keys; none is allowed (a provider that signs ID tokens with the client
    secret, HS256, publishes none), a malformed set is not."""
    if document.get("keys") == []:
        return KeySet([])
    try:
        return KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise LoginFailedError(f"the provider's key set cannot be read ({exc})") from None


def forget_discovery() -> None:
    """Drop cached metadata (a provider rotated its keys, or tests start a new provider)."""
    _discovered.clear()


def authorization_url(
    metadata: ProviderMetadata, provider: OidcProviderSettings, request: LoginRequest, redirect_uri: str
) -> str:
    """Where the browser goes to log in: the code flow with S256 PKCE, state and nonce."""
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(provider.scopes),
        "state": request.state,
        "nonce": request.nonce,
        "code_challenge": request.code_challenge,
        "code_challenge_method": "S256",
    }
    if provider.loa:
        query["acr_values"] = " ".join(provider.loa)
    separator = "&" if "?" in metadata.authorization_endpoint else "?"
    return f"{metadata.authorization_endpoint}{separator}{urlencode(query)}"


async def complete_login(
    http: httpx.AsyncClient,
    provider: OidcProviderSettings,
    *,
    code: str,
    redirect_uri: str,
    nonce: str,
    code_verifier: str,
) -> VerifiedIdentity:
    """Exchange the code, check the ID token and read who logged in, at which level of assurance."""
    metadata, keys = await discover(http, str(provider.issuer))
    try:
        response = await http.post(
            metadata.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            auth=(provider.client_id, provider.client_secret),
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise LoginFailedError(f"the provider's token endpoint cannot be reached ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise LoginFailedError(f"the provider refused the code (HTTP {response.status_code}: {_error_of(response)})")
    tokens = response.json()
    if not isinstance(tokens, dict) or "id_token" not in tokens:
        raise LoginFailedError("the provider's token response has no ID token")
    claims = verify_id_token(str(tokens["id_token"]), metadata, keys, provider, nonce=nonce)
    if provider.identifier_claim not in claims and metadata.userinfo_endpoint and tokens.get("access_token"):
        userinfo = await _get_json(http, metadata.userinfo_endpoint, "userinfo", token=str(tokens["access_token"]))
        if userinfo.get("sub") != claims["sub"]:
            raise LoginFailedError("the userinfo answer is about another subject than the ID token")
        claims = {**userinfo, **claims}
    return identity_from(claims, provider)


def verify_id_token(
    id_token: str, metadata: ProviderMetadata, keys: KeySet, provider: OidcProviderSettings, *, nonce: str
) -> dict[str, object]:
    """The ID token's claims after checking its signature (the provider's keys, or the client secret
    for HS256), issuer, audience, authorised party, expiry, issue time and nonce."""
    try:
        header = jws.extract_compact(id_token.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeEncodeError) as exc:
        raise LoginFailedError(f"the ID token is not a JWT ({exc})") from None
    algorithm = str(header.get("alg", ""))
    if algorithm == "none" or not algorithm:
        raise LoginFailedError("the ID token is not signed")
    key: KeySet | OctKey = OctKey.import_key(provider.client_secret) if algorithm.startswith("HS") else keys
    try:
        token = jwt.decode(id_token, key, algorithms=[algorithm])
        jwt.JWTClaimsRegistry(
            now=int(time.time()),
            leeway=CLOCK_SKEW_S,
            iss={"essential": True, "value": metadata.issuer},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except JoseError as exc:
        raise LoginFailedError(f"the ID token does not check out: {exc.error}: {exc.description}") from None
    claims = dict(token.claims)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if provider.client_id not in audiences:
        raise LoginFailedError("the ID token is meant for another client")
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise LoginFailedError("the ID token has several audiences and another authorised party")
    return claims


def identity_from(claims: dict[str, object], provider: OidcProviderSettings) -> VerifiedIdentity:
    """The person and level of assurance in verified claims; low assurance or no identifier is refused."""
    acr = str(claims.get("acr", ""))
    loa = provider.loa.get(acr)
    if loa not in LEVELS:
        raise LoginFailedError(
            f"the login's level of assurance ({acr or 'none given'}) is below substantial; "
            "log in with an eID of level substantial or high"
        )
    raw = claims.get(provider.identifier_claim)
    if not isinstance(raw, str) or not raw:
        raise LoginFailedError(f"the provider did not give the person's identifier ({provider.identifier_claim})")
    try:
        scheme = IdScheme(provider.identifier_scheme)
        identifier = normalize_identifier(scheme, raw)
    except (ValueError, InvalidIdentifierError) as exc:
        raise LoginFailedError(f"the identifier the provider gave is not valid: {exc}") from None
    name = claims.get("name") or " ".join(str(claims.get(k, "")) for k in ("given_name", "family_name")).strip()
    return VerifiedIdentity(
        provider=provider.name,
        subject=str(claims["sub"]),
        person_scheme=scheme.value,
        person_id=identifier,
        name=str(name or identifier)[:200],
        loa=loa,
    )


async def _get_json(http: httpx.AsyncClient, url: str, what: str, *, token: str | None = None) -> dict[str, object]:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = await http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise LoginFailedError(f"the provider's {what} cannot be read ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise LoginFailedError(f"the provider's {what} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise LoginFailedError(f"the provider's {what} is not JSON") from None
    if not isinstance(body, dict):
        raise LoginFailedError(f"the provider's {what} is not a JSON object")
    return body


def _error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "no details"
    return str(body.get("error", "no details")) if isinstance(body, dict) else "no details"
