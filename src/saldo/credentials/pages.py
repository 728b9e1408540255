"""The verifier page an inspector or a hospital uses: ask for a PDA1 or an EHIC, show the request
as a QR code (or open the wallet on this device), and say plainly whether what the wallet presented
is valid, and if not why; only what the holder disclosed is shown, with the age of the status list
it was checked against. Open to anyone: the request's random id is what the result is reached by,
and the page is never cached."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from saldo.credentials import service
from saldo.credentials.errors import (
    CredentialError,
    CredentialNotFoundError,
    InvalidAttributesError,
    IssuanceError,
    StatusChangeError,
)
from saldo.credentials.models import Credential, CredentialState, CredentialType
from saldo.credentials.schemas import DecisionDraft, DecisionIn, IssueIn
from saldo.credentials.service import from_eessi, issuance, paper
from saldo.credentials.service import verifier as verifying
from saldo.credentials.service.verifier import verifier_from_settings
from saldo.eessi.errors import ExchangeError
from saldo.http import i18n
from saldo.http.deps import AppSettings, DbSession
from saldo.http.rendering import render
from saldo.identity.http import CurrentCitizen, CurrentStaffSession, check_csrf
from saldo.identity.schemas import SessionPrincipal
from saldo.identity.service import log_assisted_read
from saldo.kit.clock import today, utcnow
from saldo.kit.national_id import IdScheme
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(include_in_schema=False)
RequestId = Annotated[str, PathParameter(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
DocumentNumber = Annotated[str, PathParameter(max_length=40, pattern=r"^[A-Z]{2}-[A-Z0-9]{4}-[A-Z0-9]{1,30}$")]


def N_(message: str) -> str:  # noqa: N802 — gettext's marker: the page translates the text when shown
    return message


# why a presentation is not valid, in the words the inspector reads (docs/credentials.md lists the codes)
REASON_WORDS = {
    "too_large": N_("The presentation is too large to be a credential."),
    "malformed": N_("What the wallet sent is not a readable credential."),
    "malformed_disclosure": N_("A part of the credential has been altered or is not allowed."),
    "duplicate_disclosure": N_("A part of the credential was sent twice."),
    "duplicate_digest": N_("The credential is built wrongly: the issuer refers to the same part twice."),
    "unreferenced_disclosure": N_("A part of the credential has been altered: the issuer did not sign it."),
    "unsupported_algorithm": N_("The credential is signed in a way that is not accepted."),
    "wrong_type": N_("This is not a credential of the SD-JWT VC format."),
    "untrusted_issuer": N_("The issuer is not on the list of trusted issuers."),
    "bad_signature": N_("The issuer's signature does not match: the credential has been altered."),
    "wrong_vct": N_("This is not the kind of credential that was asked for."),
    "expired": N_("The credential has expired."),
    "not_yet_valid": N_("The credential is not valid yet."),
    "no_key_binding": N_("The wallet did not prove that the credential is its own."),
    "wrong_key_binding": N_("The credential was presented by a wallet it was not issued to."),
    "wrong_audience": N_("The presentation was made for another verifier."),
    "wrong_nonce": N_("The presentation answers another request: it may be a replay."),
    "stale_key_binding": N_("The presentation was not made just now: it may be a replay."),
    "wrong_sd_hash": N_("The presentation has been altered after the wallet made it."),
    "revoked": N_("The issuer has revoked the credential."),
    "suspended": N_("The issuer has suspended the credential."),
    "status_unknown": N_("Whether the credential has been revoked cannot be checked: no status list is at hand."),
    "status_list_invalid": N_("The issuer's status list cannot be trusted."),
    # a person designating their account with their PID and their bank's account attestation
    "claims_missing": N_(
        "The wallet did not share all that is needed: the account, its bank and holder, and who you are."
    ),
    "not_this_person": N_("The person identification data is another person's than the one logged in."),
    "holder_differs": N_("The bank's account holder is not the person of the identification data."),
    "account_refused": N_("The account cannot be used for your public payments."),
}
KIND_WORDS = {
    "pda1": N_("Portable Document A1 (which country's social security applies)"),
    "ehic": N_("European Health Insurance Card"),
}
CLAIM_WORDS = {
    "personal_administrative_number": N_("Personal identification number"),
    "document_number": N_("Document number"),
    "legislation_country": N_("Legislation applies of"),
    "status_confirmation": N_("Status confirmation"),
    "starting_date": N_("From"),
    "ending_date": N_("Until"),
    "employer": N_("Employer"),
    "work_address": N_("Place of work"),
    "issuing_authority": N_("Issued by"),
    "issuing_country": N_("Issuing country"),
    "authentic_source": N_("Competent institution"),
    "date_of_issuance": N_("Date of issue"),
    "date_of_expiry": N_("Date of expiry"),
}


def pdf_of(request: Request, session: DbSession, settings: Settings, credential: Credential, *, by: str) -> Response:
    """The credential on paper, in the request's language (with the claims' English names beside)."""
    issuer = service.issuer_from_settings(settings)
    service.record_printing(session, credential, by=by)
    language = i18n.choose_language(request)
    gettext = i18n.translations(language).gettext
    labels = {
        name: gettext(words) if language == "en" else f"{gettext(words)} / {words}"
        for name, words in CLAIM_WORDS.items()
    }
    document = paper.credential_pdf(
        credential,
        link=paper.check_link(issuer, paper.paper_credential(issuer, credential, now=utcnow())),
        authority=settings.authority_name,
        title=gettext(KIND_WORDS[credential.kind.value]),
        labels=labels,
        gettext=gettext,
        date=lambda value: i18n.date(value, language, "short"),
        language=language,
    )
    session.commit()
    filename = f"{credential.document_number}.pdf"
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/me/credentials/{document_number}.pdf")
def my_credential_pdf(
    document_number: DocumentNumber, request: Request, session: DbSession, principal: CurrentCitizen
) -> Response:
    """The person's own PDA1 or EHIC on paper (404 for anyone else's)."""
    person = principal.subject
    credential = service.find_credential(session, document_number)
    owner = (credential.person_scheme, credential.person_id) if credential else None
    if person is None or owner != (person.scheme, person.identifier):
        raise CredentialNotFoundError(f"no credential {document_number} of yours")
    assert credential is not None
    log_assisted_read(session, principal, action="print_credential", details={"credential": document_number})
    return pdf_of(request, session, request.app.state.settings, credential, by=principal.acted_by)


def _authorization(values: dict[str, str | None]) -> issuance.AuthorizationRequest:
    return issuance.authorization_request(
        response_type=values.get("response_type"),
        client_id=values.get("client_id"),
        redirect_uri=values.get("redirect_uri"),
        code_challenge=values.get("code_challenge"),
        code_challenge_method=values.get("code_challenge_method"),
        scope=values.get("scope"),
        state=values.get("state"),
    )


AUTHORIZATION_FIELDS = (
    "response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "scope", "state",
)  # fmt: skip


@router.get("/credentials/authorize", response_class=HTMLResponse)
def authorize_page(request: Request, session: DbSession, settings: AppSettings, principal: CurrentCitizen) -> Response:
    """OpenID4VCI authorisation code flow: the person, logged in with eID, chooses which of their
    credentials their wallet may fetch (or refuses)."""
    service.issuer_from_settings(settings)
    values = {name: request.query_params.get(name) for name in AUTHORIZATION_FIELDS}
    try:
        asked = _authorization(values)
    except IssuanceError as error:
        return render(
            request, "credentials/authorize.html", {"error": str(error)}, principal=principal, status_code=400
        )
    if principal.assisted:  # nothing of the person's is shown: only they send to their own wallet
        refusal = "a credential goes to the person's own wallet, not on their behalf"
        return render(request, "credentials/authorize.html", {"error": refusal}, principal=principal, status_code=403)
    person = principal.subject
    assert person is not None
    mine = [
        c
        for c in service.credentials_of(session, person.scheme, person.identifier)
        if c.kind is asked.kind and c.state is CredentialState.VALID
    ]
    context = {
        "asked": asked,
        "values": values,
        "credentials": mine,
        "kind_words": KIND_WORDS,
        "destination": urlsplit(asked.redirect_uri).netloc or urlsplit(asked.redirect_uri).scheme,
    }
    return render(request, "credentials/authorize.html", context, principal=principal)


@router.post("/credentials/authorize")
def authorize(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentCitizen,
    csrf: Annotated[str, Form()],
    decision: Annotated[str, Form(pattern="^(send|refuse)$")],
    document_number: Annotated[str | None, Form(max_length=40)] = None,
    response_type: Annotated[str | None, Form(max_length=20)] = None,
    client_id: Annotated[str | None, Form(max_length=200)] = None,
    redirect_uri: Annotated[str | None, Form(max_length=2000)] = None,
    code_challenge: Annotated[str | None, Form(max_length=128)] = None,
    code_challenge_method: Annotated[str | None, Form(max_length=10)] = None,
    scope: Annotated[str | None, Form(max_length=200)] = None,
    state: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """The person's answer: the wallet gets a code for the chosen credential, or access_denied."""
    check_csrf(principal, csrf)
    issuer = service.issuer_from_settings(settings)
    asked = _authorization(
        {
            "response_type": response_type, "client_id": client_id, "redirect_uri": redirect_uri,
            "code_challenge": code_challenge, "code_challenge_method": code_challenge_method, "scope": scope,
            "state": state,
        }
    )  # fmt: skip
    if decision == "refuse":
        return RedirectResponse(issuance.redirect_with(asked, {"error": "access_denied"}, issuer=issuer.url), 303)
    if principal.assisted:
        raise IssuanceError("access_denied", "a credential goes to the person's own wallet, not on their behalf")
    person = principal.subject
    credential = service.find_credential(session, document_number or "")
    owner = (credential.person_scheme, credential.person_id) if credential else None
    if person is None or credential is None or owner != (person.scheme, person.identifier):
        raise CredentialNotFoundError(f"no credential {document_number} of yours")
    target = issuance.grant_authorization(session, issuer, asked, credential, by="citizen", now=utcnow())
    session.commit()
    return RedirectResponse(target, status_code=303)


@router.get("/verifier/paper", response_class=HTMLResponse)
def paper_check(
    request: Request, session: DbSession, settings: AppSettings, c: Annotated[str, Query(max_length=16_384)] = ""
) -> Response:
    """A paper credential's QR code leads here: its signature, issuer and status checked, and what it
    says shown; who it is about is checked against the holder's identity document."""
    verifier = verifier_from_settings(settings)
    kinds = set(CredentialType)
    outcome = verifying.verify_presentation(session, verifier, c, kinds=kinds, nonce=None, now=utcnow())
    session.commit()  # a status list fetched is kept
    context = {
        "outcome": outcome,
        "reason_words": REASON_WORDS,
        "claim_words": CLAIM_WORDS,
        "statuses": _statuses(outcome),
        "minutes": lambda seconds: max(round(seconds / 60), 0),
    }
    page = render(request, "verifier/paper.html", context)
    page.headers["Cache-Control"] = "no-store"
    return page


def _statuses(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**s, "issued_at": dt.datetime.fromisoformat(s["issued_at"])} for s in outcome.get("status_lists", [])]


@router.get("/verifier", response_class=HTMLResponse)
def verifier_page(request: Request) -> HTMLResponse:
    """Choose what to check."""
    return render(request, "verifier/start.html", {"kinds": KIND_WORDS})


@router.post("/verifier/requests")
def new_request(session: DbSession, settings: AppSettings, kind: Annotated[CredentialType, Form()]) -> RedirectResponse:
    verifier_from_settings(settings)  # 404 when this installation verifies nothing
    created = verifying.start(session, kind, now=utcnow())
    session.commit()
    return RedirectResponse(f"/verifier/requests/{created.request_id}", status_code=303)


@router.get("/verifier/requests/{request_id}/state")
def request_state(request_id: RequestId, session: DbSession) -> JSONResponse:
    """Whether the wallet has answered (the waiting page asks, then shows the answer)."""
    asked = verifying.get_request(session, request_id)
    answered = asked.answered_at is not None
    expired = not answered and utcnow() >= asked.expires_at
    return JSONResponse({"answered": answered, "expired": expired}, headers={"Cache-Control": "no-store"})


@router.get("/verifier/requests/{request_id}", response_class=HTMLResponse)
def request_page(request_id: RequestId, request: Request, session: DbSession, settings: AppSettings) -> Response:
    """The QR code while the wallet has not answered; the answer once it has."""
    verifier = verifier_from_settings(settings)
    asked = verifying.get_request(session, request_id)
    now = utcnow()
    context: dict[str, object] = {
        "asked": asked,
        "kind_words": KIND_WORDS,
        "reason_words": REASON_WORDS,
        "claim_words": CLAIM_WORDS,
        "expired": asked.answered_at is None and now >= asked.expires_at,
        "minutes": lambda seconds: max(round(seconds / 60), 0),
    }
    if asked.answered_at is None:
        cross_device = verifying.request_url(verifier, asked)
        context["qr"] = segno.make(cross_device, error="l").svg_data_uri(scale=4, border=2)
        context["link"] = cross_device
        context["waiting_until"] = asked.expires_at
    else:
        context["outcome"] = asked.outcome or {}
        context["statuses"] = [
            {**s, "issued_at": dt.datetime.fromisoformat(s["issued_at"])}
            for s in (asked.outcome or {}).get("status_lists", [])
        ]
    page = render(request, "verifier/request.html", context)
    page.headers["Cache-Control"] = "no-store"
    return page


# --- the issuer's pages (staff with the issuer role, logged in with eID) ---------------------------

STATUS_CONFIRMATION_WORDS = {
    "01": N_("Posted employed person"),
    "02": N_("Employed in two or more states"),
    "03": N_("Posted self-employed person"),
    "04": N_("Self-employed in two or more states"),
    "05": N_("Civil servant"),
    "06": N_("Contract staff"),
    "07": N_("Mariner"),
    "08": N_("Employed and self-employed in different states"),
    "09": N_("Civil servant in one state, employed or self-employed in others"),
    "10": N_("Flight or cabin crew"),
    "11": N_("Exception"),
    "12": N_("Employed or self-employed in the state whose legislation applies"),
}


def _issuer_staff(principal: SessionPrincipal) -> str:
    staff = principal.as_staff()
    require_role(staff, Role.ISSUER)
    return staff.username


def _issuer_page(
    request: Request,
    session: DbSession,
    principal: SessionPrincipal,
    *,
    person: str = "",
    case: str = "",
    error: str | None = None,
) -> HTMLResponse:
    """The person's credentials (each read logged) and the forms to issue one; with ``case``, the
    PDA1 form filled in from that LA_BUC's SEDs (the read logged too)."""
    found: list[Credential] = []
    draft: DecisionDraft | None = None
    if case:
        try:
            country = service.issuer_from_settings(request.app.state.settings).country
            read, draft = from_eessi.decision_draft(session, case, country=country)
        except (CredentialError, ExchangeError) as problem:
            error = error or str(problem)
        else:
            from_eessi.log_draft_read(session, read, actor=principal.as_staff().username, channel="web")
            session.commit()
            person = draft.person_id
    if person:
        try:
            _, identifier = service.person_of(IdScheme.SE_PERSONNUMMER, person)
        except CredentialError as problem:
            error = error or str(problem)
        else:
            found = service.credentials_of(session, "se_personnummer", identifier)
            for credential in found:
                service.log_read(session, credential, actor=principal.as_staff().username, role="issuer", channel="web")
            session.commit()
    context = {
        "person": person,
        "case": case,
        "draft": draft,
        "found": found,
        "error": error,
        "kind_words": KIND_WORDS,
        "confirmations": STATUS_CONFIRMATION_WORDS,
        "today": today(),
    }
    return render(request, "staff/credentials.html", context, principal=principal, status_code=422 if error else 200)


@router.get("/staff/credentials", response_class=HTMLResponse)
def issuer_page(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    person: Annotated[str, Query(max_length=20)] = "",
    case: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """Look a person up by personal identity number, or start from an LA_BUC case; issue a PDA1 or
    an EHIC."""
    _issuer_staff(principal)
    return _issuer_page(request, session, principal, person=person.strip(), case=case.strip())


def _credential_page(
    request: Request,
    session: DbSession,
    principal: SessionPrincipal,
    credential: Credential,
    *,
    offer: issuance.Offer | None = None,
    error: str | None = None,
) -> HTMLResponse:
    service.log_read(session, credential, actor=principal.as_staff().username, role="issuer", channel="web")
    session.commit()
    context = {
        "credential": credential,
        "history": service.history(session, credential),
        "offer": offer,
        "offer_qr": segno.make(offer.uri, error="l").svg_data_uri(scale=3, border=2) if offer else None,
        "kind_words": KIND_WORDS,
        "claim_words": CLAIM_WORDS,
        "error": error,
    }
    return render(request, "staff/credential.html", context, principal=principal, status_code=422 if error else 200)


@router.post("/staff/credentials/issue", response_class=HTMLResponse)
async def issue_page(request: Request, session: DbSession, principal: CurrentStaffSession) -> Response:
    """Record the decision (a PDA1) and issue; the page then shows the wallet offer and its code."""
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    check_csrf(principal, fields.get("csrf"))
    by = _issuer_staff(principal)
    settings: Settings = request.app.state.settings
    person = fields.get("person", "").strip()
    try:
        issuer = service.issuer_from_settings(settings)
        now = utcnow()
        credential = _issue_from_fields(session, issuer, fields, by=by, now=now)
        offer = issuance.make_offer(session, issuer, credential, by=by, now=now)
    except (CredentialError, ValueError) as problem:
        session.rollback()
        return _issuer_page(request, session, principal, person=person, error=str(problem))
    session.commit()
    return _credential_page(request, session, principal, credential, offer=offer)


def _issue_from_fields(
    session: DbSession, issuer: service.Issuer, fields: dict[str, str], *, by: str, now: dt.datetime
) -> Credential:
    """The form's PDA1 (its decision recorded first) or EHIC, issued."""
    person = fields.get("person", "").strip()
    period = {"starting_date": fields.get("starting_date"), "ending_date": fields.get("ending_date")}
    try:
        if fields.get("kind") == "pda1":
            decision = DecisionIn.model_validate(
                {
                    "person_scheme": "se_personnummer",
                    "person_id": person,
                    "legislation_country": fields.get("legislation_country", "").upper(),
                    "status_confirmation": fields.get("status_confirmation"),
                    **period,
                    "employer": {
                        "id": fields.get("employer_id"),
                        "name": fields.get("employer_name"),
                        "country": fields.get("employer_country", "").upper(),
                    },
                    "work_address": {
                        "street_address": fields.get("street_address") or None,
                        "postal_code": fields.get("postal_code") or None,
                        "locality": fields.get("locality"),
                        "country": fields.get("work_country", "").upper(),
                    },
                    "eessi_case_id": fields.get("eessi_case_id") or None,
                }
            )
            recorded = service.record_decision(session, decision, by=by)
            asked = IssueIn(type=CredentialType.PDA1, decision_id=recorded.id)
        else:
            asked = IssueIn.model_validate(
                {"type": "ehic", "person_scheme": "se_personnummer", "person_id": person, **period}
            )
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidAttributesError(f"{where}: {first['msg']}" if where else str(first["msg"])) from None
    return service.issue(session, issuer, asked, by=by, now=now)


@router.get("/staff/credentials/{document_number}", response_class=HTMLResponse)
def credential_page(
    document_number: DocumentNumber, request: Request, session: DbSession, principal: CurrentStaffSession
) -> HTMLResponse:
    """One credential: what it says, its status and history, and what can be done with it."""
    _issuer_staff(principal)
    return _credential_page(request, session, principal, service.get_credential(session, document_number))


@router.get("/staff/credentials/{document_number}/pdf")
def credential_pdf_page(
    document_number: DocumentNumber, request: Request, session: DbSession, principal: CurrentStaffSession
) -> Response:
    by = _issuer_staff(principal)
    credential = service.get_credential(session, document_number)
    service.log_read(session, credential, actor=by, role="issuer", channel="web")
    return pdf_of(request, session, request.app.state.settings, credential, by=by)


@router.post("/staff/credentials/{document_number}/{action}", response_class=HTMLResponse)
def credential_action_page(
    document_number: DocumentNumber,
    action: Annotated[str, PathParameter(pattern="^(offer|suspend|reinstate|revoke)$")],
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    csrf: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """A new wallet offer (shown once), or a change of status with its reason."""
    check_csrf(principal, csrf)
    by = _issuer_staff(principal)
    credential = service.get_credential(session, document_number)
    offer = None
    try:
        if action == "offer":
            offer = issuance.make_offer(
                session, service.issuer_from_settings(request.app.state.settings), credential, by=by, now=utcnow()
            )
        else:
            if len(reason.strip()) < 3:
                raise StatusChangeError("say why, for the credential's history")
            to = {
                "suspend": CredentialState.SUSPENDED,
                "reinstate": CredentialState.VALID,
                "revoke": CredentialState.REVOKED,
            }[action]
            service.change_status(session, credential, to, reason=reason.strip(), by=by)
    except CredentialError as problem:
        session.rollback()
        return _credential_page(request, session, principal, credential, error=str(problem))
    session.commit()
    if offer is not None:
        return _credential_page(request, session, principal, credential, offer=offer)
    return RedirectResponse(f"/staff/credentials/{document_number}", status_code=303)
