"""``saldo analysis``: snapshots, rule runs, findings and their evaluation."""

from __future__ import annotations

from pathlib import Path

import typer

from saldo.cli.context import cli_context, console, fail

app = typer.Typer(
    help="Data analysis: pseudonymised snapshots, transparent rules, findings.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("rules")
def rules() -> None:
    """List the published rule catalogue (each rule is checked as it loads)."""
    from saldo.analysis.service.catalogue import RuleRefusedError, load_catalogue

    try:
        catalogue = load_catalogue()
    except RuleRefusedError as exc:
        raise fail(str(exc)) from None
    for rule in catalogue:
        console.print(f"{rule.id} v{rule.version}  [{rule.severity}]  {rule.title_en}")
        console.print(f"    reads {', '.join(rule.inputs)}; prior precision {rule.prior_precision:.2f}")


@app.command("snapshot")
def snapshot(ctx: typer.Context, by: str = typer.Option("operator", help="Who takes it (recorded).")) -> None:
    """Export the registry's analysis data to a pseudonymised Parquet snapshot with a manifest."""
    from saldo.analysis.service.snapshot import SnapshotRefusedError, export_snapshot
    from saldo.db.engine import unit_of_work
    from saldo.payments.service.hold import staff_actor

    context = cli_context(ctx)
    try:
        with console.status("snapshot") as status, unit_of_work(context.sessions) as session:
            taken = export_snapshot(
                session,
                context.settings,
                created_by=staff_actor(by),
                progress=lambda s: status.update(f"snapshot: {s}"),
            )
            label, path, tables = taken.label, taken.path, taken.manifest["tables"]
            snapshot_id = taken.id
    except SnapshotRefusedError as exc:
        raise fail(str(exc)) from None
    rows = ", ".join(f"{name} {entry['rows']:,}" for name, entry in tables.items())
    console.print(f"snapshot {snapshot_id} ({label}) in {path}: {rows}")


@app.command("run")
def run(
    ctx: typer.Context,
    snapshot_id: int | None = typer.Option(None, "--snapshot", help="Snapshot id (default: the newest)."),
    engine: str | None = typer.Option(None, help="duckdb or spark (default: SALDO_ANALYSIS_ENGINE)."),
    rule: list[str] = typer.Option([], "--rule", help="Run only these rules (repeatable)."),
    by: str = typer.Option("operator", help="Who starts it (recorded)."),
) -> None:
    """Run the rule catalogue on a snapshot and store the findings; nothing happens to any payment."""
    from saldo.analysis.models import RunStatus
    from saldo.analysis.service.catalogue import RuleRefusedError
    from saldo.analysis.service.run import AnalysisError, run_analysis
    from saldo.db.engine import unit_of_work
    from saldo.oversight.service.precision import selection_precision
    from saldo.payments.service.hold import staff_actor

    context = cli_context(ctx)
    try:
        with unit_of_work(context.sessions) as session:
            done = run_analysis(
                session,
                context.settings,
                started_by=staff_actor(by),
                snapshot_id=snapshot_id,
                engine=engine,
                rule_ids=rule or None,
                precision=selection_precision(session, prior_weight=context.settings.precision_prior_weight),
                progress=lambda line: console.print(f"  {line}"),
            )
            run_id, findings, selected, capacity = done.id, done.findings, done.selected, done.capacity
            failed = done.error if done.status is RunStatus.FAILED else None
    except (AnalysisError, RuleRefusedError) as exc:
        raise fail(str(exc)) from None
    if failed is not None:
        raise fail(f"analysis run {run_id} failed (recorded, no findings kept): {failed}")
    console.print(
        f"analysis run {run_id}: {findings:,} findings; {selected:,} selected for review (capacity {capacity:,})"
    )


@app.command("queue")
def queue(ctx: typer.Context) -> None:
    """Ask the worker for a new snapshot and analysis run now (the same job it runs on SALDO_ANALYSIS_SCHEDULE)."""
    from saldo.db.engine import unit_of_work
    from saldo.oversight.jobs import queue_analysis

    context = cli_context(ctx)
    with unit_of_work(context.sessions) as session:
        job_id = queue_analysis(session)
    schedule = context.settings.analysis_schedule or "none (SALDO_ANALYSIS_SCHEDULE is empty)"
    console.print(f"analysis queued as job {job_id}; `saldo worker` runs it. Schedule: {schedule}")


@app.command("findings")
def findings(
    ctx: typer.Context,
    run_id: int | None = typer.Option(None, "--run", help="Analysis run (default: the newest finished)."),
    rule: str | None = typer.Option(None, help="Only this rule's findings."),
    selected: bool = typer.Option(False, "--selected", help="Only the findings selected for review."),
    limit: int = typer.Option(20, min=1, max=10_000, help="How many, highest expected value first."),
    language: str = typer.Option("en", help="Language of the reasons: en or sv."),
) -> None:
    """List findings with their reasons, highest expected value first."""
    from rich.table import Table

    from saldo.analysis.service.findings import list_findings, summarise_findings
    from saldo.analysis.service.run import AnalysisError, find_run
    from saldo.kit.money import Money

    context = cli_context(ctx)
    with context.sessions() as session:
        try:
            chosen = find_run(session, run_id)
        except AnalysisError as exc:
            raise fail(str(exc)) from None
        counts = summarise_findings(session, chosen.id)
        table = Table("rule", "findings", "selected", "at risk")
        for rule_id, (n, picked, amount) in sorted(counts.items()):
            table.add_row(rule_id, f"{n:,}", f"{picked:,}", Money(amount, "SEK").format())
        console.print(f"analysis run {chosen.id} on snapshot {chosen.snapshot_id} ({chosen.engine})")
        console.print(table)
        for f in list_findings(session, chosen.id, rule_id=rule, selected_only=selected, limit=limit):
            reason = f.reason_sv if language == "sv" else f.reason_en
            mark = "*" if f.selected else " "
            console.print(
                f"{mark} {f.id}  {f.rule_id} v{f.rule_version}  {f.subject_kind} {f.subject_key[:12]}…  "
                f"expected {Money(f.expected_value_minor, f.currency).format()}"
            )
            console.print(f"    {reason}")


@app.command("linkage")
def linkage(
    train: bool = typer.Option(False, "--train", help="Train a new model without labels instead of the committed one."),
    save: bool = typer.Option(False, "--save", help="With --train: write the new model over the committed file."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (one machine) or spark (local or a cluster)."),
) -> None:
    """Link FEBRL4 with the person model (Splink) and score it against the benchmark's true links."""
    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"unknown engine {engine!r}: duckdb or spark", param_hint="--engine")
    from saldo.analysis.service.backends.spark import SparkUnavailableError
    from saldo.analysis.service.linkage import FEBRL4_MODEL, load_model, save_model, train_model
    from saldo.synthetic.febrl import (
        EvaluationDataUnavailableError,
        febrl4,
        score_febrl4,
    )

    model = None
    try:
        if train:
            left, right, _ = febrl4()
            model = train_model(left, right, engine)
            if save:
                save_model(model)
                console.print(f"model written to {FEBRL4_MODEL}")
        score = score_febrl4(model if model is not None else load_model(), engine)
    except (EvaluationDataUnavailableError, SparkUnavailableError) as exc:
        raise fail(str(exc)) from None
    console.print(
        f"FEBRL4: {score.links:,} links, precision {score.precision:.4f}, recall {score.recall:.4f}, "
        f"F1 {score.f1:.4f}; "
        f"{score.comparisons:,} pairs scored in {score.predict_seconds:.2f} s"
    )


@app.command("dedupe")
def dedupe(
    file: Path | None = typer.Argument(
        None,
        help="A CSV of person records (rec_id and the person columns of docs/analysis.md); without it, FEBRL3.",
        exists=True,
        dir_okay=False,
    ),
    out: Path | None = typer.Option(None, "--out", help="Write rec_id,cluster_id of every record here."),
    threshold: float = typer.Option(0.9, "--threshold", min=0.5, max=1.0, help="Match probability of a link."),
) -> None:
    """Find the records of one source that are one person, as clusters (a person registered three
    times is one cluster of three): trained without labels with the person model (Splink). Without a
    file, FEBRL3 is deduplicated and scored against its true pairs."""
    import pandas as pd

    from saldo.analysis.service.linkage import PERSON_COLUMNS, dedupe_records, train_dedupe_model
    from saldo.synthetic.febrl import score_febrl3

    if file is None:
        from saldo.synthetic.febrl import EvaluationDataUnavailableError

        try:
            score = score_febrl3(threshold=threshold)
        except EvaluationDataUnavailableError as exc:
            raise fail(str(exc)) from None
        console.print(
            f"FEBRL3: {score.records:,} records in {score.clusters:,} clusters of two or more; pairs: "
            f"precision {score.precision:.4f}, recall {score.recall:.4f}, F1 {score.f1:.4f} "
            f"(one partner per record would recover {score.pairwise_recall:.4f}); "
            f"{score.comparisons:,} pairs scored, {score.seconds:.1f} s with training"
        )
        return
    records = pd.read_csv(file, dtype="string")
    missing = sorted({"rec_id", *PERSON_COLUMNS} - set(records.columns))
    if missing:
        raise typer.BadParameter(f"{file.name}: missing columns {', '.join(missing)}", param_hint="FILE")
    records = records[["rec_id", *PERSON_COLUMNS]]
    records = records.where(records.notna(), None)
    clusters, _, comparisons = dedupe_records(records, train_dedupe_model(records), threshold)
    sizes = clusters.groupby("cluster_id").size()
    console.print(
        f"{len(records):,} records: {int((sizes > 1).sum()):,} persons recorded more than once, "
        f"{int(sizes[sizes > 1].sum()):,} records in them; {comparisons:,} pairs scored"
    )
    if out is not None:
        clusters.to_csv(out, index=False)
        console.print(f"clusters written to {out}")


@app.command("identity-model")
def identity_model(
    ctx: typer.Context,
    save: bool = typer.Option(False, "--save", help="Write the model over the committed file (review it like code)."),
    organisations: bool = typer.Option(
        False, "--organisations", help="The organisation model (a Swedish organisation number ~ another one)."
    ),
) -> None:
    """Train the identity model (a personnummer ~ a samordningsnummer or foreign number) on the registry's payees."""
    from saldo.analysis.service.identities import (
        train_identities_from_registry,
        train_organisations_from_registry,
    )
    from saldo.analysis.service.linkage import IDENTITY_MODEL, ORGANISATION_MODEL, save_model

    with cli_context(ctx).sessions() as session:
        model = train_organisations_from_registry(session) if organisations else train_identities_from_registry(session)
    if save:
        path = ORGANISATION_MODEL if organisations else IDENTITY_MODEL
        save_model(model, path)
        console.print(f"model written to {path}")
    else:
        console.print("trained; pass --save to write it over the committed model")


@app.command("evaluate")
def evaluate(
    ctx: typer.Context,
    ground_truth: Path = typer.Argument(..., exists=True, dir_okay=False, help="ground_truth.csv of the country."),
    run_id: int | None = typer.Option(None, "--run", help="Analysis run (default: the newest finished)."),
    out: Path | None = typer.Option(None, help="Also write the report as Markdown to this file."),
) -> None:
    """Per-rule precision and recall against a generated country's ground truth, and flag rates by group."""
    from rich.table import Table

    from saldo.analysis.service.evaluate import evaluate_run, evaluation_markdown
    from saldo.analysis.service.run import AnalysisError, find_run

    context = cli_context(ctx)
    with context.sessions() as session:
        try:
            chosen = find_run(session, run_id)
            evaluation = evaluate_run(session, chosen.id, ground_truth)
        except AnalysisError as exc:
            raise fail(str(exc)) from None
    table = Table("rule", "planted", "found", "findings", "precision", "recall")
    for s in evaluation.rules:
        table.add_row(s.rule_id, str(s.planted), str(s.found), str(s.findings), f"{s.precision:.3f}", f"{s.recall:.3f}")
    console.print(table)
    groups = Table("dimension", "group", "persons", "flagged per 1,000", "precision")
    for g in evaluation.groups:
        precision = "-" if g.precision is None else f"{g.precision:.3f}"
        groups.add_row(g.dimension, g.group, f"{g.persons:,}", f"{g.flag_rate_per_mille:.2f}", precision)
    console.print(groups)
    if out is not None:
        out.write_text(
            evaluation_markdown(evaluation, title=f"Evaluation of analysis run {chosen.id}"), encoding="utf-8"
        )
        console.print(f"written to {out}")
