"""Named points where a crash test stops a process so that it can be killed exactly there.

A process is armed with one point name (``SALDO_HALT_AT``, read by Settings and handed to ``arm``
at the process's entry: the command line and the app factory). When the running code reaches
that point, the process writes its pid to ``<folder>/<point>`` and sleeps until it is killed; the
test waits for that file and sends SIGKILL. Unarmed, ``reach`` is one dictionary look-up. The
names and where they sit are listed in docs/operations.md."""

from __future__ import annotations

import os
import time
from pathlib import Path

_armed: dict[str, Path] = {}


def arm(point: str | None, folder: Path) -> None:
    """Make this process halt at ``point`` (None: halt nowhere)."""
    _armed.clear()
    if point:
        _armed[point] = folder


def reach(point: str) -> None:
    """Halt here, forever, if this process was armed with ``point``."""
    folder = _armed.get(point)
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / point
    partial = marker.with_name(f".{point}.partial")
    partial.write_text(f"{os.getpid()}\n", encoding="ascii")
    partial.replace(marker)
    while True:  # only SIGKILL ends this: no signal handler or wake-up lets the code go on
        time.sleep(3600)
