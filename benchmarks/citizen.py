"""The citizen's overview under load: pages and the JSON behind them, per second, with latency.

Target (issue: web): on a database of 10 million persons and 100 million payments, the overview
page >= 1,000 pages/s on 2 cores with p99 < 100 ms, and its JSON >= 3,000 requests/s.

    uv run python -m benchmarks.citizen [--database saldo_bench_analysis_export] [--sessions 5000]
                                        [--workers 1] [--connections 8] [--seconds 20] [--runs 3]

Uses the largest country already loaded for another benchmark (by default the snapshot-export one:
1.45 million persons, 9.8 million payments; `benchmarks/analysis.py export` builds it), migrated to
the current schema. Opens --sessions citizen sessions for persons drawn at random among those with
payments (as an eID login would), serves with `saldo serve --workers N` (one by default: on two
cores that also run PostgreSQL and wrk a second worker only competes for them), and drives `/me` and
`/api/v1/me/overview` with wrk, each request as a random one of those citizens. Any response but
200 counts as an error."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import ensure_wrk, median, migrated_database, report, run_wrk, start_server
from saldo.db.engine import create_db_engine
from saldo.identity.models import Audience
from saldo.identity.service import open_session
from saldo.identity.service.oidc import VerifiedIdentity
from saldo.settings import Settings

LUA = """
local cookies = {}
local n = 0
function init(args)
  for line in io.lines(args[1]) do n = n + 1; cookies[n] = line end
  math.randomseed(os.time() + math.random(1, 100000))
end
function request()
  return wrk.format("GET", path, {["Cookie"] = "saldo_session=" .. cookies[math.random(1, n)] .. "; saldo_lang=sv"})
end
"""


def open_sessions(settings_url: str, count: int) -> tuple[list[str], dict[str, int]]:
    """Citizen sessions for persons with payments, as their logins would open them; and the sizes."""
    engine = create_db_engine(Settings(database_url=settings_url))
    with Session(engine) as session:
        sizes = {
            "payments": int(session.execute(text("SELECT count(*) FROM payments")).scalar_one()),
            "persons": int(session.execute(text("SELECT count(*) FROM payees WHERE kind = 'person'")).scalar_one()),
        }
        persons = session.execute(
            text(
                "SELECT p.id_scheme, p.identifier FROM payees p TABLESAMPLE SYSTEM (5) "
                "WHERE p.kind = 'person' AND EXISTS (SELECT 1 FROM payments x WHERE x.payee_id = p.id) LIMIT :n"
            ),
            {"n": count},
        ).all()
        secrets = []
        for scheme, identifier in persons:
            identity = VerifiedIdentity(
                provider="bench", subject=identifier, person_scheme=scheme, person_id=identifier, name="", loa="high"
            )
            secret, _ = open_session(session, identity, audience=Audience.CITIZEN, max_hours=24)
            secrets.append(secret)
        session.commit()
    engine.dispose()
    return secrets, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saldo_bench_analysis_export")
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = migrated_database(args.database, fresh=False)
    assert settings.database_url is not None
    secrets, sizes = open_sessions(settings.database_url, args.sessions)
    wrk = ensure_wrk()
    server, base = start_server(settings, args.workers)
    figures: dict[str, object] = {**sizes, "sessions": len(secrets), "workers": args.workers}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cookies = Path(tmp) / "cookies.txt"
            cookies.write_text("\n".join(secrets) + "\n", encoding="utf-8")
            for name, path in (("page", "/me"), ("json", "/api/v1/me/overview")):
                script = Path(tmp) / f"{name}.lua"
                script.write_text(f'path = "{path}"\n' + LUA, encoding="utf-8")
                run_wrk(wrk, base, script, connections=8, seconds=3, args=(str(cookies),))  # warm up
                runs = [
                    run_wrk(wrk, base, script, connections=args.connections, seconds=args.seconds, args=(str(cookies),))
                    for _ in range(args.runs)
                ]
                figures[name] = {
                    "runs": runs,
                    "requests_per_second": median([r["requests_per_second"] for r in runs]),
                    "p50_ms": median([r["p50_ms"] for r in runs]),
                    "p99_ms": median([r["p99_ms"] for r in runs]),
                    "errors": sum(int(r["non_2xx"]) for r in runs),
                }
    finally:
        server.terminate()
        server.wait(timeout=30)
    report("citizen", figures)


if __name__ == "__main__":
    main()
