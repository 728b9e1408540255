"""An applicable-legislation decision drafted from the LA_BUC it was reached in: what the SEDs
already say (the person, the country whose legislation applies, the period, the employer, the
country of work) is filled in, and what they do not say is named for the issuer to complete.

A posting (LA_BUC_04) is decided by the institution that sends the A009; a determination under
Article 13 (LA_BUC_02) by the one that sends the A003, provisionally until the other side accepts it
(A012) or lets it stand, and not while it disagrees (A004). A PDA1 is issued by the institution whose
legislation applies, so a draft is made only where that is this installation's country."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import ISSUE_CREDENTIALS
from saldo.credentials.errors import InvalidAttributesError
from saldo.credentials.schemas import DecisionDraft
from saldo.eessi.models import CrossBorderCase, CrossBorderDocument, DocumentStatus
from saldo.eessi.service import documents, get_case
from saldo.staff.models import Role

POSTED_EMPLOYED = "01"  # DC4EU status confirmation: posted employed person (Article 12)
SEVERAL_STATES = "02"  # employed in two or more states (Article 13)
COUNTED = (DocumentStatus.QUEUED, DocumentStatus.DELIVERED, DocumentStatus.ACCEPTED)


def decision_draft(session: Session, case_id: str, *, country: str) -> tuple[CrossBorderCase, DecisionDraft]:
    """The draft from the case's SEDs, or InvalidAttributesError saying why the case gives none."""
    case = get_case(session, case_id)
    if case.person_id is None or case.person_scheme is None:
        raise InvalidAttributesError(f"{case.case_id}: the case is not linked to a person yet; confirm who it is about")
    seds = [d for d in documents(session, case) if d.status in COUNTED]
    if case.buc_type == "LA_BUC_04":
        draft = _posting(case, seds)
    elif case.buc_type == "LA_BUC_02":
        draft = _determination(case, seds)
    else:
        raise InvalidAttributesError(
            f"{case.case_id} is a {case.buc_type}: a PDA1 is drafted from a posting (LA_BUC_04) or a "
            "determination (LA_BUC_02)"
        )
    if draft.legislation_country != country:
        raise InvalidAttributesError(
            f"{case.case_id}: the legislation of {draft.legislation_country} applies, so its institution issues "
            f"the PDA1, not this one ({country})"
        )
    return case, draft


def log_draft_read(session: Session, case: CrossBorderCase, *, actor: str, channel: str) -> None:
    """An issuer read what a case's SEDs say of the person to draft a decision: written to the
    access log, under the purpose of issuing credentials."""
    assert case.person_scheme is not None
    assert case.person_id is not None
    log_access(
        session,
        Access(
            actor=actor,
            role=Role.ISSUER.value,
            action="read_cross_border_case",
            purpose=ISSUE_CREDENTIALS,
            person_scheme=case.person_scheme,
            person_id=case.person_id,
            channel=channel,
            details={"cross_border_case": case.case_id},
        ),
    )


def _latest(seds: list[CrossBorderDocument], sed_type: str) -> CrossBorderDocument | None:
    found = [d for d in seds if d.sed_type == sed_type]
    return found[-1] if found else None


def _fields(document: CrossBorderDocument) -> dict[str, Any]:
    fields: dict[str, Any] = document.content.get("fields", {})
    return fields


def _posting(case: CrossBorderCase, seds: list[CrossBorderDocument]) -> DecisionDraft:
    a009 = _latest(seds, "A009")
    if a009 is None:
        raise InvalidAttributesError(f"{case.case_id}: no A009 in the case")
    fields = _fields(a009)
    country = a009.sender.split(":", 1)[0]
    return _draft(
        case,
        legislation_country=country,
        status_confirmation=POSTED_EMPLOYED,
        period=fields["period"],
        employer={"name": fields["employer"], "country": country},
        work_country=fields["countryWork"],
        standing="notified",
        sources=[a009],
    )


def _determination(case: CrossBorderCase, seds: list[CrossBorderDocument]) -> DecisionDraft:
    a003 = _latest(seds, "A003")
    if a003 is None:
        raise InvalidAttributesError(f"{case.case_id}: no A003 in the case")
    later = [d for d in seds if d.id > a003.id and d.sed_type in ("A004", "A012")]
    if later and later[-1].sed_type == "A004":
        raise InvalidAttributesError(
            f"{case.case_id}: the other institution disagrees with the determination (A004 {later[-1].document_id}); "
            "a PDA1 waits until it is settled"
        )
    fields = _fields(a003)
    standing = "accepted" if later else "provisional"
    return _draft(
        case,
        legislation_country=fields["legislationCountry"],
        status_confirmation=SEVERAL_STATES,
        period=fields["period"],
        employer={},
        work_country=None,
        standing=standing,
        sources=[a003, *later],
    )


def _draft(
    case: CrossBorderCase,
    *,
    legislation_country: str,
    status_confirmation: str,
    period: dict[str, str],
    employer: dict[str, str],
    work_country: str | None,
    standing: str,
    sources: list[CrossBorderDocument],
) -> DecisionDraft:
    work_address = {"country": work_country} if work_country else {}
    missing = [f"employer.{name}" for name in ("id", "name", "country") if name not in employer]
    missing += [f"work_address.{name}" for name in ("locality", "country") if name not in work_address]
    if not period.get("endDate"):
        missing.append("ending_date")
    return DecisionDraft.model_validate(
        {
            "person_scheme": case.person_scheme,
            "person_id": case.person_id,
            "legislation_country": legislation_country,
            "status_confirmation": status_confirmation,
            "starting_date": period["startDate"],
            "ending_date": period.get("endDate"),
            "employer": employer,
            "work_address": work_address,
            "eessi_case_id": case.case_id,
            "standing": standing,
            "sources": [f"{d.sed_type} {d.document_id}" for d in sources],
            "missing": missing,
        }
    )
