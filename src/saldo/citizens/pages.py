"""The citizen's pages: the overview, the change of account and the yearly statement. They work
without JavaScript; a caseworker acting for a citizen sees the same pages with a banner saying so."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from saldo.accounts.errors import AccountNotFoundError, DesignationRefusedError
from saldo.citizens.service import change_account, citizen_overview
from saldo.citizens.service.statement import statement_pdf
from saldo.http import i18n
from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.http import CurrentCitizen, check_csrf
from saldo.kit.account_number import InvalidAccountError
from saldo.settings import Settings

router = APIRouter(include_in_schema=False)
Year = Annotated[int | None, Query(ge=1900, le=2200)]


@router.get("/me", response_class=HTMLResponse)
async def overview_page(
    request: Request, session: DbSession, principal: CurrentCitizen, year: Year = None, changed: bool = False
) -> HTMLResponse:
    """Every public payment from every payer, the account they go to, checks and who looked.

    Async on purpose: its one statement (about 0.5 ms, all index reads) runs on the event loop, which
    costs less than the hop to a worker thread on Saldo's most-read page (docs/benchmarks.md)."""
    overview = citizen_overview(session, principal, year=year)
    if principal.assisted:
        session.commit()  # the caseworker's read is in the access log
    context = {
        "overview": overview,
        "changed": changed,
        "account_error": None,
    }
    return render(request, "citizens/overview.html", context, principal=principal)


@router.post("/me/account", response_class=HTMLResponse)
def change_account_page(
    request: Request,
    session: DbSession,
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
        context = {
            "overview": overview,
            "changed": False,
            "account_error": str(exc),
        }
        return render(request, "citizens/overview.html", context, principal=principal, status_code=422)
    session.commit()
    return RedirectResponse("/me?changed=1#account", status_code=303)


@router.get("/me/statement/{year}.pdf")
def statement(request: Request, session: DbSession, principal: CurrentCitizen, year: int) -> Response:
    """The year's statement of payments as a PDF, in the page's language."""
    if not 1900 <= year <= 2200:
        return Response("no such year", status_code=404, media_type="text/plain")
    overview = citizen_overview(session, principal, year=year)
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
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
