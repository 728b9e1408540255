"""The saldo command line, against its own database (commands commit, like in production)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum import luhn
from typer._click.utils import make_default_short_help
from typer.testing import CliRunner

from saldo.cli.main import COMMANDS, app, load_command, subcommands
from saldo.iso20022.camt import NotifiedEntry, NotifiedTransaction, write_debit_credit_notification
from saldo.kit.account_number import AccountScheme
from saldo.synthetic.anomalies import DEFAULT_RATE
from saldo.synthetic.bank import answer_payment_file
from tests.conftest import create_database
from tests.factories import csv_file, payment_body, pnr, se_iban

runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, str]:
    url = create_database(f"saldo_cli_{worker_id}")
    environment = {"SALDO_DATABASE_URL": url, "SALDO_DATA_DIR": str(tmp_path_factory.mktemp("cli"))}
    for command in (["migrate"], ["catalogue", "seed"]):
        result = runner.invoke(app, command, env=environment)
        assert result.exit_code == 0, result.output
    return environment


def connect(
    env: dict[str, str], orgnr: str, *, name: str, account: str = "5050-1055", benefits: str = "EKB"
) -> tuple[int, str]:
    """`saldo payers create` for a municipality."""
    return saldo(
        env,
        "payers",
        "create",
        orgnr,
        "--name",
        name,
        "--kind",
        "municipality",
        "--account",
        account,
        "--benefits",
        benefits,
    )


def saldo(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_migrate_check_reports_models_and_migrations_agree(env: dict[str, str]) -> None:
    assert saldo(env, "migrate", "--check") == (0, "models and migrations agree\n")


def test_payer_is_connected_and_given_a_token_that_can_be_revoked(env: dict[str, str]) -> None:
    code, out = connect(env, "212000-1553", name="Exempelkommun", benefits="EKB,FOB")
    assert code == 0, out
    code, out = saldo(env, "payers", "token", "212000-1553", "--label", "case system")
    assert code == 0, out
    token_id = re.search(r"token (\d+)", out)
    assert token_id is not None
    assert "saldo_" in out
    assert saldo(env, "payers", "revoke", token_id.group(1)) == (0, f"token {token_id.group(1)} revoked\n")
    code, out = saldo(env, "payers", "revoke", token_id.group(1))
    assert code == 1
    assert "no active token" in out


@pytest.mark.parametrize(
    ("orgnr", "account", "benefits", "message"),
    [
        ("212000-1553", "5050-1055", "EKB", "already connected"),
        ("212000-1554", "5050-1055", "EKB", "check digit"),
        ("212000-1561", "5050-1056", "EKB", "check digit is wrong"),
        ("212000-1579", "5050-1055", "NOPE", "unknown benefit code(s): NOPE"),
    ],
)
def test_bad_payer_input_is_refused_with_the_reason(
    env: dict[str, str], orgnr: str, account: str, benefits: str, message: str
) -> None:
    connect(env, "212000-1553", name="Först")
    code, out = connect(env, orgnr, name="X", account=account, benefits=benefits)
    assert code == 1
    assert message in out


def test_ingest_accepts_a_file_and_is_idempotent(env: dict[str, str], tmp_path: Path) -> None:
    connect(env, "212000-1546", name="Filkommun")
    path = tmp_path / "payments.csv"
    path.write_text(csv_file([payment_body(), payment_body()]), encoding="utf-8")
    code, out = saldo(env, "ingest", "212000-1546", str(path))
    assert code == 0, out
    assert "2 payments, 2 new" in out
    code, out = saldo(env, "ingest", "212000-1546", str(path))
    assert code == 0
    assert "received before" in out


def test_ingest_rejection_lists_lines_and_exits_non_zero(env: dict[str, str], tmp_path: Path) -> None:
    connect(env, "212000-1538", name="Felkommun")
    path = tmp_path / "bad.csv"
    path.write_text(csv_file([payment_body(), payment_body(payee_id="198112289875")]), encoding="utf-8")
    code, out = saldo(env, "ingest", "212000-1538", str(path))
    assert code == 1
    assert f"{path}: line 3: payee_id:" in out
    assert "nothing was registered" in out


def test_generate_writes_a_country(env: dict[str, str], tmp_path: Path) -> None:
    code, out = saldo(env, "generate", "--persons", "500", "--out", str(tmp_path / "c"))
    assert code == 0, out
    assert (tmp_path / "c" / "manifest.json").exists()


def test_a_bank_file_is_loaded_shown_designated_and_verified(env: dict[str, str], tmp_path: Path) -> None:
    code, out = saldo(env, "banks", "create", "ESSESESS", "--name", "SEB")
    assert code == 0, out
    assert "holding iban:SE500, se_clearing:5000-5999" in out  # from the published bank registers
    code, token = saldo(env, "banks", "token", "ESSESESS")
    assert code == 0
    assert token.startswith("saldobank_")
    path = tmp_path / "register.csv"
    path.write_text(
        "account;opened_on;holder_id;holder_name\n"
        f"{se_iban(1)};2019-04-01;{pnr(1)};Anna Andersson\n{se_iban(1)};2019-04-01;{pnr(2)};Berit Lind\n",
        encoding="utf-8",
    )
    code, out = saldo(env, "accounts", "load", "ESSESESS", str(path), "--as-of", "2026-02-01")
    assert code == 0, out
    assert "1 accounts, 1 new" in out
    code, out = saldo(env, "accounts", "show", se_iban(1))
    assert "Anna Andersson" in out
    assert "Berit Lind" in out
    code, out = saldo(env, "accounts", "verify", se_iban(1), "--name", "A. Andersson")
    assert (code, out.strip()) == (0, "close_match [CMTC]: initials (registered name: Anna Andersson)")
    code, out = saldo(env, "accounts", "designate", pnr(2), se_iban(1), "--operator", "test")
    assert code == 0, out
    assert "letter" in out


def test_a_bad_bank_file_lists_lines_and_exits_non_zero(env: dict[str, str], tmp_path: Path) -> None:
    saldo(env, "banks", "create", "ESSESESS", "--name", "SEB")
    path = tmp_path / "bad.csv"
    path.write_text(f"account;opened_on;holder_id;holder_name\nSE00;2019-04-01;{pnr(1)};Anna\n", encoding="utf-8")
    code, out = saldo(env, "accounts", "load", "ESSESESS", str(path))
    assert code == 1
    assert f"{path}: line 2: account:" in out
    assert "nothing was loaded" in out


def test_a_payment_run_is_started_written_answered_and_reconciled(env: dict[str, str], tmp_path: Path) -> None:
    bankgiro = "765432" + luhn.calc_check_digit("765432")
    connect(env, "212000-1520", name="Körkommun", account=bankgiro)
    saldo(env, "banks", "create", "ESSESESS", "--name", "SEB")
    code, out = saldo(env, "payers", "set-bank", "212000-1520", "ESSESESS")  # a Bankgiro number names no bank
    assert (code, out) == (0, f"Körkommun: {bankgiro} is held by SEB (ESSESESS)\n")
    register = tmp_path / "register.csv"
    register.write_text(f"account;opened_on;holder_id;holder_name\n{se_iban(7)};2019-04-01;{pnr(7)};Anna Andersson\n")
    assert saldo(env, "accounts", "load", "ESSESESS", str(register))[0] == 0
    payments = tmp_path / "payments.csv"
    bodies = [payment_body(payee_id=pnr(7), account=se_iban(7)) for _ in range(3)]
    payments.write_text(csv_file(bodies), encoding="utf-8")
    assert saldo(env, "ingest", "212000-1520", str(payments))[0] == 0
    assert saldo(env, "payments", "check-accounts", "--payer", "212000-1520")[0] == 0

    code, out = saldo(env, "runs", "start", "--now", "--by", "Eva Utbetalare")
    assert code == 0, out
    run_id = re.search(r"^run (\d+) .* sent ", out, re.MULTILINE)
    assert run_id, out
    code, out = saldo(env, "runs", "show", run_id.group(1))
    assert code == 0, out
    assert "outstanding 3" in out
    files = sorted((Path(env["SALDO_DATA_DIR"]) / "outbox").rglob("*.xml"))
    answers = answer_payment_file(files[-1], tmp_path / "bank", reject_rate=0.0, return_rate=0.0)
    code, out = saldo(env, "runs", "read-bank-file", str(answers.status_report), str(answers.notification))
    assert code == 0, out
    assert "3 payments moved" in out
    code, out = saldo(env, "runs", "show", run_id.group(1))
    assert "settled 3" in out
    assert "reconciled" in out
    code, out = saldo(env, "runs", "read-bank-file", str(answers.notification))
    assert "already read; nothing changed" in out
    stranger = tmp_path / "stranger.xml"  # a debit on the account that names no payment Saldo sent
    with stranger.open("wb") as out_file:
        write_debit_credit_notification(
            out_file,
            message_id="NT-STRANGER",
            created_at=dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC),
            account_scheme=AccountScheme.SE_BANKGIRO,
            account_number=bankgiro,
            entries=[NotifiedEntry(dt.date(2026, 11, 22), [NotifiedTransaction("888888888", 4200, "SEK")])],
        )
    assert "1 unmatched" in saldo(env, "runs", "read-bank-file", str(stranger))[1]
    code, out = saldo(env, "runs", "show", run_id.group(1))
    assert "reconciled" in out  # the entry is not guessed into the run
    assert "1 entries on this account match no payment of any run" in out
    code, out = saldo(env, "runs", "unattributed", "--account", bankgiro)
    assert code == 0, out
    assert f"se_bankgiro {bankgiro}  camt.054.001.08 NT-STRANGER" in out
    assert "no payment has end-to-end id 888888888" in out
    broken = tmp_path / "broken.xml"
    broken.write_text("<Document>")
    code, out = saldo(env, "runs", "read-bank-file", str(broken))
    assert code == 1
    assert "refused, nothing applied" in out


def test_holding_an_unknown_payment_says_so(env: dict[str, str]) -> None:
    code, out = saldo(env, "payments", "hold", "999999999", "--reason", "kontroll", "--by", "Eva Granskare")
    assert code == 1
    assert "no payment 999999999" in out


def test_staff_roles_are_checked_and_the_access_log_verifies(env: dict[str, str]) -> None:
    code, out = saldo(env, "staff", "create", "eva.analytiker", "--name", "Eva", "--role", "analyst")
    assert code == 0, out
    assert saldo(env, "staff", "create", "eva.analytiker", "--name", "Eva", "--role", "analyst")[0] == 1
    code, out = saldo(env, "staff", "create", "Bad Name", "--name", "X", "--role", "analyst")
    assert code == 1
    assert "username" in out
    code, out = saldo(env, "staff", "token", "eva.analytiker")
    assert code == 0
    assert out.startswith("saldostaff_")
    # an analyst may not change a rule's mode; a supervisor may, with a reason
    code, out = saldo(
        env, "audit", "rule-mode", "duplicate_payment", "shadow", "--reason", "x", "--as", "eva.analytiker"
    )
    assert code == 1
    assert "lacks the role" in out
    saldo(env, "staff", "create", "sara.chef", "--name", "Sara", "--role", "supervisor")
    code, out = saldo(
        env, "audit", "rule-mode", "duplicate_payment", "shadow", "--reason", "measure", "--as", "sara.chef"
    )
    assert (code, out) == (0, "rule duplicate_payment is now shadow\n")
    code, out = saldo(env, "audit", "precision")
    assert code == 0
    assert "duplicate_payment" in out
    code, out = saldo(env, "audit", "access-log", "verify")
    assert code == 0
    assert "intact" in out
    code, out = saldo(env, "audit", "access-log", "verify", "--anchor", "1:abc")
    assert code == 1
    assert "SEQ:HASH" in out
    assert saldo(env, "staff", "disable", "eva.analytiker") == (0, "disabled eva.analytiker\n")
    code, out = saldo(env, "audit", "triage", "--as", "eva.analytiker")
    assert code == 1
    assert "disabled" in out
    code, out = saldo(env, "audit", "remind")
    assert (code, out) == (0, "sent 0 reminder(s)\n")
    code, out = saldo(env, "audit", "deliver", "--burst")
    assert code == 0
    assert "delivered 0 message(s)" in out


def test_the_root_help_imports_no_command_and_lists_each_with_its_own_words() -> None:
    """`saldo --help` imports none of the commands (nor SQLAlchemy, pandas, the app): it answers at
    once. The words it lists for a command are that command's own, so the table cannot go stale."""
    script = (
        "import sys; from typer.testing import CliRunner; from saldo.cli.main import app;"
        "result = CliRunner().invoke(app, ['--help']); assert result.exit_code == 0, result.output;"
        "heavy = ('saldo.cli.', 'sqlalchemy', 'pandas', 'fpdf', 'saldo.app');"
        "heavy = sorted(m for m in sys.modules if m.startswith(heavy) and m != 'saldo.cli.main');"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    for name, (_, _, words) in COMMANDS.items():
        command = load_command(name)
        assert make_default_short_help(command.help or "", 500) == make_default_short_help(words, 500), name


@pytest.mark.parametrize("group", ["runs", "analysis", "audit"])
def test_a_groups_help_imports_none_of_its_commands(group: str) -> None:
    """`saldo runs --help` lists the group's commands from commands.json (generated, and checked by
    the reference test) and imports none of them, nor the database or the settings."""
    script = (
        "import sys; from typer.testing import CliRunner; from saldo.cli.main import app;"
        f"result = CliRunner().invoke(app, ['{group}', '--help']); assert result.exit_code == 0, result.output;"
        "heavy = ('saldo.cli.', 'sqlalchemy', 'pandas', 'fpdf', 'saldo.app', 'saldo.settings');"
        "light = ('saldo.cli.main', 'saldo.cli.context');"
        "loaded = sorted(m for m in sys.modules if m.startswith(heavy) and m not in light);"
        "print(loaded); print(result.output)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded, output = done.stdout.split("\n", 1)
    assert loaded == "[]", done.stdout + done.stderr
    assert all(name in output for name in subcommands()[group])


def test_a_command_module_imports_what_its_commands_run_only_when_they_run() -> None:
    """Starting one command imports no other command's domains: a command's module imports, at its
    top, only what its arguments need (Typer, the enums its options take, error classes), and each
    command imports the services it runs when it runs (docs/decisions/0021)."""

    modules = sorted({module for module, _, _ in COMMANDS.values()})
    script = (
        "import importlib, re, sys;"
        f"[importlib.import_module(m) for m in {modules!r}];"
        r"heavy = re.compile(r'^saldo\.(\w+\.(service|repository|jobs|api|pages)\b|app$|worker$|synthetic\b)"
        r"|^(pandas|pyarrow|duckdb|sqlglot|splink|fpdf|as4|signxml|uvicorn|httpx)\b');"
        "print(sorted({'.'.join(m.split('.')[:3]) for m in sys.modules if heavy.match(m)}))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_generator_s_default_rate_is_the_one_its_help_names() -> None:
    rate = next(p for p in load_command("generate").params if p.name == "anomaly_rate")
    assert f"default {DEFAULT_RATE}" in (rate.help or "")


def test_a_cross_border_case_is_opened_followed_and_refused_with_the_reason(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, output = saldo(env, "eessi", "open", "H_BUC_07", "FI:KELA01", "--fields", "{}", "--purpose", "p")
    assert code == 1
    assert "takes no part in the cross-border exchange" in output
    code, entry = saldo(env, "eessi", "keys", "SE:FKA01", "--out", str(tmp_path / "se"))
    assert code == 0, entry
    code, partner = saldo(env, "eessi", "keys", "FI:KELA01", "--out", str(tmp_path / "fi"))
    directory = tmp_path / "directory.json"
    entries = [json.loads(entry), json.loads(partner)]
    for item in entries:
        item["bucs"] = ["H_BUC_07", "H_BUC_01"]
    directory.write_text(json.dumps({"institutions": entries}), encoding="utf-8")
    node = {
        **env, "SALDO_EESSI_INSTITUTION": "SE:FKA01", "SALDO_EESSI_KEY": str(tmp_path / "se" / "node.key"),
        "SALDO_EESSI_CERTIFICATE": str(tmp_path / "se" / "node.pem"), "SALDO_EESSI_DIRECTORY": str(directory),
    }  # fmt: skip
    code, output = saldo(node, "eessi", "open", "H_BUC_07", "FI:KELA01", "--fields", '{"dateDeath": "2026-10-02"}',
                         "--purpose", "a death in Sweden")  # fmt: skip
    assert code == 1
    assert "H070/countryDeath: Field required" in output
    fields = '{"dateDeath": "2026-10-02", "countryDeath": "SE"}'
    code, case_id = saldo(node, "eessi", "open", "H_BUC_07", "FI:KELA01", "--fields", fields, "--purpose", "a death")
    assert code == 0, case_id
    case_id = case_id.strip()
    assert case_id.startswith("SE:FKA01-")
    code, output = saldo(node, "eessi", "send", case_id, "H002", "--fields", '{"receivesBenefit": false}')
    assert code == 1
    assert "H002 is not part of H_BUC_07" in output
    code, output = saldo(node, "eessi", "cases")
    assert output.split()[:4] == [case_id, "H_BUC_07", "FI:KELA01", "open"]
    # Nobody listens at the partner's endpoint: the delivery is retried, and says why.
    code, output = saldo(node, "eessi", "deliver")
    assert (code, output.strip()) == (0, "1 built, 1 retry")
    code, output = saldo(node, "eessi", "show", case_id)
    assert "H070 out queued (1 tries)" in output
    assert "FI:KELA01 could not be reached" in output


def test_reindex_rebuilds_at_once_or_queues_the_workers_job_once(env: dict[str, str]) -> None:
    code, output = saldo(env, "reindex")
    assert code == 0, output
    assert "indexes rebuilt" in output
    code, first = saldo(env, "reindex", "--queue")
    assert code == 0, first
    assert "index upkeep queued as job " in first
    assert "Schedule: 0 4 2 * *" in first
    assert saldo(env, "reindex", "--queue")[1].split(";")[0] == first.split(";")[0]  # one waiting job is enough
    code, output = saldo(env, "reindex", "--queue", "payments")
    assert code != 0
    assert "name no tables with it" in output


def test_archive_runs_at_once_or_queues_the_workers_job_once_and_refuses_a_bad_month(env: dict[str, str]) -> None:
    code, output = saldo(env, "payments", "archive")
    assert code == 0, output
    assert "payments archived from" in output
    code, first = saldo(env, "payments", "archive", "--queue")
    assert code == 0, first
    assert "payment archive queued as job " in first
    assert "Schedule: 0 1 2 * *" in first
    assert saldo(env, "payments", "archive", "--queue")[1].split(";")[0] == first.split(";")[0]
    for bad, said in (("2026-13", "is not a month as YYYY-MM"), ("dec", "is not a month as YYYY-MM")):
        code, output = saldo(env, "payments", "archive", "--through", bad)
        assert code != 0
        assert said in output, output
    code, output = saldo(env, "payments", "archive", "--queue", "--through", "2026-01")
    assert code != 0
    assert "give no --through with it" in output
