"""Every route of the app, as the guard-rail tests walk them.

FastAPI (0.165) keeps an included router as one entry of ``app.routes`` that resolves to its routes
only when asked; ``isinstance(route, APIRoute)`` over ``app.routes`` alone finds none of them, and
a test over them would check nothing. This walks the included routers down to each route."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


def _walk(routes: Iterable[object]) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router
            found += _walk(route.effective_candidates())
        else:
            original = getattr(route, "original_route", route)  # a route as included: its own path and checks
            assert isinstance(original, BaseRoute)
            found.append(original)
    return found


def all_routes(app: FastAPI) -> list[BaseRoute]:
    return _walk(app.routes)


def api_routes(app: FastAPI) -> list[APIRoute]:
    """The routes FastAPI serves with dependencies: the API and the pages."""
    routes = [r for r in all_routes(app) if isinstance(r, APIRoute)]
    assert len(routes) > 50, "the walk found too few routes: has FastAPI changed how it keeps them?"
    return routes
