"""What a process that died left behind: removed once nothing in it changed for the time given,
never while anything in it is newer, and never what it was not asked to pick."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from saldo.kit.leftovers import LEFT_BEHIND_AFTER, last_changed, remove_left_behind

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def aged(path: Path, age: dt.timedelta) -> Path:
    at = (NOW - age).timestamp()
    os.utime(path, (at, at))
    return path


def test_old_entries_it_picks_go_and_everything_else_stays(tmp_path: Path) -> None:
    old_file = tmp_path / "a.part"
    old_file.write_bytes(b"x")
    aged(old_file, LEFT_BEHIND_AFTER + dt.timedelta(minutes=1))
    fresh_file = tmp_path / "b.part"
    fresh_file.write_bytes(b"x")
    aged(fresh_file, LEFT_BEHIND_AFTER - dt.timedelta(minutes=1))
    other = tmp_path / "c.csv"
    other.write_bytes(b"x")
    aged(other, dt.timedelta(days=30))

    old_folder = tmp_path / ".old"
    (old_folder / "deep").mkdir(parents=True)
    (old_folder / "deep" / "f").write_bytes(b"x")
    for path in (old_folder / "deep" / "f", old_folder / "deep", old_folder):
        aged(path, dt.timedelta(days=2))
    busy_folder = tmp_path / ".busy"
    busy_folder.mkdir()
    (busy_folder / "g").write_bytes(b"x")
    aged(busy_folder / "g", dt.timedelta(hours=1))  # written an hour ago: still in use
    aged(busy_folder, dt.timedelta(days=2))

    def picks(path: Path) -> bool:
        return path.suffix == ".part" or path.name.startswith(".")

    removed = remove_left_behind(tmp_path, picks, now=NOW)

    assert removed == [old_folder, old_file]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".busy", "b.part", "c.csv"]
    assert (busy_folder / "g").exists()


def test_the_time_given_is_the_one_kept_to(tmp_path: Path) -> None:
    entry = tmp_path / "x.part"
    entry.write_bytes(b"x")
    aged(entry, dt.timedelta(hours=2))
    assert remove_left_behind(tmp_path, lambda _: True, after=dt.timedelta(hours=3), now=NOW) == []
    assert remove_left_behind(tmp_path, lambda _: True, after=dt.timedelta(hours=1), now=NOW) == [entry]


def test_a_missing_folder_holds_nothing_and_a_vanished_entry_is_in_use(tmp_path: Path) -> None:
    assert remove_left_behind(tmp_path / "never-made", lambda _: True, now=NOW) == []
    assert last_changed(tmp_path / "gone") is None
    folder = tmp_path / "f"
    folder.mkdir()
    aged(folder, dt.timedelta(days=3))
    assert last_changed(folder) == (NOW - dt.timedelta(days=3)).timestamp()
