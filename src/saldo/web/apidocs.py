"""The interactive API reference at ``/docs``, served wholly by Saldo: Swagger UI's files come from
the swagger-ui-py package (docs/decisions/0018-api-reference-served-locally.md), the page that starts
it is a static script of ours, so the reference needs no third party and no inline script — an
authority's network may not reach a CDN, and a page where people paste tokens loads nothing from
anyone else."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException

from saldo import __version__

router = APIRouter(include_in_schema=False)


def _swagger_folder() -> Path:
    spec = importlib.util.find_spec("swagger_ui")  # found, not imported: only its files are used
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing; it is a dependency of Saldo")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Saldo {__version__} · API reference</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_reference() -> HTMLResponse:
    """The API reference, drawn in the browser from ``/openapi.json``."""
    return HTMLResponse(_PAGE)


@router.get("/docs/assets/{name}")
def api_reference_asset(name: str) -> FileResponse:
    """One of Swagger UI's files, as the package ships it; nothing else from its folder."""
    if name not in ASSETS:
        raise HTTPException(404, "no such file")
    return FileResponse(
        _swagger_folder() / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
    )
