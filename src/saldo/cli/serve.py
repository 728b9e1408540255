"""``saldo serve``: the web application under uvicorn."""

from __future__ import annotations

import typer

from saldo.cli.context import cli_context


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Address to listen on (default: SALDO_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (default: SALDO_PORT)."),
    workers: int | None = typer.Option(None, help="Worker processes (default: SALDO_WORKERS)."),
) -> None:
    """Serve the payer API and the web pages."""
    import uvicorn

    settings = cli_context(ctx).settings
    uvicorn.run(
        "saldo.app:app_from_environment",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=False,
        log_level="warning",
        # X-Forwarded-For/-Proto are believed from the configured TLS proxies only, never from anyone
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        ssl_certfile=settings.tls_certificate,
        ssl_keyfile=settings.tls_key,
    )
