"""Every check of who a request comes from, found where each domain declares its own: the
``require_*`` dependencies of ``saldo.<domain>.http``. Found from the folders, so a new domain's
callers are known the day its ``http.py`` appears (the route guard test holds every route to them)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from functools import cache
from typing import Any

import saldo


@cache
def auth_dependencies() -> dict[str, Callable[..., Any]]:
    """Each ``require_*`` dependency by name (``require_payer``, ``require_citizen`` …)."""
    found: dict[str, Callable[..., Any]] = {}
    for package in pkgutil.iter_modules(saldo.__path__):
        if not package.ispkg or importlib.util.find_spec(f"saldo.{package.name}.http") is None:
            continue
        module = importlib.import_module(f"saldo.{package.name}.http")
        for name, value in vars(module).items():
            if name.startswith("require_") and callable(value) and value.__module__ == module.__name__:
                found[name] = value
    return found
