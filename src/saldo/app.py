"""create_app(settings) -> FastAPI: the one way an app is built, in production, the demo and tests."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from saldo import __version__
from saldo.accounts.api import router as accounts_router
from saldo.accounts.service.verify import thresholds_from
from saldo.cases.api import router as cases_router
from saldo.cases.pages import router as cases_pages
from saldo.citizens.api import router as citizens_api_router
from saldo.citizens.pages import router as citizens_pages
from saldo.credentials.api import public_router as credentials_public_router
from saldo.credentials.api import router as credentials_router
from saldo.credentials.pages import router as verifier_pages
from saldo.crossborder.pages import router as foreign_login_pages
from saldo.db.engine import CONNECT_TIMEOUT_S, create_db_engine, create_session_factory
from saldo.db.replica import AsyncReads, Reads
from saldo.decisions.api import router as decisions_router
from saldo.eessi.api import as4_router as eessi_as4_router
from saldo.eessi.api import router as eessi_router
from saldo.eessi.pages import router as eessi_pages
from saldo.http.errors import install_error_handlers
from saldo.http.security import SecurityLayer
from saldo.identity.http import PAGE_HANDLERS
from saldo.identity.pages import router as identity_pages
from saldo.identity.pages.devprovider import router as dev_provider_router
from saldo.inforequests.api import router as requests_router
from saldo.inforequests.api import staff_router as requests_staff_router
from saldo.inforequests.pages import router as request_pages
from saldo.kit.crash_points import arm
from saldo.mediation.api import router as mediation_router
from saldo.messages.api import router as messages_router
from saldo.notifications.api import router as notifications_router
from saldo.notifications.api import staff_router as notifications_staff_router
from saldo.notifications.pages import router as notification_pages
from saldo.onceonly.api import as4_router as onceonly_as4_router
from saldo.onceonly.pages import router as evidence_pages
from saldo.onceonly.pages import statement_evidence
from saldo.onceonly.service import provide_with
from saldo.oversight.api import router as oversight_router
from saldo.oversight.pages import router as oversight_pages
from saldo.payers.api import catalogue as benefits_router
from saldo.payers.api import router as payers_router
from saldo.payments.api import router as payments_router
from saldo.payments.jobs import settle_parts_continuously
from saldo.payments.pages import router as payer_pages
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.uploads import delete_left_behind, upload_folder
from saldo.procedures.api import router as applications_router
from saldo.procedures.pages import router as application_pages
from saldo.registers.api import router as registers_router
from saldo.settings import LOOPBACK_NAMES, Settings
from saldo.web.apidocs import router as api_reference_router
from saldo.web.fastpath import (
    PAYMENTS_PATH,
    VOP_PATH,
    CitizenOverviews,
    FastPath,
    Handler,
    PaymentListings,
    PaymentRegistration,
    VopChecks,
)
from saldo.web.presentation import configure_pages
from saldo.web.start import router as start_router

log = logging.getLogger(__name__)

# How long a fast-path request waits for a connection of its pool before it hands the request to
# the documented route: a moment of load passes in far less; a database that is down answers 503
# (Retry-After) through that route at once, instead of after the pool's default 30 s.
FAST_PATH_WAIT_S = 0.5
# Payment files sent in the browser checked at once per process; more wait their turn.
UPLOAD_CHECKS = 4

DESCRIPTION = """
Saldo's API. A connected payer (state agency, municipality, region, unemployment fund)
registers the payments it has decided — one at a time or as a batch — on each payee's
transaction account, and follows and cancels its own payments. Banks feed the account register
and designate their customers' accounts; payers and banks ask verification of payee.

The authority's staff triage findings, work cases, ask payers for information and notify them;
payers read their notifications and information requests (feed or signed webhook) and answer them.

Authenticate with `Authorization: Bearer <token>`; a token sees only its own payer's or bank's data,
and a staff token may do only what its roles allow (every read of a person's data is logged).
Batches are all-or-nothing; re-sending a payment or batch is idempotent.
"""


def build_openapi() -> dict[str, object]:
    """The published OpenAPI document, without a database (for docs/reference/openapi.json)."""
    app = _bare_app()
    return app.openapi()


def _bare_app() -> FastAPI:
    app = FastAPI(
        title="Saldo",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # served by saldo.web.apidocs, with Swagger UI's files from Saldo itself
        redoc_url=None,
    )
    configure_pages()
    install_error_handlers(app, PAGE_HANDLERS)
    app.include_router(start_router)
    app.include_router(api_reference_router)
    app.include_router(payers_router)
    app.include_router(benefits_router)
    app.include_router(payments_router)
    app.include_router(decisions_router)
    app.include_router(registers_router)
    app.include_router(accounts_router)
    app.include_router(mediation_router)
    app.include_router(messages_router)
    app.include_router(notifications_router)
    app.include_router(requests_router)
    app.include_router(cases_router)
    app.include_router(notifications_staff_router)
    app.include_router(requests_staff_router)
    app.include_router(oversight_router)
    app.include_router(citizens_api_router)
    app.include_router(eessi_router)
    app.include_router(eessi_as4_router)
    app.include_router(onceonly_as4_router)
    app.include_router(credentials_router)
    app.include_router(credentials_public_router)
    app.include_router(applications_router)
    app.include_router(foreign_login_pages)  # before identity's /login/{name}
    app.include_router(identity_pages)
    app.include_router(citizens_pages)
    app.include_router(oversight_pages)
    app.include_router(cases_pages)
    app.include_router(eessi_pages)
    app.include_router(verifier_pages)
    app.include_router(application_pages)
    app.include_router(evidence_pages)
    app.include_router(payer_pages)
    app.include_router(notification_pages)
    app.include_router(request_pages)
    app.include_router(dev_provider_router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), name="static")
    return app


def create_app(
    settings: Settings, *, engine: Engine | None = None, fast_path_pool: AsyncConnectionPool | None = None
) -> FastAPI:
    """Build the web application. ``engine`` lets a caller share one it already has (tests, demo);
    ``fast_path_pool`` gives the fast paths their connections (tests give one inside their own
    transaction, so the fast paths see what a test wrote before it is committed)."""
    refuse_unsafe_login(settings)
    app = _bare_app()
    db_engine = engine or create_db_engine(settings)
    app.state.settings = settings
    provide_with(statement_evidence(settings.authority_name))  # what this node sends as evidence abroad
    app.state.engine = db_engine
    app.state.session_factory = create_session_factory(db_engine)
    replica = create_db_engine(settings, url=settings.read_replica_url) if settings.read_replica_url else None
    app.state.reads = Reads(replica, max_lag_seconds=settings.read_replica_max_lag_seconds)
    if replica is not None:
        app.router.add_event_handler("shutdown", replica.dispose)
    # the relying party's calls to eID providers (discovery, token, userinfo)
    app.state.oidc_http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
    app.router.add_event_handler("shutdown", app.state.oidc_http.aclose)
    # payment files sent in the browser are checked here, beside the requests (docs/payer-pages.md)
    app.state.upload_checks = ThreadPoolExecutor(max_workers=64, thread_name_prefix="saldo-upload")
    app.state.upload_slots = threading.BoundedSemaphore(UPLOAD_CHECKS)
    app.router.add_event_handler("shutdown", lambda: app.state.upload_checks.shutdown(wait=True))
    delete_left_behind(upload_folder(settings.data_dir))
    arm(settings.halt_at, settings.halted_dir)  # crash tests only; unset, nothing halts
    # parts of a large file whose process ended between committing the batch and its parts
    _settle_while_serving(app, db_engine)
    if settings.fast_path:
        pool = fast_path_pool or _fast_path_pool(db_engine, settings)
        handlers: dict[str, Handler] = {
            VOP_PATH: VopChecks(pool, thresholds_from(settings)),
            PAYMENTS_PATH: PaymentRegistration(pool, RegistrationPolicy.from_settings(settings)),
        }
        # beside a replica, the overview and a plain listing page are read there (decision 0039)
        reads = None
        if replica is not None:
            reads = AsyncReads(
                partial(_fast_path_pool, replica, settings), max_lag_seconds=settings.read_replica_max_lag_seconds
            )
            app.router.add_event_handler("shutdown", reads.close)
        overview = CitizenOverviews(
            pool,
            idle_minutes=settings.session_idle_minutes,
            wallet_designation=settings.wallet_designation,
            reads=reads,
        )
        listings = PaymentListings(pool, reads)
        app.add_middleware(FastPath, pool=pool, handlers=handlers, overview=overview, listings=listings)
        app.router.add_event_handler("shutdown", pool.close)
    # outermost: every answer, the fast paths' too, carries the security headers
    app.add_middleware(SecurityLayer, hosts=settings.served_hosts, https=settings.base_url.startswith("https://"))
    return app


def _fast_path_pool(engine: Engine, settings: Settings) -> AsyncConnectionPool:
    """The fast paths' connections to the database of ``engine``, opened by the first request.
    Autocommit: each statement stands alone, and returning it to the pool costs no COMMIT."""
    return AsyncConnectionPool(
        engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
        min_size=min(4, settings.db_pool_size),
        max_size=settings.db_pool_size,
        open=False,
        kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
        timeout=FAST_PATH_WAIT_S,
    )


class UnsafeSettingsError(RuntimeError):
    """Settings Saldo refuses to serve with."""


def refuse_unsafe_login(settings: Settings) -> None:
    """The development eID lets anyone in as anyone: only for a demo on this machine, alone."""
    if not settings.dev_login:
        return
    if settings.oidc_providers:
        raise UnsafeSettingsError(
            "SALDO_DEV_LOGIN is for a demo: it cannot be on beside real eID providers (SALDO_OIDC_PROVIDERS)"
        )
    listening = settings.host.strip("[]")
    if listening not in LOOPBACK_NAMES:
        raise UnsafeSettingsError(
            f"SALDO_DEV_LOGIN is for a demo on this machine: Saldo must listen on a loopback address, not {listening}"
        )


def _settle_while_serving(app: FastAPI, engine: Engine) -> None:
    """Settle what an ended process left prepared, at start and every few seconds while serving,
    beside the requests: the app starts (and answers 503) even while its database is unreachable."""
    stops: list[Callable[[], None]] = []
    app.router.add_event_handler("startup", lambda: stops.append(settle_parts_continuously(engine)))
    app.router.add_event_handler("shutdown", lambda: [stop() for stop in stops])


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory``: each worker process builds its app from SALDO_* settings.

    What is loaded by now (modules, templates, the app) lives as long as the process: frozen, the
    garbage collector's full passes no longer walk it, so they no longer stall requests now and
    then (the citizen overview's p99, docs/benchmarks.md)."""
    app = create_app(Settings())
    gc.collect()
    gc.freeze()
    return app
