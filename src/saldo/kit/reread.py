"""A file read and parsed once, and read again when it changes on disk (directories of partners,
trust lists): the parse is cached by the file's write time, per process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loaded: dict[tuple[Path, Callable[..., Any]], tuple[float, Any]] = {}


def reread_when_changed(path: Path, parse: Callable[[str, str], T], unreadable: Callable[[str], Exception]) -> T:
    """``parse(text, where)`` of the file at ``path``, parsed again only when its write time changed.
    A file that cannot be read raises ``unreadable(reason)``."""
    try:
        mtime = path.stat().st_mtime
    except OSError as error:
        raise unreadable(f"{path}: cannot be read ({error.strerror})") from error
    key = (path, parse)
    with _lock:
        cached = _loaded.get(key)
        if cached is not None and cached[0] == mtime:
            return cached[1]  # type: ignore[no-any-return]
    parsed = parse(path.read_text(encoding="utf-8"), str(path))
    with _lock:
        _loaded[key] = (mtime, parsed)
    return parsed
