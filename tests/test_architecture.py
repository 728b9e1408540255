"""Rules a reviewer would otherwise repeat, as tests."""

from __future__ import annotations

import ast
from pathlib import Path

import typer
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlalchemy import Engine

from saldo.cli.main import app as cli_app
from saldo.cli.reference import REFERENCE_DIR, references
from saldo.db.migrate import check_database
from saldo.settings import Settings
from saldo.web.deps import AUTH_DEPENDENCIES
from saldo.web.start import PUBLIC_PATHS, PUBLIC_PREFIXES
from tests.routes import api_routes

SRC = Path(__file__).resolve().parents[1] / "src" / "saldo"
DOMAINS = ("accounts", "banks", "benefits", "mediation", "payers", "payees", "payments")
DOMAIN_FILES = {
    "__init__.py",
    "models.py",
    "schemas.py",
    "repository.py",
    "service.py",
    "api.py",
    "pages.py",
    "jobs.py",
    "errors.py",
    "catalogue.toml",
}


def _guarded(dependant: Dependant) -> bool:
    """Whether a route depends, directly or not, on one of the token checks."""
    return any(d.call in AUTH_DEPENDENCIES or _guarded(d) for d in dependant.dependencies)


def test_every_route_needs_a_token_or_is_explicitly_public(app: FastAPI) -> None:
    unguarded = [
        route.path
        for route in api_routes(app)
        if not _guarded(route.dependant)
        and route.path not in PUBLIC_PATHS
        and not route.path.startswith(PUBLIC_PREFIXES)
    ]
    assert unguarded == []


def test_public_routes_are_only_the_start_page_health_and_api_documents(app: FastAPI) -> None:
    public = {r.path for r in api_routes(app) if not _guarded(r.dependant) and not r.path.startswith(PUBLIC_PREFIXES)}
    assert public <= PUBLIC_PATHS


def test_bank_routes_take_bank_tokens_and_payment_routes_payer_tokens(app: FastAPI) -> None:
    (
        require_payer,
        require_bank,
        _,
        require_staff,
        require_register_keeper,
        require_citizen,
        require_staff_session,
        require_payer_session,
    ) = AUTH_DEPENDENCIES
    for route in api_routes(app):
        calls = {d.call for d in route.dependant.dependencies}
        if route.path.startswith("/api/v1/bank/"):
            assert require_bank in calls, route.path
        if route.path.startswith(("/api/v1/payments", "/api/v1/payment-batches", "/api/v1/feed", "/api/v1/webhook")):
            assert require_payer in calls, route.path
        if route.path.startswith(("/api/v1/notifications", "/api/v1/information-requests")):
            assert require_payer in calls, route.path
        if route.path.startswith("/api/v1/staff/"):
            assert require_staff in calls, route.path
        if route.path.startswith("/api/v1/registers/"):
            assert require_register_keeper in calls, route.path
        if route.path.startswith(("/api/v1/me/", "/me")):
            assert require_citizen in calls, route.path
        if route.path.startswith("/staff"):
            assert require_staff_session in calls, route.path
        if route.path.startswith("/payer"):
            assert require_payer_session in calls, route.path


def test_generated_references_are_up_to_date() -> None:
    for name, text in references(typer.main.get_command(cli_app)).items():
        assert (REFERENCE_DIR / name).read_text(encoding="utf-8") == text, f"run `saldo reference`: {name} is stale"


def test_every_setting_is_described() -> None:
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []


def test_models_and_migrations_agree(engine: Engine) -> None:
    check_database(engine)  # raises when autogenerate would find a difference


def test_there_is_one_migration_head() -> None:
    heads = list((SRC.parents[1] / "migrations" / "versions").glob("*.py"))
    revisions = {ast.literal_eval(_assignment(p, "revision")) for p in heads}
    downs = {ast.literal_eval(_assignment(p, "down_revision")) for p in heads}
    assert len(revisions - downs) == 1


def _assignment(path: Path, name: str) -> str:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == name and node.value is not None:  # type: ignore[union-attr]
            return ast.unparse(node.value)  # type: ignore[union-attr]
    raise AssertionError(f"{path} has no {name}")


def test_queries_live_in_repositories() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "repository.py" or path.parent.name == "db":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"select", "text"}:
                # a model may state a partial index's predicate in SQL; that is DDL, not a query
                if path.name == "models.py" and node.func.id == "text":
                    continue
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_services_never_commit() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if ("service" in p.parts or p.name in {"service.py", "repository.py"})
        and "session.commit()" in p.read_text("utf-8")
    ]
    assert offenders == []


def test_domains_have_the_same_shape() -> None:
    odd = [f"{d}/{p.name}" for d in DOMAINS for p in (SRC / d).iterdir() if p.is_file() and p.name not in DOMAIN_FILES]
    assert odd == []


def test_settings_are_read_only_in_settings_py() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name != "settings.py" and ("os.environ" in p.read_text("utf-8") or "getenv(" in p.read_text("utf-8"))
    ]
    assert offenders == []


def test_every_guarded_operation_documents_its_401(app: FastAPI) -> None:
    document = app.openapi()
    missing = [
        f"{method} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES) and "401" not in operation["responses"]
    ]
    assert missing == []
