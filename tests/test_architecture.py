"""Rules a reviewer would otherwise repeat, as tests."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import tomllib
from pathlib import Path

import pytest
import typer
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlalchemy import Engine

import saldo
from saldo.cli.main import app as cli_app
from saldo.cli.reference import references
from saldo.db.migrate import check_database
from saldo.kit.problem import ProblemError
from saldo.settings import Settings
from saldo.web.callers import auth_dependencies
from saldo.web.start import PUBLIC_PATHS, PUBLIC_PREFIXES
from tests.routes import api_routes

SRC = Path(__file__).resolve().parents[1] / "src" / "saldo"
# Folders that are not domains: entry points, composition, plumbing, shared kit, formats, tools.
INFRASTRUCTURE = frozenset({"cli", "db", "http", "iso20022", "kit", "web", "synthetic"})
# Every other package is a domain, found on disk: a new folder is held to the rules the day it appears.
DOMAINS = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists() and p.name not in INFRASTRUCTURE)
DOMAIN_MODULES = {
    "__init__.py",
    "models.py",
    "schemas.py",
    "repository.py",
    "service.py",
    "api.py",
    "pages.py",
    "http.py",
    "jobs.py",
    "errors.py",
}
DOMAIN_PACKAGES = {"service", "pages"}  # a service.py or pages.py grown into several modules


def _guarded(dependant: Dependant) -> bool:
    """Whether a route depends, directly or not, on one of the token checks."""
    return any(d.call in auth_dependencies().values() or _guarded(d) for d in dependant.dependencies)


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
    callers = auth_dependencies()
    require_payer, require_bank, require_staff = (
        callers["require_payer"],
        callers["require_bank"],
        callers["require_staff"],
    )
    require_register_keeper, require_citizen = callers["require_register_keeper"], callers["require_citizen"]
    require_staff_session, require_payer_session = callers["require_staff_session"], callers["require_payer_session"]
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
    for path, text in references(typer.main.get_command(cli_app)).items():
        assert path.read_text(encoding="utf-8") == text, f"run `saldo reference`: {path.name} is stale"


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


def test_the_domains_are_found_on_disk() -> None:
    assert {"payments", "mediation", "oversight", "identity"} <= set(DOMAINS)


@pytest.mark.parametrize("domain", DOMAINS)
def test_domains_have_the_same_shape(domain: str) -> None:
    """Each domain holds the same kinds of module; anything else is data (TOML, or a folder of SQL or
    JSON without Python), so a reader finds a domain's rules in service and its HTTP in api/pages/http."""
    odd = []
    for path in (SRC / domain).iterdir():
        if path.name == "__pycache__" or path.suffix == ".toml":
            continue
        if path.is_file() and path.name not in DOMAIN_MODULES:
            odd.append(path.name)
        if path.is_dir() and path.name not in DOMAIN_PACKAGES and any(path.rglob("*.py")):
            odd.append(f"{path.name}/")
    assert odd == []
    assert not ((SRC / domain / "service.py").exists() and (SRC / domain / "service").exists())


def _layers() -> list[str]:
    contracts = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
    [layers] = [c["layers"] for c in contracts["contracts"] if c["type"] == "layers"]
    return [name.strip().removeprefix("saldo.") for layer in layers for name in layer.split("|")]


def test_every_package_has_its_place_in_the_layers() -> None:
    """The layer contract names every package on disk (a new domain must be placed before it passes)."""
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    assert packages - set(_layers()) == set()
    assert set(_layers()) - packages <= {"app", "worker", "settings"}  # the modules beside the packages


def test_kit_imports_nothing_else_of_saldo() -> None:
    outside = []
    for path in (SRC / "kit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            outside += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] == "saldo" and not n.startswith("saldo.kit")
            ]
    assert outside == []


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


def _saldo_classes() -> list[type]:
    classes = []
    for module in pkgutil.walk_packages(saldo.__path__, "saldo."):
        if module.name.startswith("saldo.cli"):
            continue
        loaded = importlib.import_module(module.name)
        classes += [c for c in vars(loaded).values() if isinstance(c, type) and c.__module__ == module.name]
    return classes


def test_every_error_a_domain_raises_declares_how_it_looks_over_http() -> None:
    """Each error of a domain's errors.py answers as a Problem; each one that is raised anywhere
    says its status and code where it is defined (a family's base, never raised, need not)."""
    sources = {p: p.read_text("utf-8") for p in SRC.rglob("*.py")}
    errors = [c for c in _saldo_classes() if issubclass(c, Exception)]
    undeclared = [
        c.__qualname__ for c in errors if c.__module__.endswith(".errors") and not issubclass(c, ProblemError)
    ]
    assert undeclared == []

    def is_raised(error: type) -> bool:  # in its own module, or where it is imported from there
        home = f"from {error.__module__} import"
        return any(
            re.search(rf"raise {error.__name__}\b", text) is not None
            and (".".join(("saldo", *path.relative_to(SRC).with_suffix("").parts)) == error.__module__ or home in text)
            for path, text in sources.items()
        )

    raised = [c for c in errors if issubclass(c, ProblemError) and is_raised(c)]
    assert [c.__qualname__ for c in raised if c.status is None] == []
    assert len(raised) > 40
