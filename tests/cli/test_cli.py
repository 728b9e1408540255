"""The saldo command line, against its own database (commands commit, like in production)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saldo.cli.main import app
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
    assert saldo(env, "banks", "create", "HANDSESS", "--name", "Handelsbanken")[0] == 0
    code, token = saldo(env, "banks", "token", "HANDSESS")
    assert code == 0
    assert token.startswith("saldobank_")
    path = tmp_path / "register.csv"
    path.write_text(
        "account;opened_on;holder_id;holder_name\n"
        f"{se_iban(1)};2019-04-01;{pnr(1)};Anna Andersson\n{se_iban(1)};2019-04-01;{pnr(2)};Berit Lind\n",
        encoding="utf-8",
    )
    code, out = saldo(env, "accounts", "load", "HANDSESS", str(path), "--as-of", "2026-02-01")
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
