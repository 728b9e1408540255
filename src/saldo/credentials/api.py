"""Credentials over HTTP: the issuer's metadata and OpenID4VCI endpoints a wallet talks to, the
status lists verifiers read (all public by nature: the protocol authenticates each step), and the
staff API to record decisions and issue, suspend, reinstate and revoke credentials."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, Response

from saldo.credentials import service
from saldo.credentials.errors import IssuanceError, PresentationRefusedError
from saldo.credentials.http import WalletToken
from saldo.credentials.models import Credential, CredentialState, CredentialType, RequestPurpose
from saldo.credentials.pages import DocumentNumber, pdf_of
from saldo.credentials.schemas import (
    CLAIMS_MODELS,
    CredentialDetail,
    CredentialOut,
    CredentialRequestIn,
    DecisionDraft,
    DecisionIn,
    DecisionOut,
    EventOut,
    IssuedOut,
    IssueIn,
    NonceOut,
    OfferOut,
    StatusChangeIn,
    TokenOut,
)
from saldo.credentials.service import account_attestation, from_eessi, issuance, pid_login
from saldo.credentials.service import verifier as verifying
from saldo.credentials.service.verifier import verifier_from_settings
from saldo.http.deps import AppSettings, DbSession, PathId
from saldo.kit import crash_points
from saldo.kit.clock import utcnow
from saldo.kit.problem import problem_responses
from saldo.staff.http import CurrentStaff
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import require_role

STATUS_LIST_TYPE = "application/statuslist+jwt"
NO_STORE = {"Cache-Control": "no-store"}

public_router = APIRouter(tags=["credentials: issuer and status lists"], responses=problem_responses(404, 422))
router = APIRouter(
    prefix="/api/v1/staff/credentials",
    tags=["staff: credentials"],
    responses=problem_responses(401, 403, 404, 409, 422),
)


def _oauth_error(error: IssuanceError) -> JSONResponse:
    if error.oauth_error == "invalid_token":
        headers = {**NO_STORE, "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{error}"'}
        return JSONResponse({"error": "invalid_token", "error_description": str(error)}, 401, headers=headers)
    return JSONResponse({"error": error.oauth_error, "error_description": str(error)}, 400, headers=NO_STORE)


@public_router.get("/.well-known/openid-credential-issuer", summary="OpenID4VCI credential issuer metadata")
def issuer_metadata(settings: AppSettings) -> dict[str, Any]:
    """Which credentials this installation issues (PDA1, EHIC as ``dc+sd-jwt``), and its endpoints."""
    return issuance.metadata(service.issuer_from_settings(settings))


@public_router.get("/.well-known/oauth-authorization-server", summary="OAuth authorisation server metadata")
def authorization_server_metadata(settings: AppSettings) -> dict[str, Any]:
    return issuance.authorization_server_metadata(service.issuer_from_settings(settings))


@public_router.get("/.well-known/jwt-vc-issuer", summary="SD-JWT VC issuer metadata (the signing key)")
def jwt_vc_issuer_metadata(settings: AppSettings) -> dict[str, Any]:
    return issuance.jwt_vc_issuer_metadata(service.issuer_from_settings(settings))


@public_router.get("/credentials/types/{kind}/schema.json", summary="A credential type's attribute schema")
def claims_schema(kind: CredentialType) -> dict[str, Any]:
    """The JSON schema every credential of the type is validated against before it is issued."""
    return CLAIMS_MODELS[kind].model_json_schema()


@public_router.post(
    "/credentials/token",
    response_model=TokenOut,
    summary="OpenID4VCI token endpoint (pre-authorised code, authorisation code with PKCE)",
    responses={400: {"description": "An OAuth error: invalid_grant, unsupported_grant_type"}},
)
def token(
    session: DbSession,
    grant_type: Annotated[str, Form(max_length=200)],
    pre_authorized_code: Annotated[str, Form(alias="pre-authorized_code", max_length=200)] = "",
    tx_code: Annotated[str | None, Form(max_length=20)] = None,
    code: Annotated[str, Form(max_length=200)] = "",
    code_verifier: Annotated[str | None, Form(max_length=200)] = None,
    redirect_uri: Annotated[str | None, Form(max_length=2000)] = None,
    client_id: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Trades the offer's pre-authorised code and the person's transaction code, or an authorisation
    code and its PKCE verifier (with the same client_id and redirect_uri), for an access token."""
    try:
        access_token, expires_in = issuance.redeem(
            session,
            grant_type=grant_type,
            code=pre_authorized_code or code,
            tx_code=tx_code,
            now=utcnow(),
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            client_id=client_id,
        )
    except IssuanceError as error:
        session.commit()  # a wrong transaction code counts against the offer
        return _oauth_error(error)
    session.commit()
    return JSONResponse(TokenOut(access_token=access_token, expires_in=expires_in).model_dump(), headers=NO_STORE)


@public_router.post("/credentials/nonce", response_model=NonceOut, summary="OpenID4VCI nonce endpoint")
def nonce(session: DbSession) -> Response:
    """A fresh c_nonce for the wallet's key proof, good once for five minutes."""
    value = issuance.new_nonce(session, now=utcnow())
    session.commit()
    return JSONResponse(NonceOut(c_nonce=value).model_dump(), headers=NO_STORE)


@public_router.post(
    "/credentials/credential",
    summary="OpenID4VCI credential endpoint",
    responses={
        200: {"description": '`{"credentials": [{"credential": "<SD-JWT VC>"}]}`, one per key proof'},
        400: {"description": "An OAuth error: invalid_proof, invalid_nonce, invalid_credential_request, …"},
        401: {"description": "invalid_token"},
    },
)
def credential(
    body: CredentialRequestIn, access_token: WalletToken, session: DbSession, settings: AppSettings
) -> Response:
    """The credential, signed and bound to the key each proof shows the wallet holds."""
    issuer = service.issuer_from_settings(settings)
    proofs = list((body.proofs or {}).get("jwt", []))
    if body.proof is not None:
        if body.proof.get("proof_type") != "jwt" or "jwt" not in body.proof:
            return _oauth_error(IssuanceError("invalid_proof", "only jwt key proofs are supported"))
        proofs.append(body.proof["jwt"])
    try:
        _, issued = issuance.collect(
            session,
            issuer,
            access_token=access_token,
            configuration=body.credential_configuration_id,
            proofs=proofs,
            now=utcnow(),
        )
    except IssuanceError as error:
        session.commit()  # nonces a proof used stay used
        return _oauth_error(error)
    crash_points.reach("credentials.before_commit_collected")
    session.commit()
    crash_points.reach("credentials.after_commit_collected")
    return JSONResponse({"credentials": [{"credential": c} for c in issued]}, headers=NO_STORE)


@public_router.get(
    "/credentials/status/{list_id}",
    summary="A token status list (statuslist+jwt)",
    responses={200: {"content": {STATUS_LIST_TYPE: {}}, "description": "The signed status list"}},
)
def status_list(list_id: PathId, session: DbSession, settings: AppSettings) -> Response:
    """Whether each credential pointing at this list is valid, suspended or revoked; cache it for its
    ``ttl``. Anyone may fetch it: it names no one."""
    issuer = service.issuer_from_settings(settings)
    token_text = service.status_list_token(session, issuer, list_id, now=utcnow())
    ttl = int(issuer.status_ttl.total_seconds())
    return Response(token_text, media_type=STATUS_LIST_TYPE, headers={"Cache-Control": f"public, max-age={ttl}"})


@public_router.post(
    "/verifier/response",
    summary="OpenID4VP direct_post: a wallet's answer to a verifier request",
    responses={
        400: {
            "description": "An OAuth-style error: the request is unknown, expired or answered, or vp_token is malformed"
        }
    },
)
def verifier_response(
    session: DbSession,
    settings: AppSettings,
    vp_token: Annotated[str, Form(max_length=256 * 1024)],
    state: Annotated[str, Form(max_length=64)],
) -> Response:
    """The wallet posts ``vp_token`` (``{"pda1": ["<presentation>"]}``, or for a person designating
    their account ``{"pid": […], "iban": […]}``) and the request's ``state``; the outcome (valid, or
    not and why; the account designated) is on the inspector's or the person's page at once."""
    now = utcnow()
    try:
        request = verifying.request_by_state(session, state)
        if request.purpose is RequestPurpose.DESIGNATE_ACCOUNT:
            account_attestation.answer(
                session, account_attestation.designation_trust(settings), request, vp_token=vp_token, now=now
            )
            crash_points.reach("credentials.before_commit_designation")
        elif request.purpose is RequestPurpose.LOG_IN:
            pid_login.answer(session, pid_login.pid_verifier(settings), request, vp_token=vp_token, now=now)
        else:
            verifying.answer(session, verifier_from_settings(settings), request, vp_token=vp_token, now=now)
    except PresentationRefusedError as error:
        session.commit()  # a malformed answer is the request's outcome too
        return JSONResponse({"error": "invalid_request", "error_description": str(error)}, 400, headers=NO_STORE)
    session.commit()
    return JSONResponse({}, headers=NO_STORE)


# --- staff ---------------------------------------------------------------------------------------


def _out(credential: Credential, settings: AppSettings) -> CredentialOut:
    issuer_url = settings.base_url
    return CredentialOut(
        document_number=credential.document_number,
        kind=credential.kind,
        vct=credential.vct,
        person_scheme=credential.person_scheme,
        person_id=credential.person_id,
        state=credential.state,
        valid_from=credential.valid_from,
        valid_until=credential.valid_until,
        claims=credential.claims,
        status_list=f"{issuer_url}/credentials/status/{credential.status_list_id}#{credential.status_index}",
        issued_by=credential.issued_by,
        issued_at=credential.issued_at,
        collections=credential.collections,
        collected_at=credential.collected_at,
    )


def _offer_out(offer: issuance.Offer) -> OfferOut:
    return OfferOut(
        credential_offer_uri=offer.uri, credential_offer=offer.body, tx_code=offer.tx_code, expires_at=offer.expires_at
    )


def _seen(session: DbSession, credential: Credential, staff: StaffPrincipal) -> None:
    service.log_read(session, credential, actor=staff.username, role=Role.ISSUER.value, channel="api")


@router.post(
    "/decisions", response_model=DecisionOut, status_code=201, summary="Record an applicable-legislation decision"
)
def record_decision(body: DecisionIn, staff: CurrentStaff, session: DbSession) -> DecisionOut:
    """Which country's legislation applies to a person working across borders, for a period: the
    decision a PDA1 certifies (issue it with ``POST /api/v1/staff/credentials``)."""
    require_role(staff, Role.ISSUER)
    decision = service.record_decision(session, body, by=staff.username)
    session.commit()
    return DecisionOut.model_validate(decision)


@router.get("/decisions/draft", response_model=DecisionDraft, summary="A decision drafted from an LA_BUC's SEDs")
def draft_decision(
    staff: CurrentStaff,
    session: DbSession,
    settings: AppSettings,
    eessi_case_id: Annotated[str, Query(min_length=1, max_length=64)],
) -> DecisionDraft:
    """What the posting (A009) or the determination (A003, and the A012 accepting it) of the case
    already say, and what the issuer must add (``missing``). Refused when the case decides nothing
    yet, is disputed (A004), or another country's legislation applies. The read is logged."""
    require_role(staff, Role.ISSUER)
    issuer = service.issuer_from_settings(settings)
    case, draft = from_eessi.decision_draft(session, eessi_case_id, country=issuer.country)
    from_eessi.log_draft_read(session, case, actor=staff.username, channel="api")
    session.commit()
    return draft


@router.get("/decisions/{decision_id}", response_model=DecisionOut, summary="One applicable-legislation decision")
def get_decision(decision_id: PathId, staff: CurrentStaff, session: DbSession) -> DecisionOut:
    require_role(staff, Role.ISSUER)
    return DecisionOut.model_validate(service.get_decision(session, decision_id))


@router.post("", response_model=IssuedOut, status_code=201, summary="Issue a PDA1 or an EHIC")
def issue(body: IssueIn, staff: CurrentStaff, session: DbSession, settings: AppSettings) -> IssuedOut:
    """Records the credential (its attributes validated against its type) with its status list
    entry, and makes the first offer for the person's wallet. The transaction code is in this
    answer only: tell it to the person apart from the offer."""
    require_role(staff, Role.ISSUER)
    issuer = service.issuer_from_settings(settings)
    now = utcnow()
    credential = service.issue(session, issuer, body, by=staff.username, now=now)
    offer = issuance.make_offer(session, issuer, credential, by=staff.username, now=now)
    session.commit()
    return IssuedOut(credential=_out(credential, settings), offer=_offer_out(offer))


@router.get("", response_model=list[CredentialOut], summary="A person's credentials, or the latest issued")
def list_credentials(
    staff: CurrentStaff,
    session: DbSession,
    settings: AppSettings,
    person_scheme: Annotated[str | None, Query(pattern=r"^[a-z_]{2,32}$")] = None,
    person_id: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CredentialOut]:
    """With a person: theirs (each read is logged); without: the latest issued."""
    require_role(staff, Role.ISSUER)
    if person_scheme and person_id:
        found = service.credentials_of(session, person_scheme, person_id)
    else:
        found = service.recent(session, limit=limit)
    for credential in found:
        _seen(session, credential, staff)
    session.commit()
    return [_out(c, settings) for c in found]


@router.get("/{document_number}", response_model=CredentialDetail, summary="One credential with its history")
def get_credential(
    document_number: DocumentNumber, staff: CurrentStaff, session: DbSession, settings: AppSettings
) -> CredentialDetail:
    require_role(staff, Role.ISSUER)
    credential = service.get_credential(session, document_number)
    _seen(session, credential, staff)
    session.commit()
    history = [EventOut.model_validate(e) for e in service.history(session, credential)]
    return CredentialDetail(**_out(credential, settings).model_dump(), history=history)


@router.get(
    "/{document_number}/pdf",
    summary="The credential on paper (PDF with a QR code)",
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}},
)
def credential_pdf(
    document_number: DocumentNumber, request: Request, staff: CurrentStaff, session: DbSession
) -> Response:
    """For a person without a wallet: what the credential says, and a QR code of the credential
    itself that any verifier checks (signature, issuer, status). Only a valid credential is printed."""
    require_role(staff, Role.ISSUER)
    credential = service.get_credential(session, document_number)
    _seen(session, credential, staff)
    return pdf_of(request, session, request.app.state.settings, credential, by=staff.username)


@router.post("/{document_number}/offers", response_model=OfferOut, status_code=201, summary="A new wallet offer")
def new_offer(
    document_number: DocumentNumber, staff: CurrentStaff, session: DbSession, settings: AppSettings
) -> OfferOut:
    """Another offer for the same credential (the first expired, or the person has a new wallet)."""
    require_role(staff, Role.ISSUER)
    issuer = service.issuer_from_settings(settings)
    credential = service.get_credential(session, document_number)
    offer = issuance.make_offer(session, issuer, credential, by=staff.username, now=utcnow())
    session.commit()
    return _offer_out(offer)


def _change(
    document_number: DocumentNumber,
    to: CredentialState,
    body: StatusChangeIn,
    staff: StaffPrincipal,
    session: DbSession,
    settings: AppSettings,
) -> CredentialOut:
    require_role(staff, Role.ISSUER)
    credential = service.get_credential(session, document_number)
    service.change_status(session, credential, to, reason=body.reason, by=staff.username)
    session.commit()
    return _out(credential, settings)


@router.post("/{document_number}/suspend", response_model=CredentialOut, summary="Suspend a credential")
def suspend(
    document_number: DocumentNumber,
    body: StatusChangeIn,
    staff: CurrentStaff,
    session: DbSession,
    settings: AppSettings,
) -> CredentialOut:
    """Verifiers see it suspended within the status list's ttl; it may be reinstated."""
    return _change(document_number, CredentialState.SUSPENDED, body, staff, session, settings)


@router.post("/{document_number}/reinstate", response_model=CredentialOut, summary="Reinstate a suspended credential")
def reinstate(
    document_number: DocumentNumber,
    body: StatusChangeIn,
    staff: CurrentStaff,
    session: DbSession,
    settings: AppSettings,
) -> CredentialOut:
    return _change(document_number, CredentialState.VALID, body, staff, session, settings)


@router.post("/{document_number}/revoke", response_model=CredentialOut, summary="Revoke a credential for good")
def revoke(
    document_number: DocumentNumber,
    body: StatusChangeIn,
    staff: CurrentStaff,
    session: DbSession,
    settings: AppSettings,
) -> CredentialOut:
    """The posting ended early, the card was replaced: verifiers see it revoked within the ttl."""
    return _change(document_number, CredentialState.REVOKED, body, staff, session, settings)
