"""Oversight for staff: the rules with their measured precision and their mode (shadow, retired),
the fairness report, the statistics per payer and rule, the access log and webhook health."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParameter

from saldo.accesslog.service import entries, verify_chain
from saldo.accesslog.service.purposes import PURPOSES
from saldo.analysis.service.modes import mode_history, rule_states, set_rule_mode
from saldo.http.deps import MAX_ID, AppSettings, DbSession
from saldo.kit.problem import LINE_PATTERN, problem_responses
from saldo.messages.service import webhook_health
from saldo.oversight.schemas import (
    AccessEntryOut,
    FairnessOut,
    ModeChangeOut,
    ModeIn,
    PurposeOut,
    RuleOut,
    VerificationOut,
)
from saldo.oversight.service.fairness import fairness_report
from saldo.oversight.service.precision import rule_precision
from saldo.oversight.service.statistics import PayerRuleStatistics, payer_rule_statistics
from saldo.staff.http import CurrentStaff
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(
    prefix="/api/v1/staff", tags=["staff: oversight"], responses=problem_responses(401, 403, 404, 409, 422)
)
READERS = (Role.ANALYST, Role.AUDITOR, Role.SUPERVISOR)
RuleId = Annotated[str, PathParameter(max_length=64, pattern=LINE_PATTERN)]


@router.get("/rules", response_model=list[RuleOut], summary="Rules: mode and measured precision")
def get_rules(staff: CurrentStaff, session: DbSession, settings: AppSettings) -> list[RuleOut]:
    require_role(staff, *READERS)
    precision = {p.rule_id: p for p in rule_precision(session, prior_weight=settings.precision_prior_weight)}
    return [
        RuleOut(
            rule_id=s.rule_id,
            version=s.version,
            mode=s.mode,
            reason=s.reason,
            changed_by=s.changed_by,
            prior_precision=precision[s.rule_id].prior,
            notified=precision[s.rule_id].notified,
            decided=precision[s.rule_id].decided,
            confirmed=precision[s.rule_id].confirmed,
            precision=precision[s.rule_id].measured,
            precision_low=precision[s.rule_id].low,
            precision_high=precision[s.rule_id].high,
            selection_precision=precision[s.rule_id].weighted,
        )
        for s in rule_states(session)
    ]


@router.post("/rules/{rule_id}/mode", response_model=ModeChangeOut, status_code=201, summary="Change a rule's mode")
def put_mode(rule_id: RuleId, body: ModeIn, staff: CurrentStaff, session: DbSession) -> ModeChangeOut:
    """Shadow mode (runs and is measured, reaches no triage), retired (does not run) or active again,
    with the reason. Supervisor."""
    require_role(staff, Role.SUPERVISOR)
    change = set_rule_mode(session, rule_id=rule_id, mode=body.mode, reason=body.reason, changed_by=staff.username)
    session.commit()
    return ModeChangeOut.model_validate(change)


@router.get("/rules/{rule_id}/modes", response_model=list[ModeChangeOut], summary="A rule's mode history")
def get_modes(rule_id: RuleId, staff: CurrentStaff, session: DbSession) -> list[ModeChangeOut]:
    require_role(staff, *READERS)
    return [ModeChangeOut.model_validate(c) for c in mode_history(session, rule_id)]


@router.get("/fairness", response_model=FairnessOut, summary="The fairness report of an analysis run")
def get_fairness(
    staff: CurrentStaff,
    session: DbSession,
    settings: AppSettings,
    run_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> FairnessOut:
    """Flag rate, case rate and precision by age band, sex and region, per rule, with the disparity
    ratios and the alerts past SALDO_FAIRNESS_DISPARITY_THRESHOLD."""
    require_role(staff, *READERS)
    report = fairness_report(
        session,
        run_id=run_id,
        threshold=settings.fairness_disparity_threshold,
        min_flagged=settings.fairness_min_flagged,
    )
    return FairnessOut(
        run_id=report.run_id,
        threshold=report.threshold,
        min_flagged=report.min_flagged,
        alerts=[a.text for a in report.alerts],
        groups=report.groups,
    )


@router.get("/statistics", response_model=list[PayerRuleStatistics], summary="Statistics per payer and rule")
def get_statistics(staff: CurrentStaff, session: DbSession, settings: AppSettings) -> list[PayerRuleStatistics]:
    """Notifications, outcomes, amounts stopped and claimed, median days to an outcome, and the
    handling cost (SALDO_HANDLING_COST_MINOR per notification) against them. Supervisor."""
    require_role(staff, Role.SUPERVISOR)
    return payer_rule_statistics(session, handling_cost_minor=settings.handling_cost_minor)


@router.get("/purposes", response_model=list[PurposeOut], summary="The published purposes of access")
def get_purposes(staff: CurrentStaff) -> list[PurposeOut]:
    """The purposes for which staff may see a person's data, each with the accesses it covers. A
    purpose given elsewhere is one of these codes or a sentence saying why. Any member of staff."""
    return [
        PurposeOut(code=p.code, text=p.text, covers=sorted(p.covers), needs_role=p.needs_role)
        for p in PURPOSES.values()
    ]


@router.get("/access-log", response_model=list[AccessEntryOut], summary="Query the access log")
def get_access_log(
    staff: CurrentStaff,
    session: DbSession,
    person_scheme: Annotated[str | None, Query(max_length=32, pattern=LINE_PATTERN)] = None,
    person_id: Annotated[str | None, Query(max_length=20, pattern=LINE_PATTERN)] = None,
    actor: Annotated[str | None, Query(max_length=100, pattern=LINE_PATTERN)] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[a-z_]+$",
            description="e.g. read_case_without_role: the reads of staff with no role on the case, to review.",
        ),
    ] = None,
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after_seq: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AccessEntryOut]:
    """Who read whose data, when and why. Log auditor."""
    require_role(staff, Role.LOG_AUDITOR)
    person = (person_scheme, person_id) if person_scheme and person_id else None
    found = entries(
        session,
        person=person,
        actor=actor,
        action=action,
        case_id=case_id,
        since=since,
        until=until,
        after_seq=after_seq,
        limit=limit,
    )
    return [AccessEntryOut.model_validate({**_columns(e), "hash": e.hash.hex()}) for e in found]


def _columns(entry: Any) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in AccessEntryOut.model_fields if k != "hash"}


@router.post("/access-log/verification", response_model=VerificationOut, summary="Verify the access log's chain")
def verify(
    request: Request,
    staff: CurrentStaff,
    anchor_seq: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    anchor_hash: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
) -> VerificationOut:
    """Recompute every entry's hash and check every link; with an anchor published earlier, also
    that nothing up to it was rewritten. Log auditor."""
    require_role(staff, Role.LOG_AUDITOR)
    anchor = (anchor_seq, bytes.fromhex(anchor_hash)) if anchor_seq is not None and anchor_hash else None
    started = time.perf_counter()
    result = verify_chain(request.app.state.engine, anchor=anchor)
    return VerificationOut(
        entries=result.entries,
        head_seq=result.head_seq,
        head_hash=result.head_hash.hex(),
        intact=result.intact,
        faults=result.faults,
        seconds=round(time.perf_counter() - started, 3),
    )


@router.get("/webhooks", response_model=list[dict[str, Any]], summary="Webhook health per payer")
def get_webhooks(staff: CurrentStaff, session: DbSession) -> list[dict[str, Any]]:
    """Pending messages, the oldest pending, and failing webhooks with their last error. Supervisor."""
    require_role(staff, Role.SUPERVISOR)
    return webhook_health(session)
