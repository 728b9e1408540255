"""Foreign eID logins through the eIDAS network: how many answers `saldo serve` (two workers) takes
in a second — the signed, encrypted assertion checked (signature, decryption, destination, audience,
validity, InResponseTo used once, level of assurance, PersonIdentifier), the person matched by name
and birth date among the account holders, the login recorded and the session made.

    .venv/bin/python -m benchmarks.eidas_logins [--persons 10000] [--logins 3000] [--seconds 10] [--runs 3]

The answers come from pysaml2's identity provider with Debian's xmlsec1 encrypting
(tests/crossborder/connector.py), made before the clock starts, one per login request Saldo sent;
wrk (Debian package `wrk`, installed with apt-get when missing) posts them to the assertion
consumer service on eight connections, each answer once, as eight browsers would: a Python client
on the same two cores took a good part of them from Saldo. Target (issue 21): ≥ 200 foreign
eID logins/s on 2 cores."""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx

from benchmarks.common import WORK, ensure_wrk, free_port, fresh_database, median, report, start_server
from saldo.banks.service import create_bank, issue_bank_token
from saldo.db.engine import create_db_engine, create_session_factory
from saldo.settings import Settings
from tests.crossborder.connector import Connector, Person, key_and_certificate
from tests.factories import account_record, pnr, se_iban

DATABASE = "saldo_bench_eidas"
GIVEN = ("Matti", "Aino", "Juha", "Helmi", "Mikko", "Liisa", "Antti", "Sanna", "Kari", "Outi")
FAMILY = ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Hämäläinen", "Laine", "Heikkinen", "Koskinen")


def _person(i: int) -> tuple[str, str, str]:
    """(personnummer here, name, birth date): each of the first 16,800 born on a day of their own."""
    born = f"19{50 + i % 50:02d}{1 + i // 50 % 12:02d}{1 + i // 600 % 28:02d}"
    name = f"{GIVEN[i % 10]} {FAMILY[i // 10 % 8]}"
    return pnr(i % 1000, born), name, f"{born[:4]}-{born[4:6]}-{born[6:]}"


def _accounts(settings: Settings) -> str:
    engine = create_db_engine(settings)
    with create_session_factory(engine)() as session:
        bank = create_bank(session, bic="ESSESESS", name="SEB")
        token = issue_bank_token(session, bank_id=bank.id, label="bench").token
        session.commit()
    engine.dispose()
    return token


def _report_accounts(base: str, token: str, persons: int) -> None:
    with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
        for start in range(0, persons, 1000):
            records = [
                account_record(se_iban(i), (number, name))
                for i in range(start, min(start + 1000, persons))
                for number, name, _ in [_person(i)]
            ]
            answer = client.post("/api/v1/bank/accounts", json={"accounts": records})
            if answer.status_code != 200:
                raise RuntimeError(f"the bank's report was refused: {answer.text[:500]}")


def _answers(args: tuple[str, str, list[int], str, str]) -> list[str]:
    """The Connector's answers to fresh login requests (one process of the pool)."""
    base, folder, people, sp_metadata, sp_cert = args
    connector = Connector(Path(folder), reuse_keys=True)
    connector.sp_cert = Path(sp_cert)
    connector.trust(sp_metadata)
    made = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for i in people:
            _, name, born = _person(i)
            given, family = name.split(" ", 1)
            redirect = client.get("/login/eidas", follow_redirects=False).headers["location"]
            made.append(connector.answer(redirect, Person(f"FI/SE/FI-{i}", given, family, born)))
    return made


# Each of wrk's threads posts its own answers, each once; the logins opened (303) are counted by
# the script, not wrk's request count. A thread out of answers asks for /health (not counted).
WRK_SCRIPT = """
local threads, serial = {}, 0
function setup(thread)
  thread:set("id", serial)
  serial = serial + 1
  table.insert(threads, thread)
end
function init(args)
  bodies, next_one, opened, refused = {}, 0, 0, 0
  for line in io.lines(args[1] .. "." .. id) do bodies[#bodies + 1] = line end
end
function request()
  next_one = next_one + 1
  if next_one > #bodies then return wrk.format("GET", "/health") end
  return wrk.format("POST", "/auth/saml/acs", {["Content-Type"] = "application/x-www-form-urlencoded"},
                    bodies[next_one])
end
function response(status, headers, body)
  if status == 303 then opened = opened + 1 elseif status ~= 200 then refused = refused + 1 end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("thread %d opened %d refused %d of %d\\n", t:get("id"), t:get("opened"),
                           t:get("refused"), #t:get("bodies")))
  end
  io.write(string.format("seconds %f\\n", summary.duration / 1e6))
end
"""


def _logins(wrk: str, base: str, answers: list[str], *, seconds: int, folder: Path) -> tuple[float, int, int]:
    """The answers posted by wrk on eight connections (two threads) for ``seconds``: logins opened a
    second, the logins opened and the answers refused. Each post is a new browser (no cookies)."""
    script = folder / "acs.lua"
    script.write_text(WRK_SCRIPT)
    prefix = folder / "answers"
    for thread in range(2):
        lines = (urlencode({"SAMLResponse": answer}) for answer in answers[thread::2])
        Path(f"{prefix}.{thread}").write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        [wrk, "-t2", "-c8", f"-d{seconds}s", "-s", str(script), base, "--", str(prefix)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    counts = [tuple(map(int, m)) for m in re.findall(r"opened (\d+) refused (\d+) of (\d+)", out)]
    elapsed = float(re.search(r"seconds ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    opened, refused = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if any(c[0] + c[1] >= c[2] for c in counts):
        raise RuntimeError(f"wrk ran out of answers in {seconds} s: make more ({counts})")
    return opened / elapsed, opened, refused


def _one_at_a_time(base: str, answers: list[str]) -> float:
    """The median time of a login's answer, posted alone (one client, nothing else running)."""
    took = []
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
        for answer in answers:
            began = time.perf_counter()
            assert client.post("/auth/saml/acs", data={"SAMLResponse": answer}).status_code == 303
            took.append((time.perf_counter() - began) * 1000)
    return median(took)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--logins", type=int, default=3000, help="answers made for each run (enough for it)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = fresh_database(DATABASE)
    assert settings.database_url
    folder = WORK / "eidas-bench"
    folder.mkdir(parents=True, exist_ok=True)
    connector = Connector(folder)
    sp_key, sp_cert = key_and_certificate(folder, "saldo-sp")
    port = free_port()
    env = {
        "SALDO_EIDAS_CONNECTOR_METADATA": str(connector.metadata()),
        "SALDO_EIDAS_SP_KEY": str(sp_key),
        "SALDO_EIDAS_SP_CERT": str(sp_cert),
        "SALDO_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    wrk = ensure_wrk()
    token = _accounts(settings)
    server, base = start_server(settings, 2, extra_env=env, port=port)
    try:
        _report_accounts(base, token, args.persons)
        sp_metadata = httpx.get(f"{base}/auth/saml/metadata").text
        rates, opened, alone = [], [], []
        for run in range(args.runs):
            people = list(range(run * args.logins, (run + 1) * args.logins + 50))
            chunks = [people[i::2] for i in range(2)]
            jobs = [(base, str(folder), chunk, sp_metadata, str(sp_cert)) for chunk in chunks]
            with ProcessPoolExecutor(2) as pool:
                made = [answer for part in pool.map(_answers, jobs) for answer in part]
            rate, sessions, refused = _logins(wrk, base, made[: args.logins], seconds=args.seconds, folder=folder)
            if refused:
                raise RuntimeError(f"{refused} answers refused: each should open a session")
            rates.append(rate)
            opened.append(sessions)
            alone.append(_one_at_a_time(base, made[args.logins :]))
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(
        "eidas_logins",
        {
            "persons_with_accounts": args.persons,
            "load": f"wrk -t2 -c8 -d{args.seconds}s, each answer posted once",
            "logins_per_s": [round(r, 1) for r in rates],
            "logins_per_s_median": round(median(rates), 1),
            "sessions_opened": opened,
            "one_at_a_time_ms_median_of_50": [round(a, 1) for a in alone],
        },
    )


if __name__ == "__main__":
    main()
