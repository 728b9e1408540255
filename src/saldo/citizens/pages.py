"""The citizen's pages: the overview, the change of account and the yearly statement. They work
without JavaScript; a caseworker acting for a citizen sees the same pages with a banner saying so."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from saldo.accounts.errors import AccountNotFoundError, DesignationRefusedError
from saldo.citizens.schemas import CitizenOverview, PaymentGroup
from saldo.citizens.service import (
    change_account,
    citizen_overview,
    overview_read,
    start_wallet_designation,
    wallet_designation,
)
from saldo.citizens.service.statement import statement_pdf
from saldo.credentials.pages import REASON_WORDS, RequestId
from saldo.credentials.service import verifier as verifying
from saldo.credentials.service.account_attestation import designation_trust
from saldo.db.replica import PRIMARY
from saldo.http import i18n
from saldo.http.deps import READ_FROM_HEADER, AppSettings, DbReads, DbSession
from saldo.http.rendering import render
from saldo.identity.http import CurrentCitizen, check_csrf
from saldo.kit.account_number import InvalidAccountError
from saldo.kit.clock import utcnow
from saldo.settings import Settings

router = APIRouter(include_in_schema=False)
Year = Annotated[int | None, Query(ge=1900, le=2200)]
NOT_PAID = frozenset({PaymentGroup.UPCOMING, PaymentGroup.HELD})


@router.get("/me", response_class=HTMLResponse)
async def overview_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentCitizen,
    year: Year = None,
    changed: bool = False,
) -> HTMLResponse:
    """Every public payment from every payer, the account they go to, checks and who looked.

    Async on purpose: its one statement (about 0.5 ms, all index reads) runs on the event loop, which
    costs less than the hop to a worker thread on Saldo's most-read page (docs/benchmarks.md)."""
    overview = citizen_overview(session, principal, year=year)
    if principal.assisted:
        session.commit()  # the caseworker's read is in the access log
    context = overview_context(overview, wallet_designation=settings.wallet_designation, changed=changed)
    page = render(request, "citizens/overview.html", context, principal=principal)
    page.headers[READ_FROM_HEADER] = PRIMARY.header()  # the fast path may read it on a replica (decision 0039)
    return page


def overview_context(
    overview: CitizenOverview, *, wallet_designation: bool, changed: bool = False, account_error: str | None = None
) -> dict[str, object]:
    """What the overview's template reads (this route, the change of account and the fast path): the
    payments on their way or held apart from those of the year that are done."""
    coming = [p for p in overview.payments if p.group in NOT_PAID]
    return {
        "overview": overview,
        "coming": coming,
        "done": [p for p in overview.payments if p.group not in NOT_PAID],
        "any_held": any(p.group is PaymentGroup.HELD for p in coming),
        "changed": changed,
        "account_error": account_error,
        "wallet_designation": wallet_designation,
    }


@router.post("/me/account", response_class=HTMLResponse)
def change_account_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentCitizen,
    account: Annotated[str, Form(max_length=80)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Designate one of the accounts the citizen holds; the reason is shown when it cannot be."""
    check_csrf(principal, csrf)
    scheme, _, number = account.partition(":")
    try:
        change_account(session, principal, account_scheme=scheme, account=number)
    except (DesignationRefusedError, AccountNotFoundError, InvalidAccountError, ValueError) as exc:
        session.rollback()
        overview = citizen_overview(session, principal)
        session.commit()
        context = overview_context(overview, wallet_designation=settings.wallet_designation, account_error=str(exc))
        return render(request, "citizens/overview.html", context, principal=principal, status_code=422)
    session.commit()
    return RedirectResponse("/me?changed=1#account", status_code=303)


@router.post("/me/account/wallet")
def start_wallet_designation_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentCitizen,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Ask the person's wallet for their PID and their bank's account attestation."""
    check_csrf(principal, csrf)
    designation_trust(settings)  # 404 when this installation does not offer the path
    try:
        asked = start_wallet_designation(session, principal)
    except DesignationRefusedError as exc:
        session.rollback()
        overview = citizen_overview(session, principal)
        session.commit()
        context = overview_context(overview, wallet_designation=True, account_error=str(exc))
        return render(request, "citizens/overview.html", context, principal=principal, status_code=422)
    session.commit()
    return RedirectResponse(f"/me/account/wallet/{asked.request_id}", status_code=303)


@router.get("/me/account/wallet/{request_id}/state")
def wallet_designation_state(request_id: RequestId, session: DbSession, principal: CurrentCitizen) -> JSONResponse:
    """Whether the wallet has answered (the waiting page asks, then shows the answer)."""
    asked = wallet_designation(session, principal, request_id)
    answered = asked.answered_at is not None
    expired = not answered and utcnow() >= asked.expires_at
    return JSONResponse({"answered": answered, "expired": expired}, headers={"Cache-Control": "no-store"})


@router.get("/me/account/wallet/{request_id}", response_class=HTMLResponse)
def wallet_designation_page(
    request_id: RequestId, request: Request, session: DbSession, settings: AppSettings, principal: CurrentCitizen
) -> Response:
    """The request as a QR code and a same-device link while the wallet has not answered; the
    account designated, or why not, once it has."""
    trust = designation_trust(settings)
    asked = wallet_designation(session, principal, request_id)
    context: dict[str, object] = {
        "asked": asked,
        "reason_words": REASON_WORDS,
        "expired": asked.answered_at is None and utcnow() >= asked.expires_at,
    }
    if asked.answered_at is None:
        same_device = verifying.request_url(trust.bank, asked)
        context["qr"] = segno.make(same_device, error="l").svg_data_uri(scale=4, border=2)
        context["link"] = same_device
    else:
        context["outcome"] = asked.outcome or {}
    page = render(request, "citizens/wallet_account.html", context, principal=principal)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/me/statement/{year}.pdf")
def statement(request: Request, session: DbSession, reads: DbReads, principal: CurrentCitizen, year: int) -> Response:
    """The year's statement of payments as a PDF, in the page's language; read from the replica
    when one is set and near enough (the header says where)."""
    if not 1900 <= year <= 2200:
        return Response("no such year", status_code=404, media_type="text/plain")
    overview, read_from = overview_read(session, principal, year=year, reads=reads)
    if principal.assisted:
        session.commit()
    language = i18n.choose_language(request)
    translations = i18n.translations(language)
    settings: Settings = request.app.state.settings
    pdf = statement_pdf(
        overview,
        authority=settings.authority_name,
        gettext=translations.gettext,
        money=lambda minor, currency: i18n.money(minor, currency, language),
        date=lambda value: i18n.date(value, language, "short"),
        language=language,
        benefit_name=lambda sv, en: sv if language == "sv" else en,
    )
    filename = f"saldo-statement-{year}.pdf"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', READ_FROM_HEADER: read_from.header()}
    return Response(pdf, media_type="application/pdf", headers=headers)
