"""``saldo eessi``: the cross-border exchange from the command line: a node's keys, cases with
institutions abroad, SEDs, and the outbox (docs/eessi.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from saldo.cli.context import cli_context, console, fail
from saldo.eessi.models import CaseStatus

app = typer.Typer(
    help="The cross-border exchange (EESSI): keys, cases with institutions abroad, SEDs, the outbox.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
STAFF = "cli"


def _fields(text: str) -> dict[str, Any]:
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"--fields is not JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise fail('--fields is a JSON object of the SED\'s fields, e.g. \'{"dateDeath": "2026-10-02"}\'')
    return fields


@app.command("keys")
def keys(
    institution: str = typer.Argument(..., help="The node's institution id, e.g. SE:FKA01."),
    out: Path = typer.Option(..., "--out", help="Folder to write node.key, node.pem and ca.pem into."),
    host: list[str] = typer.Option(["127.0.0.1", "localhost"], "--host", help="A name its HTTPS answers to."),
) -> None:
    """Make a key and certificate for a node (and a CA that issued them), for a test or demo setup;
    prints the node's entry for the institution directory."""
    from saldo.eessi.service.keys import issue_authority, issue_node

    authority = issue_authority()
    node = issue_node(authority, institution, hosts=tuple(host))
    out.mkdir(parents=True, exist_ok=True)
    node.write(out / "node.key", out / "node.pem")
    (out / "ca.pem").write_text(authority.certificate_pem, encoding="ascii")
    endpoint = f"https://{host[0]}:8000/eessi/as4"
    console.print(json.dumps({"id": institution, "name": institution, "endpoint": endpoint, "bucs": [],
                              "certificates": [node.certificate_pem]}, indent=2))  # fmt: skip


@app.command("open")
def open_case(
    ctx: typer.Context,
    buc_type: str = typer.Argument(..., help="The BUC, e.g. H_BUC_01."),
    partner: str = typer.Argument(..., help="The institution abroad, e.g. FI:KELA01."),
    fields: str = typer.Option(..., help="The starter SED's fields as JSON (docs/eessi.md)."),
    purpose: str = typer.Option(..., help="Why the case is opened."),
) -> None:
    """Open a case with an institution abroad; its starter SED is queued, signed, for the worker."""
    from saldo.db.engine import unit_of_work
    from saldo.eessi import service
    from saldo.eessi.errors import ExchangeError

    context = cli_context(ctx)
    try:
        with unit_of_work(context.sessions) as session:
            node = service.node_from_settings(context.settings)
            case = service.open_case(
                session, node, buc_type=buc_type, partner=partner, content=_fields(fields), person=None,
                purpose=purpose, by=STAFF,
            )  # fmt: skip
            case_id = case.case_id
    except ExchangeError as exc:
        raise fail(exc.problem_detail()) from None
    console.print(case_id)


@app.command("send")
def send(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    sed_type: str = typer.Argument(..., help="The SED, e.g. H002 or X001."),
    fields: str = typer.Option("{}", help="The SED's fields as JSON."),
    answers: str | None = typer.Option(None, help="The document id of the SED this one answers."),
    to: str | None = typer.Option(None, help="The one participant it goes to (the case's owner: default all)."),
) -> None:
    """Send a SED in a case (checked against the BUC; queued, signed, for the worker).

    Prints the document id of each copy and whom it goes to, one line per institution."""
    from saldo.db.engine import unit_of_work
    from saldo.eessi import service
    from saldo.eessi.errors import ExchangeError

    context = cli_context(ctx)
    try:
        with unit_of_work(context.sessions) as session:
            node = service.node_from_settings(context.settings)
            case = service.get_case(session, case_id)
            documents = service.send_sed(
                session, node, case, sed_type, _fields(fields), answers=answers, to=to, by=STAFF
            )
            sent = [(d.document_id, d.receiver) for d in documents]
    except ExchangeError as exc:
        raise fail(exc.problem_detail()) from None
    for document_id, receiver in sent:
        console.print(f"{document_id}\t{receiver}")


@app.command("cases")
def cases(
    ctx: typer.Context,
    status: CaseStatus | None = typer.Option(None, help="Only open or only closed cases."),
    limit: int = typer.Option(100, min=1, max=10_000),
) -> None:
    """Cross-border cases, newest first: case id, BUC, partner, status, participants."""
    from saldo.db.engine import unit_of_work
    from saldo.eessi import service

    with unit_of_work(cli_context(ctx).sessions) as session:
        for case in service.list_cases(session, status=status, limit=limit):
            console.print(
                f"{case.case_id}\t{case.buc_type}\t{case.partner}\t{case.status.value}\t{case.created_at:%Y-%m-%d}"
                f"\t{','.join(case.participants)}"
            )


@app.command("show")
def show(ctx: typer.Context, case_id: str = typer.Argument(...)) -> None:
    """One case with its SEDs in and out: status, deadline, delivery attempts, reasons."""
    from saldo.db.engine import unit_of_work
    from saldo.eessi import service
    from saldo.eessi.errors import ExchangeError

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            case = service.get_case(session, case_id)
            console.print(f"{case.case_id} {case.buc_type} with {case.partner}: {case.status.value}")
            for d in service.documents(session, case):
                extra = f" due {d.deadline}" if d.deadline and d.answered_at is None else ""
                reason = f" — {d.reason}" if d.reason else ""
                console.print(
                    f"  {d.sed_type} {d.direction.value} {d.status.value} ({d.attempts} tries){extra}{reason}"
                )
    except ExchangeError as exc:
        raise fail(exc.problem_detail()) from None


@app.command("deliver")
def deliver(ctx: typer.Context) -> None:
    """Send the outbox now (what the worker does every minute): prints the outcomes counted."""
    from saldo.eessi.errors import ExchangeError
    from saldo.eessi.jobs import deliver as deliver_outbox
    from saldo.mediation.jobs import JobResources

    context = cli_context(ctx)
    resources = JobResources(context.settings, context.sessions, str(context.engine.url))
    try:
        counts = deliver_outbox(resources)
    except ExchangeError as exc:
        raise fail(exc.problem_detail()) from None
    console.print(", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing due")
