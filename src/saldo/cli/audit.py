"""``saldo audit``: triage, cases, notifications, rule modes, precision, fairness, statistics, the
access log, reminders and webhook delivery. Commands that act on people's data take ``--as``: the
staff member acting, whose roles are checked and who is written to the access log."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal

import typer

from saldo.analysis.models import RuleMode
from saldo.cli.context import cli_context, console, fail
from saldo.kit.problem import ProblemError

app = typer.Typer(
    help="Audit: triage, cases, notifications, precision, fairness, the access log.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
AS = typer.Option(..., "--as", help="Username of the staff member acting (roles checked, access logged).")
FAULTS = (ProblemError, ValueError)  # a declared error of any domain: its message, and exit 1


@app.command("triage")
def triage(ctx: typer.Context, acting: str = AS, limit: int = typer.Option(20, min=1, max=500)) -> None:
    """The selected findings nobody has reviewed yet (pseudonymous), highest expected value first."""
    from saldo.cases.service import triage_queue
    from saldo.kit.money import Money
    from saldo.staff.service import principal_of

    try:
        with cli_context(ctx).sessions() as session:
            queue = triage_queue(session, principal_of(session, acting), limit=limit)
            for f in queue:
                amount = Money(f.amount_at_risk_minor, f.currency).format()
                console.print(f"finding {f.id}  {f.rule_id}  {amount}  subject {f.subject_key[:12]}…  {f.reason_en}")
    except FAULTS as exc:
        raise fail(str(exc)) from None


@app.command("open")
def open_(
    ctx: typer.Context,
    finding: list[int] = typer.Argument(..., help="Finding ids about one subject."),
    purpose: str = typer.Option(
        "suspected_error", help="Why the subject is re-identified (logged): suspected_error or a sentence."
    ),
    acting: str = AS,
) -> None:
    """Open a case: re-identify the persons behind the findings' payments, logged with the purpose."""
    from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
    from saldo.cases.service import open_case
    from saldo.db.engine import unit_of_work
    from saldo.staff.service import principal_of

    context = cli_context(ctx)
    pseudonyms = Pseudonymiser(load_or_create_key(context.settings.pseudonym_key_path))
    try:
        with unit_of_work(context.sessions) as session:
            case = open_case(
                session, principal_of(session, acting), pseudonyms, finding_ids=finding, purpose=purpose, channel="cli"
            )
            reference, case_id = case.reference, case.id
    except FAULTS as exc:
        raise fail(str(exc)) from None
    console.print(f"opened case {case_id} ({reference})")


@app.command("dismiss")
def dismiss(
    ctx: typer.Context, finding: int = typer.Argument(...), reason: str = typer.Option(...), acting: str = AS
) -> None:
    """Dismiss a finding with a reason; nobody is re-identified."""
    from saldo.cases.service import dismiss_finding
    from saldo.db.engine import unit_of_work
    from saldo.staff.service import principal_of

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            dismiss_finding(session, principal_of(session, acting), finding_id=finding, reason=reason)
    except FAULTS as exc:
        raise fail(str(exc)) from None
    console.print(f"dismissed finding {finding}")


@app.command("show")
def show(
    ctx: typer.Context,
    case: int = typer.Argument(...),
    purpose: str | None = typer.Option(
        None,
        help="Why the case is read (logged): a published purpose (saldo audit purposes) or a sentence. "
        "Needed unless the case is assigned to you or you opened it.",
    ),
    acting: str = AS,
) -> None:
    """A case with who it is about, its payments and its history (the read is logged)."""
    from saldo.cases.service import read_case
    from saldo.db.engine import unit_of_work
    from saldo.kit.money import Money
    from saldo.staff.service import principal_of

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            view = read_case(session, principal_of(session, acting), case, purpose=purpose, channel="cli")
            console.print(f"case {view.case.reference}: {view.case.status.value}, rule {view.case.rule_id}")
            for person in view.persons:
                console.print(
                    f"  person {person.person_scheme} {person.person_id}{' (subject)' if person.subject else ''}"
                )
            for payment in view.payments:
                amount = Money(int(payment["amount_minor"]), str(payment["currency"])).format()
                console.print(f"  payment {payment['payment_id']} by payer {payment['payer_id']}: {amount}")
            for event in view.events:
                console.print(f"  {event.at:%Y-%m-%d %H:%M} {event.kind.value} by {event.actor}: {event.body}")
    except FAULTS as exc:
        raise fail(str(exc)) from None


@app.command("purposes")
def purposes() -> None:
    """The published purposes for which staff may see a person's data, with what each covers."""
    from saldo.accesslog.service.purposes import PURPOSES

    for purpose in PURPOSES.values():
        covers = ", ".join(sorted(purpose.covers)) + ("; assigned or opener only" if purpose.needs_role else "")
        console.print(f"{purpose.code}: {purpose.text} (covers {covers})")


@app.command("notify")
def notify(
    ctx: typer.Context, case: int = typer.Argument(...), summary: str = typer.Option(...), acting: str = AS
) -> None:
    """Notify the payers whose payments the case is about (feed and webhook)."""
    from saldo.db.engine import unit_of_work
    from saldo.notifications.service import notify_payers
    from saldo.staff.service import principal_of

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            sent = notify_payers(session, principal_of(session, acting), case, summary=summary, channel="cli")
            ids = [n.id for n in sent]
    except FAULTS as exc:
        raise fail(str(exc)) from None
    console.print(f"notified {len(ids)} payer(s): notification {', '.join(map(str, ids))}")


@app.command("rule-mode")
def rule_mode(
    ctx: typer.Context,
    rule: str = typer.Argument(...),
    mode: RuleMode = typer.Argument(..., help="active, shadow or retired."),
    reason: str = typer.Option(...),
    acting: str = AS,
) -> None:
    """Put a rule in shadow mode, retire it, or make it active again (supervisor)."""
    from saldo.analysis.service.modes import set_rule_mode
    from saldo.db.engine import unit_of_work
    from saldo.staff.models import Role
    from saldo.staff.service import principal_of, require_role

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            principal = principal_of(session, acting)
            require_role(principal, Role.SUPERVISOR)
            set_rule_mode(session, rule_id=rule, mode=mode, reason=reason, changed_by=principal.username)
    except FAULTS as exc:
        raise fail(str(exc)) from None
    console.print(f"rule {rule} is now {mode.value}")


@app.command("precision")
def precision(ctx: typer.Context) -> None:
    """Per-rule precision from payers' outcomes, with 95 % intervals and the weight used in selection."""
    from saldo.oversight.service.precision import rule_precision

    context = cli_context(ctx)
    with context.sessions() as session:
        measured = rule_precision(session, prior_weight=context.settings.precision_prior_weight)
    for r in measured:
        precision = f"{r.measured:.3f} (95 % {r.low:.3f} to {r.high:.3f})" if r.measured is not None else "-"
        console.print(
            f"{r.rule_id}: notified {r.notified}, decided {r.decided}, confirmed {r.confirmed}; "
            f"precision {precision}; prior {r.prior:.2f}, used in selection {r.weighted:.3f}"
        )


@app.command("fairness")
def fairness(
    ctx: typer.Context, run_id: int | None = typer.Option(None, "--run", help="Analysis run (default: newest).")
) -> None:
    """Flag rate, case rate and precision by age band, sex and region for all rules together, and
    every alert of any rule."""
    from saldo.oversight.service.fairness import fairness_report

    context = cli_context(ctx)
    try:
        with context.sessions() as session:
            report = fairness_report(
                session,
                run_id=run_id,
                threshold=context.settings.fairness_disparity_threshold,
                min_flagged=context.settings.fairness_min_flagged,
            )
    except FAULTS as exc:
        raise fail(str(exc)) from None
    for g in (g for g in report.groups if g.rule_id == "*"):
        flag_ratio = f"{g.flag_ratio:.2f}" if g.flag_ratio is not None else "-"
        precision = (
            f"{g.precision:.2f} (x{g.precision_ratio:.2f})" if g.precision is not None and g.precision_ratio else "-"
        )
        console.print(
            f"{g.dimension} {g.group}: {g.persons:,} persons, flagged {g.flag_rate_per_mille:.2f} ‰ (x{flag_ratio}), "
            f"cases {g.case_rate_per_mille:.2f} ‰, precision {precision}"
        )
    for alert in report.alerts:
        console.print(f"[bold yellow]alert:[/] {alert.text}")
    if not report.alerts:
        console.print(f"no disparity past {report.threshold} (groups with ≥ {report.min_flagged} flagged)")


@app.command("statistics")
def statistics(ctx: typer.Context) -> None:
    """Per payer and rule: notifications, outcomes, amounts stopped and claimed, time to outcome, cost."""
    from saldo.kit.money import Money
    from saldo.oversight.service.statistics import payer_rule_statistics

    context = cli_context(ctx)
    with context.sessions() as session:
        rows = payer_rule_statistics(session, handling_cost_minor=context.settings.handling_cost_minor)
    for r in rows:
        days = f"{r.median_days_to_outcome:.0f}" if r.median_days_to_outcome is not None else "-"
        console.print(
            f"{r.payer_name} / {r.rule_id}: notified {r.notifications}, decided {r.decided} "
            f"({r.decided - r.no_error} confirmed); stopped {Money(r.stopped_minor, r.currency).format()}, "
            f"claimed {Money(r.claimed_minor, r.currency).format()}; median {days} days to an outcome; "
            f"cost {Money(r.handling_cost_minor, r.currency).format()}, net {Money(r.net_minor, r.currency).format()}"
        )


@app.command("remind")
def remind(ctx: typer.Context) -> None:
    """Remind payers of information requests due within SALDO_REMINDER_DAYS (the worker does it daily)."""
    from saldo.db.engine import unit_of_work
    from saldo.inforequests.service import send_reminders

    context = cli_context(ctx)
    with unit_of_work(context.sessions) as session:
        sent = send_reminders(session, days_before=context.settings.reminder_days)
    console.print(f"sent {sent} reminder(s)")


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    burst: bool = typer.Option(False, "--burst", help="Deliver what is due, then stop."),
    lanes: int | None = typer.Option(None, min=1, max=256, help="Payers at a time (default: SALDO_WEBHOOK_LANES)."),
) -> None:
    """Deliver payer messages to their webhooks, in order, signed, retried with backoff. SIGTERM or
    Ctrl-C: every lane finishes the message it is sending, marks it, and stops."""
    from saldo.messages.service import WebhookPolicy
    from saldo.messages.service.delivery import Deliverer
    from saldo.worker import conninfo_of

    context = cli_context(ctx)
    deliverer = Deliverer(
        conninfo_of(context.engine),
        lanes=lanes or context.settings.webhook_lanes,
        policy=WebhookPolicy.from_settings(context.settings),
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await deliverer.run(stop, until_idle=burst)

    asyncio.run(run())
    stats = deliverer.stats
    console.print(f"delivered {stats.delivered:,} message(s); {stats.failed:,} failed attempt(s)")
    for alert in stats.alerts:
        console.print(f"[bold red]alert:[/] {alert}")


access_app = typer.Typer(help="The access log: who read whose data, and its verification.", no_args_is_help=True)
app.add_typer(access_app, name="access-log")


@access_app.command("verify")
def verify(
    ctx: typer.Context,
    anchor: str | None = typer.Option(None, help="SEQ:HASH published earlier; it must still hold."),
) -> None:
    """Recompute every entry's hash and check every link; print the head to publish as an anchor."""
    from saldo.accesslog.service import verify_chain

    context = cli_context(ctx)
    parsed = None
    if anchor:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise fail(f"--anchor {anchor!r}: expected SEQ:HASH with a 64-digit hex hash")
        parsed = (int(seq), bytes.fromhex(digest))
    started = dt.datetime.now(dt.UTC)
    result = verify_chain(context.engine, anchor=parsed)
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    for fault in result.faults:
        console.print(f"[bold red]fault:[/] {fault}")
    console.print(
        f"{result.entries:,} entries checked in {seconds:.1f} s: {'intact' if result.intact else 'NOT INTACT'}; "
        f"head {result.head_seq}:{result.head_hash.hex()}"
    )
    if not result.intact:
        raise typer.Exit(code=1)


@access_app.command("show")
def show_log(
    ctx: typer.Context,
    person: str | None = typer.Option(None, help="SCHEME:IDENTIFIER of the person."),
    actor: str | None = typer.Option(None, help="Username of the staff member."),
    case: int | None = typer.Option(None, help="Case id."),
    limit: int = typer.Option(50, min=1, max=10_000),
) -> None:
    """Entries of the access log, oldest first."""
    from saldo.accesslog.service import entries

    who = None
    if person:
        scheme, _, identifier = person.partition(":")
        if not identifier:
            raise fail(f"--person {person!r}: expected SCHEME:IDENTIFIER, e.g. se_personnummer:198001019802")
        who = (scheme, identifier)
    with cli_context(ctx).sessions() as session:
        for e in entries(session, person=who, actor=actor, case_id=case, limit=limit):
            target = f"{e.person_scheme} {e.person_id}" if e.person_id else "-"
            console.print(
                f"{e.seq} {e.at:%Y-%m-%d %H:%M:%S} {e.actor} ({e.role}, {e.channel}) {e.action} {target}: {e.purpose}"
            )
