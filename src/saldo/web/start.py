"""The start page (what is here and how to call it) and the health check. Both are public."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from saldo.accounts.service.query import register_overview
from saldo.banks.service import list_banks
from saldo.benefits.service import list_benefits
from saldo.db.engine import ping
from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.http import session_of
from saldo.mediation.service.reconcile import mediation_overview
from saldo.oversight.service.statistics import audit_overview
from saldo.payers.service import list_payers
from saldo.payments.service.query import registry_overview

router = APIRouter(tags=["public"])

# Routes anyone may call without a token. Every other route must depend on a token check
# (saldo.web.callers: each domain's http.py; tests/test_architecture.py holds every route to this).
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/health",
        "/openapi.json",
        "/docs",
        "/docs/assets/{name}",  # Swagger UI's own files (saldo.web.apidocs)
        "/static",
        "/login",
        "/eessi/as4",  # another node's AS4 message: authenticated by its signature, answered by a signed signal
        "/oots/as4",  # another country's evidence query or response: authenticated the same way
        "/login/{name}",
        "/auth/callback/{name}",
        # login with a foreign eID: the request goes out signed; the answer is authenticated by the
        # Connector's signature and names the request it answers; the metadata is for the Connector
        "/login/eidas",
        "/auth/saml/acs",
        "/auth/saml/metadata",
        # asking for more after a foreign login that matched no one: bound to the browser the login
        # landed in (its cookie), for fifteen minutes
        "/login/foreign/{login_id}",
        "/login/foreign/{login_id}/letter",
        "/login/foreign/{login_id}/code",
        # login with the wallet's PID: the request is bound to the browser that asked (its cookie)
        "/login/wallet",
        "/login/wallet/{request_id}",
        "/login/wallet/{request_id}/state",
        "/logout",
        # the credential issuer's metadata and OpenID4VCI steps, and the status lists: public by nature;
        # each protocol step is authenticated by what it carries (a pre-authorised code, a key proof)
        "/.well-known/openid-credential-issuer",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwt-vc-issuer",
        "/credentials/types/{kind}/schema.json",
        "/credentials/token",
        "/credentials/nonce",
        "/credentials/status/{list_id}",
        # the verifier: anyone checks a credential a holder chooses to present; a request's result is
        # reached by its random id, and the wallet's answer is authenticated by the request's state
        "/verifier",
        "/verifier/requests",
        "/verifier/requests/{request_id}",
        "/verifier/requests/{request_id}/state",
        "/verifier/response",
        "/verifier/paper",  # a paper credential's QR code: the credential itself is what it checks
    }
)
# The development eID provider (only with SALDO_DEV_LOGIN) is public by nature: it is the login.
PUBLIC_PREFIXES = ("/dev-idp/",)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def start_page(request: Request, session: DbSession) -> HTMLResponse:
    """What this Saldo holds and how a payer or a bank calls it."""
    context = {
        "overview": registry_overview(session),
        "payers": list_payers(session),
        "benefits": list_benefits(session),
        "banks": list_banks(session),
        "register": register_overview(session),
        "mediation": mediation_overview(session),
        "audit": audit_overview(session),
        "base_url": request.app.state.settings.base_url,
        "data_dir": str(request.app.state.settings.data_dir),
    }
    context["logged_out"] = request.query_params.get("logged_out") == "1"
    return render(request, "start.html", context, principal=session_of(request, session))


@router.get("/health", summary="Liveness and database reachability")
def health(session: DbSession) -> dict[str, str]:
    """``{"status": "ok"}`` when the application can reach its database."""
    ping(session)
    return {"status": "ok"}
