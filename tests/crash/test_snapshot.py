"""An analysis snapshot export killed part way (``saldo analysis snapshot``, SIGKILL after its first
table is written) records nothing and leaves only dot-folders; the next export makes a whole
snapshot, and removes what the dead one left once it is a day old, never a fresh one that a running
export may be using."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from sqlalchemy import func, select

from saldo.analysis.models import Snapshot
from saldo.analysis.service.snapshot import verify_snapshot
from saldo.cli.country import load_country
from saldo.synthetic.country import generate_country
from tests.crash.conftest import Lab

POINT = "snapshot.table_written"


def _snapshots(lab: Lab) -> int:
    with lab.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Snapshot)) or 0)


def _age(folder: Path, days: float) -> None:
    """Every file in ``folder`` and the folder itself last changed ``days`` ago."""
    then = time.time() - days * 86_400
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (then, then))


def test_an_export_killed_part_way_records_nothing_and_the_next_is_whole_and_clears_up(lab: Lab) -> None:
    country = lab.folder / "country"
    generate_country(country, persons=300, seed=3, as_of=dt.date(2026, 11, 22), anomaly_rate=0.01)
    load_country(lab.sessions, lab.settings, country, loaded_by="staff:test")

    lab.kill_at(lab.start("analysis", "snapshot", halt_at=POINT), POINT)
    assert _snapshots(lab) == 0
    left = sorted(lab.settings.snapshots.iterdir())
    assert len(left) == 2  # the partial snapshot (its payments written) and its DuckDB work folder
    assert all(path.name.startswith(".") for path in left)
    assert any((path / "payments.parquet").exists() for path in left)

    # A day and a bit later; and a fresh dot-folder, as a running export's would be.
    for path in left:
        _age(path, 1.1)
    running = lab.settings.snapshots / ".20261205T120000000000Z-abc123"
    running.mkdir()

    output = lab.finish(lab.start("analysis", "snapshot"))
    assert "snapshot 1 " in output, output
    assert _snapshots(lab) == 1
    with lab.sessions() as session:
        taken = session.scalars(select(Snapshot)).one()
    assert verify_snapshot(Path(taken.path)) == []
    assert sorted(lab.settings.snapshots.iterdir()) == sorted([Path(taken.path), running])
