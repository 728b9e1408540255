"""What a process that died left behind in a folder (a received file it was checking, a snapshot it
was writing), removed once nothing in it has changed for a while: long enough that no running
process can still be using it, as each user of this module says why for its own files."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

LEFT_BEHIND_AFTER = dt.timedelta(days=1)


def remove_left_behind(
    folder: Path,
    belongs: Callable[[Path], bool],
    *,
    after: dt.timedelta = LEFT_BEHIND_AFTER,
    now: dt.datetime | None = None,
) -> list[Path]:
    """Remove each entry of ``folder`` that ``belongs`` picks (a file, or a folder with all it holds)
    where nothing has changed for ``after``; what was removed. A missing folder holds nothing, and an
    entry another process removes meanwhile is passed over."""
    cutoff = ((now or dt.datetime.now(dt.UTC)) - after).timestamp()
    removed = []
    for entry in sorted(folder.iterdir()) if folder.is_dir() else ():
        if not belongs(entry) or (touched := last_changed(entry)) is None or touched >= cutoff:
            continue
        try:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:  # another process removed it first
            continue
        removed.append(entry)
    return removed


def last_changed(entry: Path) -> float | None:
    """When ``entry`` (and, for a folder, anything in it) last changed, as a POSIX time; None when
    something in it went away while looking: it is in use."""
    try:
        paths = [entry, *entry.rglob("*")] if entry.is_dir() else [entry]
        return max(path.stat().st_mtime for path in paths)
    except FileNotFoundError:
        return None
